import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  conv2dFilterGradient,
  conv2dInputGradient,
  depthwiseFilterGradient,
  depthwiseInputGradient,
} from './conv-gradient-forms.js';
import {
  type Float64ConvCase,
  float64Convolution,
  float64ConvolutionGradients,
  float64Values,
  outputShape,
} from './float64-conv.fixture.js';
import { registerWasmGradientKernels, WASM_GRADIENT_KERNELS } from './wasm-gradient-kernels.js';

const CASES: ReadonlyArray<Float64ConvCase & { readonly label: string }> = [
  {
    label: '3×3 same stride 1',
    inputShape: [2, 7, 6, 3],
    filterShape: [3, 3, 3, 4],
    strides: [1, 1],
    pad: 'same',
    depthwise: false,
  },
  {
    label: '3×3 same stride 2, even size',
    inputShape: [2, 8, 8, 3],
    filterShape: [3, 3, 3, 5],
    strides: [2, 2],
    pad: 'same',
    depthwise: false,
  },
  {
    label: '4×4 same stride 2, odd size',
    inputShape: [1, 9, 7, 2],
    filterShape: [4, 4, 2, 3],
    strides: [2, 2],
    pad: 'same',
    depthwise: false,
  },
  {
    label: '3×2 valid strides [3, 1]',
    inputShape: [2, 10, 7, 2],
    filterShape: [3, 2, 2, 3],
    strides: [3, 1],
    pad: 'valid',
    depthwise: false,
  },
  {
    label: '1×1 valid stride 2',
    inputShape: [3, 5, 5, 4],
    filterShape: [1, 1, 4, 2],
    strides: [2, 2],
    pad: 'valid',
    depthwise: false,
  },
  {
    label: '3×3 explicit padding',
    inputShape: [1, 6, 6, 2],
    filterShape: [3, 3, 2, 2],
    strides: [2, 1],
    pad: [
      [2, 0],
      [1, 3],
    ],
    depthwise: false,
  },
  {
    label: 'depthwise 3×3 same stride 1',
    inputShape: [2, 6, 5, 3],
    filterShape: [3, 3, 3, 1],
    strides: [1, 1],
    pad: 'same',
    depthwise: true,
  },
  {
    label: 'depthwise 3×3 same stride 2, multiplier 2',
    inputShape: [2, 7, 8, 3],
    filterShape: [3, 3, 3, 2],
    strides: [2, 2],
    pad: 'same',
    depthwise: true,
  },
  {
    label: 'depthwise 5×5 valid stride 1, multiplier 3',
    inputShape: [1, 8, 7, 2],
    filterShape: [5, 5, 2, 3],
    strides: [1, 1],
    pad: 'valid',
    depthwise: true,
  },
];

type TfPad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
const tfPad = (pad: Float64ConvCase['pad']): TfPad =>
  typeof pad === 'string'
    ? pad
    : [
        [0, 0],
        [pad[0][0], pad[0][1]],
        [pad[1][0], pad[1][1]],
        [0, 0],
      ];

const size = (shape: readonly number[]) => shape.reduce((product, extent) => product * extent, 1);

function inputsOf(testCase: Float64ConvCase) {
  const x = float64Values(size(testCase.inputShape), 11);
  const filter = float64Values(size(testCase.filterShape), 12);
  const dy = float64Values(size(outputShape(testCase)), 13);
  return { x, filter, dy, reference: float64ConvolutionGradients(testCase, x, filter, dy) };
}

/** The largest entry error relative to the largest reference entry. */
function relativeError(actual: tf.Tensor, reference: Float64Array): number {
  const values = actual.dataSync();
  expect(values.length).toBe(reference.length);
  let error = 0;
  let scale = 0;
  reference.forEach((expected, index) => {
    error = Math.max(error, Math.abs((values[index] as number) - expected));
    scale = Math.max(scale, Math.abs(expected));
  });
  return error / scale;
}

const TOLERANCE = 1e-5;

/**
 * Whether the backend runs a dilated depthwise convolution, which the depthwise filter gradient of a
 * strided convolution is here. libtensorflow's own (Eigen) kernel has no dilation; TensorFlow takes
 * oneDNN's, which has, only on CPUs with AVX-512 VNNI, BF16 or AMX (or with TF_ENABLE_ONEDNN_OPTS=1).
 * These forms are registered on wasm only (registerWasmGradientKernels), which has it.
 */
function runsDilatedDepthwise(): boolean {
  try {
    tf.tidy(() =>
      tf
        .depthwiseConv2d(
          tf.ones([1, 5, 5, 1]) as tf.Tensor4D,
          tf.ones([2, 2, 1, 1]) as tf.Tensor4D,
          1,
          'valid',
          'NHWC',
          2,
        )
        .dataSync(),
    );
    return true;
  } catch (error) {
    expect(tf.getBackend()).toBe('tensorflow');
    expect(String(error)).toMatch(/does not support dilations/);
    return false;
  }
}

describe('convolution gradients written as stride-1 forward convolutions (any backend)', () => {
  for (const testCase of CASES) {
    const needsDilation = testCase.depthwise && testCase.strides.some((stride) => stride > 1);
    it(`${testCase.label}: ∂L/∂x and ∂L/∂filter equal the float64 loops${needsDilation ? ' (where the backend runs a dilated depthwise convolution)' : ''}`, () => {
      if (needsDilation && !runsDilatedDepthwise()) return;
      const { x, filter, dy, reference } = inputsOf(testCase);
      const before = tf.memory().numTensors;
      const tensors = {
        x: tf.tensor4d(Float32Array.from(x), [...testCase.inputShape]),
        filter: tf.tensor4d(Float32Array.from(filter), [...testCase.filterShape]),
        dy: tf.tensor4d(Float32Array.from(dy), outputShape(testCase)),
      };
      const geometry = { strides: [...testCase.strides] as [number, number], pad: tfPad(testCase.pad) };
      const inputShape = [...testCase.inputShape] as [number, number, number, number];
      const filterShape = [...testCase.filterShape] as [number, number, number, number];
      const [dx, dFilter] = testCase.depthwise
        ? [
            depthwiseInputGradient(inputShape, tensors.dy, tensors.filter, geometry),
            depthwiseFilterGradient(tensors.x, tensors.dy, filterShape, geometry),
          ]
        : [
            conv2dInputGradient(inputShape, tensors.dy, tensors.filter, geometry),
            conv2dFilterGradient(tensors.x, tensors.dy, filterShape, geometry),
          ];
      expect(dx.shape).toEqual(inputShape);
      expect(dFilter.shape).toEqual(filterShape);
      expect(relativeError(dx, reference.dx)).toBeLessThan(TOLERANCE);
      expect(relativeError(dFilter, reference.dFilter)).toBeLessThan(TOLERANCE);
      tf.dispose([dx, dFilter, ...Object.values(tensors)]);
      expect(tf.memory().numTensors).toBe(before);
    });
  }
});

describe.runIf(tf.getBackend() === 'wasm')('registerWasmGradientKernels', () => {
  it('registers the kernels wasm lacks and replaces Conv2DBackpropInput, once', () => {
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined(); // what tfjs-backend-wasm 4.22 lacks
    const stockInput = tf.getKernel('Conv2DBackpropInput', 'wasm');
    expect(stockInput).toBeDefined();
    expect(registerWasmGradientKernels().sort()).toEqual([...WASM_GRADIENT_KERNELS].sort());
    expect(registerWasmGradientKernels()).toEqual([]);
    for (const name of WASM_GRADIENT_KERNELS) expect(tf.getKernel(name, 'wasm')).toBeDefined();
    expect(tf.getKernel('Conv2DBackpropInput', 'wasm')?.kernelFunc).not.toBe(stockInput?.kernelFunc);
  });
});

// On wasm through the kernels registered above; on tensorflow through libtensorflow's own, which
// checks the float64 loops themselves against a third implementation.
describe(`stock convolution gradients on ${tf.getBackend()}`, () => {
  // tfjs-node's convolutions take 'same' and 'valid' padding only.
  const supported = CASES.filter((testCase) => tf.getBackend() !== 'tensorflow' || typeof testCase.pad === 'string');
  for (const testCase of supported) {
    it(`${testCase.label}: tf.grads of the stock op equals the float64 gradients, no tensor leaked`, () => {
      registerWasmGradientKernels();
      const { x, filter, dy, reference } = inputsOf(testCase);
      const tensors = {
        x: tf.tensor4d(Float32Array.from(x), [...testCase.inputShape]),
        filter: tf.tensor4d(Float32Array.from(filter), [...testCase.filterShape]),
        dy: tf.tensor4d(Float32Array.from(dy), outputShape(testCase)),
      };
      const pad = tfPad(testCase.pad);
      const before = tf.memory().numTensors;
      const convolve = (input: tf.Tensor4D, kernel: tf.Tensor4D) =>
        testCase.depthwise
          ? tf.depthwiseConv2d(input, kernel, [...testCase.strides] as [number, number], pad)
          : tf.conv2d(input, kernel, [...testCase.strides] as [number, number], pad);
      const [dx, dFilter] = tf.grads((input, kernel) =>
        tf.sum(tf.mul(convolve(input as tf.Tensor4D, kernel as tf.Tensor4D), tensors.dy)),
      )([tensors.x, tensors.filter]) as [tf.Tensor, tf.Tensor];
      expect(relativeError(dx, reference.dx)).toBeLessThan(TOLERANCE);
      expect(relativeError(dFilter, reference.dFilter)).toBeLessThan(TOLERANCE);
      tf.dispose([dx, dFilter]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose(Object.values(tensors));
    });
  }

  it("tf.layers' path, a fused conv2d with bias and relu, gets the float64 gradients", () => {
    registerWasmGradientKernels();
    const testCase = CASES[1] as Float64ConvCase;
    const { x, filter, dy } = inputsOf(testCase);
    const bias = float64Values(testCase.filterShape[3], 14);
    // relu(conv + bias): the upstream gradient passes where the pre-activation is positive.
    const pre = float64Convolution(testCase, x, filter).map(
      (value, index) => value + (bias[index % testCase.filterShape[3]] as number),
    );
    const masked = dy.map((value, index) => ((pre[index] as number) > 0 ? value : 0));
    const reference = float64ConvolutionGradients(testCase, x, filter, masked);
    const [dx, dFilter] = tf.tidy(() => {
      const upstream = tf.tensor4d(Float32Array.from(dy), outputShape(testCase));
      const biasTensor = tf.tensor1d(Float32Array.from(bias));
      return tf.grads((input, kernel) =>
        tf.sum(
          tf.mul(
            tf.fused.conv2d({
              x: input as tf.Tensor4D,
              filter: kernel as tf.Tensor4D,
              strides: 2,
              pad: 'same',
              bias: biasTensor,
              activation: 'relu',
            }),
            upstream,
          ),
        ),
      )([
        tf.tensor4d(Float32Array.from(x), [...testCase.inputShape]),
        tf.tensor4d(Float32Array.from(filter), [...testCase.filterShape]),
      ]);
    }) as [tf.Tensor, tf.Tensor];
    expect(relativeError(dx, reference.dx)).toBeLessThan(TOLERANCE);
    expect(relativeError(dFilter, reference.dFilter)).toBeLessThan(TOLERANCE);
    tf.dispose([dx, dFilter]);
  });

  it.runIf(tf.getBackend() === 'wasm')(
    'conv2dTranspose (a forward use of Conv2DBackpropInput) equals the float64 transpose',
    () => {
      registerWasmGradientKernels();
      const testCase = CASES[2] as Float64ConvCase;
      const { filter, dy, reference } = inputsOf(testCase);
      const result = tf.tidy(() =>
        tf.conv2dTranspose(
          tf.tensor4d(Float32Array.from(dy), outputShape(testCase)),
          tf.tensor4d(Float32Array.from(filter), [...testCase.filterShape]),
          [...testCase.inputShape] as [number, number, number, number],
          [...testCase.strides] as [number, number],
          'same',
        ),
      );
      expect(relativeError(result, reference.dx)).toBeLessThan(TOLERANCE);
      result.dispose();
    },
  );

  it.runIf(tf.getBackend() === 'wasm')('names the layout it supports when asked for NCHW', () => {
    registerWasmGradientKernels();
    const [x, dy] = [tf.zeros([1, 4, 4, 2]), tf.zeros([1, 4, 4, 3])];
    expect(() =>
      tf
        .engine()
        .runKernel(
          'Conv2DBackpropFilter',
          { x, dy },
          { strides: 1, pad: 'same', dataFormat: 'NCHW', filterShape: [3, 3, 2, 3] },
        ),
    ).toThrowError(/dataFormat 'NHWC' only, got 'NCHW'/);
    tf.dispose([x, dy]);
  });
});
