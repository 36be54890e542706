import { registerWasmGradientKernels, SamOptimizer } from '@mup2/core';
import { seededRandom } from '@mup2/core/testing';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { sam } from './sam.js';

// A stock tfjs-layers CNN (conv2d, depthwiseConv2d, BatchNorm, strided conv, pooling) trained with
// SamOptimizer in model.fit. On wasm it needs the gradient kernels @mup2/core registers: without
// them its first batch fails with "Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'".

const SIZE = 8;
const CLASSES = 4;

/** Images with a bright 3×3 blob in one of four quadrants (the class), on seeded noise. */
function makeImages(count: number, seed: number) {
  const uniform = seededRandom(seed);
  const labels = Array.from({ length: count }, (_, index) => index % CLASSES);
  const pixels = new Float32Array(count * SIZE * SIZE);
  labels.forEach((label, index) => {
    const top = label < 2 ? 1 : 4;
    const left = label % 2 === 0 ? 1 : 4;
    for (let row = 0; row < SIZE; row++)
      for (let col = 0; col < SIZE; col++) {
        const inBlob = row >= top && row < top + 3 && col >= left && col < left + 3;
        pixels[(index * SIZE + row) * SIZE + col] = (inBlob ? 1 : 0) + 0.3 * (uniform() - 0.5);
      }
  });
  return {
    x: tf.tensor4d(pixels, [count, SIZE, SIZE, 1]),
    y: tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), CLASSES).toFloat()),
  };
}

function makeCnn(): tf.Sequential {
  const seeded = (seed: number) => tf.initializers.glorotUniform({ seed });
  return tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [SIZE, SIZE, 1],
        filters: 6,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: seeded(1),
      }),
      tf.layers.batchNormalization(),
      tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', depthwiseInitializer: seeded(2) }),
      tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', kernelInitializer: seeded(3) }),
      tf.layers.batchNormalization(),
      tf.layers.activation({ activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: CLASSES, activation: 'softmax', kernelInitializer: seeded(4) }),
    ],
  });
}

describe(`a stock tfjs-layers CNN with BatchNorm trains with SamOptimizer in model.fit on ${tf.getBackend()}`, () => {
  it('the loss falls, accuracy leaves chance, numTensors stays flat, predictions stay finite', async () => {
    if (tf.getBackend() === 'wasm') {
      expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined(); // what fails without @mup2/core
      registerWasmGradientKernels();
    }
    const model = makeCnn();
    const optimizer = new SamOptimizer({ base: tf.train.momentum(0.05, 0.9), rule: sam({ rho: 0.05 }) });
    model.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    const train = makeImages(64, 1);
    const tensorsAfterEpoch: number[] = [];
    const history = await model.fit(train.x, train.y, {
      epochs: 8,
      batchSize: 16,
      shuffle: false,
      verbose: 0,
      callbacks: { onEpochEnd: async () => void tensorsAfterEpoch.push(tf.memory().numTensors) },
    });
    const losses = history.history.loss as number[];
    expect(losses.at(-1) as number).toBeLessThan(0.5 * (losses[0] as number));
    expect((history.history.acc as number[]).at(-1) as number).toBeGreaterThan(0.75);
    expect(new Set(tensorsAfterEpoch.slice(1))).toEqual(new Set([tensorsAfterEpoch[1]]));
    expect(optimizer.iterations).toBe(32);
    const test = makeImages(16, 2);
    const predictions = tf.tidy(() => (model.predict(test.x) as tf.Tensor).argMax(-1).arraySync() as number[]);
    const labels = tf.tidy(() => test.y.argMax(-1).arraySync() as number[]);
    const correct = predictions.filter((label, index) => label === labels[index]).length;
    expect(correct).toBeGreaterThan(8); // chance is 4 of 16
    tf.dispose([train.x, train.y, test.x, test.y]);
    model.dispose();
    optimizer.dispose();
  });
});
