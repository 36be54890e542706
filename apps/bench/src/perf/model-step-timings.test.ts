import { layerFormRuns } from '@mup2/model-zoo';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { formSwaps, measureModelSteps } from './model-step-timings.js';

const backend = tf.getBackend();

describe('bench layers --swaps', () => {
  it('swaps one layer of the MLP at a time into each other form the backend can run', () => {
    // The MLP's layers with a choice, and each backend's choice (layer-forms.ts): every other candidate,
    // without TensorFlow's own kernels on wasm.
    const expected: Record<string, string[]> = {
      tensorflow: [
        'matMul=plain-products',
        // The thin products' addon kernel is chosen where mup2's addon loads, and tf.matMul alone is then a swap.
        ...(layerFormRuns('matMul', 'addon-kernel', 'tensorflow') ? ['matMul=stock'] : []),
        'columnSums=ones-matmul',
        'columnSums=stock',
        'relu=stock',
        'relu=greater-mask',
        // ReLU's addon kernels are chosen where mup2's addon loads, and TensorFlow's ReluGrad is then a swap.
        ...(layerFormRuns('relu', 'addon-kernel', 'tensorflow') ? ['relu=relu-grad-kernel', 'scale=stock'] : []),
        'crossEntropy=composed',
        // Likewise the loss's addon kernel, and TensorFlow's SparseSoftmaxCrossEntropyWithLogits is then a swap.
        ...(layerFormRuns('crossEntropy', 'addon-kernel', 'tensorflow') ? ['crossEntropy=fused-kernel'] : []),
        'logSoftmax=log-sum-exp',
      ],
      wasm: ['matMul=stock', 'columnSums=stock', 'relu=greater-mask', 'logSoftmax=log-sum-exp'],
    };
    for (const name of ['tensorflow', 'wasm']) {
      expect(formSwaps('mlp', name).map(({ swap }) => swap)).toEqual(expected[name]);
      for (const { swap, forms } of formSwaps('mlp', name)) {
        const [layer, form] = swap.split('=');
        expect(forms).toEqual({ [layer as string]: form });
      }
    }
  });

  it(`times the MLP's SGD step with each swap on ${backend} (none on wasm), with no tensor left behind`, async () => {
    const before = tf.memory().numTensors;
    const [result] = await measureModelSteps(['mlp'], [backend], { rounds: 1, warmup: 1, swaps: true });
    expect(tf.memory().numTensors).toBe(before);
    const own = result?.milliseconds[backend] as number;
    expect(own).toBeGreaterThan(0);
    const swapped = result?.withSwaps?.[backend] ?? {};
    if (backend === 'wasm') {
      expect(swapped).toEqual({});
      return;
    }
    expect(Object.keys(swapped)).toEqual(formSwaps('mlp', backend).map(({ swap }) => swap));
    for (const ms of Object.values(swapped)) expect(ms).toBeGreaterThan(0);
  }, 120_000);
});
