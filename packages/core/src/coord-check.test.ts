import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { effectivePerturbations, logLogSlope } from './coord-check.js';

const rms = (values: ArrayLike<number>) =>
  Math.sqrt(Array.from(values).reduce((sum, value) => sum + value * value, 0) / values.length);

describe('effectivePerturbations', () => {
  it('is the RMS of input·ε for a dense kernel, input ⊙ ε for a gain, ε for a shift', () => {
    const input = tf.tensor2d([
      [1, 2],
      [3, -1],
    ]);
    const epsilon = tf.tensor2d([
      [0.5, 0, 1],
      [-1, 2, 0],
    ]);
    const gain = tf.tensor1d([0.1, -0.2]);
    const before = tf.memory().numTensors;
    const effects = effectivePerturbations({ kernel: epsilon, gain, bias: gain }, [
      { variableName: 'kernel', kind: 'matmul', input },
      { variableName: 'gain', kind: 'scale', input },
      { variableName: 'bias', kind: 'shift' },
      { variableName: 'not-perturbed', kind: 'shift' },
    ]);
    expect(tf.memory().numTensors).toBe(before);
    // input·ε by hand: [[1·0.5 + 2·(−1), 4, 1], [1.5 + 1, −2, 3]]
    expect(effects.kernel).toBeCloseTo(rms([-1.5, 4, 1, 2.5, -2, 3]), 6);
    expect(effects.gain).toBeCloseTo(rms([0.1, -0.4, 0.3, 0.2]), 6);
    expect(effects.bias).toBeCloseTo(rms([0.1, -0.2]), 6);
    expect(effects).not.toHaveProperty('not-perturbed');
    tf.dispose([input, epsilon, gain]);
  });

  it('treats a conv kernel [kh, kw, cin, cout] as a [kh·kw·cin, cout] matrix on im2col patches, as tf.conv2d does', () => {
    const [n, h, w, cin, cout, k] = [2, 5, 4, 3, 2, 3];
    const x = tf.randomNormal([n, h, w, cin], 0, 1, 'float32', 1);
    const epsilon = tf.randomNormal([k, k, cin, cout], 0, 1, 'float32', 2);
    const pixels = x.arraySync() as number[][][][];
    const patches: number[][] = [];
    for (let b = 0; b < n; b++)
      for (let i = 0; i + k <= h; i++)
        for (let j = 0; j + k <= w; j++) {
          const row: number[] = [];
          for (let di = 0; di < k; di++)
            for (let dj = 0; dj < k; dj++)
              for (let c = 0; c < cin; c++) row.push(pixels[b]?.[i + di]?.[j + dj]?.[c] ?? Number.NaN);
          patches.push(row);
        }
    const input = tf.tensor2d(patches);
    const expected = tf.conv2d(x as tf.Tensor4D, epsilon as tf.Tensor4D, 1, 'valid');
    const effects = effectivePerturbations({ conv: epsilon }, [{ variableName: 'conv', kind: 'matmul', input }]);
    expect(effects.conv).toBeCloseTo(rms(expected.dataSync()), 5);
    tf.dispose([x, epsilon, input, expected]);
  });

  it("measures a 'conv2d' layer as the convolution of its image input by ε (stride 2, 'same' padding), by hand", () => {
    const [n, h, w, cin, cout, k, stride] = [2, 5, 6, 2, 3, 3, 2];
    const x = tf.randomNormal([n, h, w, cin], 0, 1, 'float32', 3);
    const epsilon = tf.randomNormal([k, k, cin, cout], 0, 1, 'float32', 4);
    const pixels = x.arraySync() as number[][][][];
    const kernel = epsilon.arraySync() as number[][][][];
    // TensorFlow's 'same': out = ceil(in / stride), the padding split with the smaller half first.
    const [outH, outW] = [Math.ceil(h / stride), Math.ceil(w / stride)];
    const top = Math.floor(Math.max((outH - 1) * stride + k - h, 0) / 2);
    const left = Math.floor(Math.max((outW - 1) * stride + k - w, 0) / 2);
    const outputs: number[] = [];
    for (let b = 0; b < n; b++)
      for (let i = 0; i < outH; i++)
        for (let j = 0; j < outW; j++)
          for (let o = 0; o < cout; o++) {
            let sum = 0;
            for (let di = 0; di < k; di++)
              for (let dj = 0; dj < k; dj++)
                for (let c = 0; c < cin; c++) {
                  const row = i * stride + di - top;
                  const column = j * stride + dj - left;
                  if (row < 0 || row >= h || column < 0 || column >= w) continue;
                  sum += (pixels[b]?.[row]?.[column]?.[c] ?? Number.NaN) * (kernel[di]?.[dj]?.[c]?.[o] ?? Number.NaN);
                }
            outputs.push(sum);
          }
    const before = tf.memory().numTensors;
    const effects = effectivePerturbations({ conv: epsilon }, [
      { variableName: 'conv', kind: 'conv2d', input: x, conv: { strides: stride, padding: 'same' } },
    ]);
    expect(tf.memory().numTensors).toBe(before);
    expect(effects.conv).toBeCloseTo(rms(outputs), 5);
    tf.dispose([x, epsilon]);
  });

  it('needs the input of a matmul or scale layer', () => {
    const epsilon = tf.ones([2, 2]);
    expect(() => effectivePerturbations({ w: epsilon }, [{ variableName: 'w', kind: 'matmul' }])).toThrowError(
      /'w' of kind 'matmul' needs its input/,
    );
    epsilon.dispose();
  });
});

describe('logLogSlope', () => {
  it('recovers the exponent of a power law', () => {
    const widths = [64, 128, 256, 512];
    expect(
      logLogSlope(
        widths,
        widths.map((n) => 3 * n ** -1.5),
      ),
    ).toBeCloseTo(-1.5, 10);
    expect(
      logLogSlope(
        widths,
        widths.map(() => 0.2),
      ),
    ).toBeCloseTo(0, 10);
  });

  it('rejects series of different lengths or a single point', () => {
    expect(() => logLogSlope([1, 2], [1])).toThrowError(/equal-length/);
    expect(() => logLogSlope([1], [1])).toThrowError(/at least 2/);
  });
});
