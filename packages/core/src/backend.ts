import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { BackendError } from './errors.js';

export interface InitBackendOptions {
  /** A backend to use; overrides MUP2_BACKEND. 'tensorflow' needs @tensorflow/tfjs-node(-gpu) installed. */
  readonly backend?: string;
  /** Where to say which backend won. Default: a line on stderr. Pass `() => {}` for silence. */
  readonly log?: (message: string) => void;
}

/** Packages that register a backend when imported, by the backend's name. */
const BACKEND_PACKAGES: Record<string, readonly string[]> = {
  tensorflow: ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'],
  wasm: ['@tensorflow/tfjs-backend-wasm'],
  cpu: ['@tensorflow/tfjs-backend-cpu'],
};

/**
 * Imports a backend package from our own dependencies, else from the
 * application's (the working directory's): tfjs-node is never our dependency
 * (its install downloads libtensorflow), so under pnpm's strict layout only the
 * application can see it.
 */
async function importFromHereOrApp(name: string): Promise<void> {
  try {
    // A variable specifier keeps bundlers from resolving optional packages at build time.
    await import(/* @vite-ignore */ name);
  } catch (error) {
    let resolved: string;
    try {
      resolved = createRequire(join(process.cwd(), 'package.json')).resolve(name);
    } catch {
      throw error;
    }
    await import(/* @vite-ignore */ pathToFileURL(resolved).href);
  }
}

async function importFirst(packages: readonly string[]): Promise<string | undefined> {
  for (const name of packages) {
    try {
      await importFromHereOrApp(name);
      return name;
    } catch {
      // Not installed (or its native part failed to load): try the next one.
    }
  }
  return undefined;
}

async function tryBackend(name: string): Promise<{ ok: boolean; reason?: string }> {
  if (tf.findBackendFactory(name) === null) {
    const packages = BACKEND_PACKAGES[name];
    const imported = packages ? await importFirst(packages) : undefined;
    if (imported === undefined || tf.findBackendFactory(name) === null) {
      return { ok: false, reason: packages ? `none of ${packages.join(', ')} could be imported` : 'unknown backend' };
    }
  }
  try {
    const ok = await tf.setBackend(name);
    if (ok) await tf.ready();
    return ok ? { ok } : { ok, reason: 'its initialisation failed' };
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Picks and initialises the TF.js backend (DESIGN.md §3): an explicit choice
 * (`backend` or the MUP2_BACKEND environment variable), else 'tensorflow' when
 * @tensorflow/tfjs-node-gpu or @tensorflow/tfjs-node can be imported, else
 * 'wasm' (@tensorflow/tfjs-backend-wasm), else 'cpu'. Returns the name and logs it.
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<string> {
  const log = options.log ?? ((message: string) => process.stderr.write(`${message}\n`));
  const requested = options.backend ?? (typeof process !== 'undefined' ? process.env.MUP2_BACKEND : undefined);
  if (requested !== undefined && requested !== '') {
    const result = await tryBackend(requested);
    if (!result.ok) {
      throw new BackendError(
        `backend '${requested}' was requested but cannot be used: ${result.reason}. ` +
          `Expected one of ${Object.keys(BACKEND_PACKAGES).join(', ')} with its package installed.`,
      );
    }
    log(`[mup2] backend: ${requested} (requested)`);
    return requested;
  }
  const tried: string[] = [];
  for (const name of ['tensorflow', 'wasm', 'cpu']) {
    const result = await tryBackend(name);
    if (result.ok) {
      log(`[mup2] backend: ${name}${tried.length > 0 ? ` (unavailable: ${tried.join('; ')})` : ''}`);
      return name;
    }
    tried.push(`${name}: ${result.reason}`);
  }
  throw new BackendError(`no TF.js backend could be initialised (${tried.join('; ')}).`);
}
