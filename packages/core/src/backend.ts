import { chooseBackend, type InitBackendOptions } from './backend-choice.js';

export type { InitBackendOptions } from './backend-choice.js';

/** The package that registers each browser backend when the application imports it. */
const BROWSER_BACKEND_PACKAGES: Record<string, string> = {
  webgpu: '@tensorflow/tfjs-backend-webgpu',
  webgl: '@tensorflow/tfjs-backend-webgl',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
};
const PREFERRED = Object.keys(BROWSER_BACKEND_PACKAGES);

/**
 * Picks and initialises the TF.js backend outside Node, e.g. in a browser: `backend`
 * if given, else the first of webgpu, webgl, wasm, cpu that is registered and
 * initialises. It imports nothing: a backend is registered by the application
 * importing its package (`@tensorflow/tfjs` registers webgl and cpu), so the bundler
 * sees every backend the page ships. On wasm it registers the convolution gradient
 * kernels wasm lacks (registerWasmGradientKernels). Returns the name and logs it in one
 * line. See docs/browser.md.
 *
 * In Node, `@mup2/core` resolves (through its `node` export condition) to an
 * initBackend that also imports tfjs-node or the wasm backend and reads MUP2_BACKEND.
 */
export function initBackend(options: InitBackendOptions = {}): Promise<string> {
  return chooseBackend(options, {
    preferred: PREFERRED,
    register: async (name) =>
      `it is not registered; import ${BROWSER_BACKEND_PACKAGES[name] ?? 'its backend package'} before initBackend`,
    requested: () => undefined,
    log: (message) => console.info(message),
    expected: `one of ${PREFERRED.join(', ')}, registered by importing its package`,
  });
}
