// Every test file runs on one TF.js backend: MUP2_BACKEND if set, else wasm
// (the embedded default users get), registered by the full @tensorflow/tfjs
// bundle (tfjs-core alone registers no gradients).
import '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';

const backend = process.env.MUP2_BACKEND || 'wasm';
if (!(await tf.setBackend(backend))) throw new Error(`test setup: backend '${backend}' failed to initialise`);
await tf.ready();
