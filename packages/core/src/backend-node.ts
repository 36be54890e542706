import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chooseBackend, type InitBackendOptions } from './backend-choice.js';
import { assertSingleTfjsCore } from './tfjs-core-copies.js';

/** Packages that register a backend when imported, by the backend's name. */
const NODE_BACKEND_PACKAGES: Record<string, readonly string[]> = {
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

/**
 * Picks and initialises the TF.js backend in Node: an explicit choice (`backend` or
 * the MUP2_BACKEND environment variable), else 'tensorflow' when
 * @tensorflow/tfjs-node-gpu or @tensorflow/tfjs-node can be imported, else 'wasm'
 * (@tensorflow/tfjs-backend-wasm), else 'cpu'. On wasm it registers the convolution
 * gradient kernels wasm lacks (registerWasmGradientKernels). Returns the name and logs
 * it in one line on stderr. Throws a DuplicateTfjsError, naming the copies and the fix, when the
 * project resolves more than one copy of @tensorflow/tfjs-core. See docs/quick-start.md and
 * docs/native-backend.md.
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<string> {
  assertSingleTfjsCore(import.meta.url, process.cwd(), 'initBackend');
  return chooseBackend(options, {
    preferred: Object.keys(NODE_BACKEND_PACKAGES),
    register: async (name) => {
      const packages = NODE_BACKEND_PACKAGES[name];
      if (packages === undefined) return 'unknown backend';
      return (await importFirst(packages)) === undefined
        ? `none of ${packages.join(', ')} could be imported`
        : undefined;
    },
    requested: () => process.env.MUP2_BACKEND,
    log: (message) => process.stderr.write(`${message}\n`),
    expected: `one of ${Object.keys(NODE_BACKEND_PACKAGES).join(', ')} with its package installed`,
  });
}
