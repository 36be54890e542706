// Every test file runs on one TF.js backend: MUP2_BACKEND if set, else wasm
// (the embedded default users get), registered by the full @tensorflow/tfjs
// bundle (tfjs-core alone registers no gradients). vitest.config.ts runs each
// project once per backend, setting MUP2_BACKEND; 'tensorflow' needs
// `pnpm native:install` (docs/native-backend.md).
import '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';

const backend = process.env.MUP2_BACKEND || 'wasm';
if (backend === 'tensorflow') {
  try {
    await import('@tensorflow/tfjs-node');
  } catch (error) {
    throw new Error(
      `test setup: backend 'tensorflow' needs @tensorflow/tfjs-node with its addon: run \`pnpm native:install\` (${error instanceof Error ? error.message : String(error)})`,
    );
  }
}
if (!(await tf.setBackend(backend))) throw new Error(`test setup: backend '${backend}' failed to initialise`);
await tf.ready();
