import * as tf from '@tensorflow/tfjs-core';
import { BackendError } from './errors.js';
import { assertOwnBackends } from './tfjs-identity.js';
import { registerWasmGradientKernels } from './wasm-gradient-kernels.js';

/** Options of initBackend. */
export interface InitBackendOptions {
  /**
   * A backend to use. In Node it overrides MUP2_BACKEND, and 'tensorflow' needs
   * @tensorflow/tfjs-node(-gpu) installed; in a browser it must be registered already.
   */
  readonly backend?: string;
  /** Where to say which backend won. Default: a line on stderr in Node, console.info in a browser. Pass `() => {}` for silence. */
  readonly log?: (message: string) => void;
  /**
   * When wasm wins, register the convolution gradient kernels it lacks (see registerWasmGradientKernels),
   * so that `tf.layers.conv2d` and depthwise convolutions train. Default true; the log line names them.
   */
  readonly wasmGradientKernels?: boolean;
}

/** Registers the wasm gradient kernels when wasm won (unless told not to), as words for the log line. */
function gradientKernelsFor(name: string, options: InitBackendOptions): string {
  if (name !== 'wasm' || options.wasmGradientKernels === false) return '';
  const registered = registerWasmGradientKernels();
  return registered.length > 0 ? ` + convolution gradients from @mup2/core (${registered.join(', ')})` : '';
}

/** What differs between Node and a browser in choosing a backend. */
export interface BackendEnvironment {
  /** The backends to try when none is requested, best first. */
  readonly preferred: readonly string[];
  /** Makes the factory of an unregistered backend available; returns why it could not, or undefined when it did. */
  readonly register: (name: string) => Promise<string | undefined>;
  /** The request made outside the code (Node: MUP2_BACKEND), if any. */
  readonly requested: () => string | undefined;
  readonly log: (message: string) => void;
  /** What a request should name, for the error that rejects one. */
  readonly expected: string;
}

async function tryBackend(name: string, environment: BackendEnvironment): Promise<{ ok: boolean; reason?: string }> {
  if (tf.findBackendFactory(name) === null) {
    const reason = await environment.register(name);
    if (reason !== undefined) return { ok: false, reason };
    if (tf.findBackendFactory(name) === null) return { ok: false, reason: 'its package registered no backend' };
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
 * Initialises the requested backend (`options.backend`, else the environment's
 * request), or else the first of `environment.preferred` that works, and logs the winner.
 */
export async function chooseBackend(options: InitBackendOptions, environment: BackendEnvironment): Promise<string> {
  const previous = tf.getBackend() as string | null | undefined;
  /** A backend built on another copy of tfjs-core is refused, and the one before it is back. */
  const assertOwnBackendsOrGoBack = async () => {
    try {
      assertOwnBackends('initBackend');
    } catch (error) {
      if (previous) await tf.setBackend(previous);
      throw error;
    }
  };
  const log = options.log ?? environment.log;
  const requested = options.backend ?? environment.requested();
  if (requested !== undefined && requested !== '') {
    const result = await tryBackend(requested, environment);
    if (!result.ok) {
      throw new BackendError(
        `backend '${requested}' was requested but cannot be used: ${result.reason}. Expected ${environment.expected}.`,
      );
    }
    await assertOwnBackendsOrGoBack();
    log(`[mup2] backend: ${requested} (requested)${gradientKernelsFor(requested, options)}`);
    return requested;
  }
  const tried: string[] = [];
  for (const name of environment.preferred) {
    const result = await tryBackend(name, environment);
    if (result.ok) {
      await assertOwnBackendsOrGoBack();
      const unavailable = tried.length > 0 ? ` (unavailable: ${tried.join('; ')})` : '';
      log(`[mup2] backend: ${name}${unavailable}${gradientKernelsFor(name, options)}`);
      return name;
    }
    tried.push(`${name}: ${result.reason}`);
  }
  throw new BackendError(`no TF.js backend could be initialised (${tried.join('; ')}).`);
}
