// Test fixture for signal-safety.test.ts, run in a child process under `node --cpu-prof`: training
// steps of the MLP (784→1024→1024→10, batch 128) and the ViT on the active backend while V8's
// sampling profiler interrupts the main thread with signals. Prints "ok" when every step finished.
import { initBackend } from '@mup2/core';
import * as tf from '@tensorflow/tfjs';
import { createModel } from '../models/create-model.js';

await initBackend({ log: () => {} });
const cases = [
  { model: 'mlp', widthMult: 16, imageShape: [28, 28, 1], batch: 128, steps: 150 },
  { model: 'vit', widthMult: 1, imageShape: [32, 32, 3], batch: 16, steps: 10 },
] as const;
for (const { model: name, widthMult, imageShape, batch, steps } of cases) {
  const model = createModel({
    model: name,
    widthMult,
    parameterization: 'mup',
    imageShape: [...imageShape],
    classes: 10,
    seed: 1,
  });
  // A nonzero readout, so that every product of the backward pass runs on nonzero values.
  for (const v of model.trainableVariables)
    if (v.name.includes('readout')) v.assign(tf.randomNormal(v.shape, 0, 0.05, 'float32', 2));
  const x = tf.randomNormal([batch, ...imageShape], 0, 1, 'float32', 3);
  const y = tf.tensor1d(
    Array.from({ length: batch }, (_, i) => i % 10),
    'int32',
  );
  for (let step = 0; step < steps; step++) {
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => model.loss(x, y, { training: true }) as tf.Scalar);
      for (const v of model.trainableVariables) {
        const g = grads[v.name];
        if (g !== undefined) v.assign(tf.sub(v, tf.mul(g, 1e-3)));
      }
    });
  }
  tf.dispose([x, y]);
  model.dispose();
}
process.stdout.write(`ok ${tf.getBackend()}\n`);
