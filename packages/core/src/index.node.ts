// The entry Node resolves through the package's `node` export condition: the same API, with
// the initBackend that imports tfjs-node or the wasm backend, kept out of browser bundles.

export { initBackend } from './backend-node.js';
export * from './index.js';
