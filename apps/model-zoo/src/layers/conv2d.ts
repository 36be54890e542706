import { registerWasmGradientKernels } from '@mup2/core';
import * as tf from '@tensorflow/tfjs';

export type ConvPadding = 'same' | 'valid';

export interface Conv2dOptions {
  /** Equal stride along height and width. Default 1. */
  readonly stride?: number;
  /** TensorFlow's 'same' (output ⌈size/stride⌉, extra padding at the end) or 'valid'. Default 'same'. */
  readonly padding?: ConvPadding;
}

/** Output size and padding along one spatial axis, with TensorFlow's conventions. */
interface AxisGeometry {
  readonly size: number;
  readonly outSize: number;
  readonly padBefore: number;
  /** Padded input rows the kernel actually reads: (outSize − 1)·stride + kernel. */
  readonly span: number;
}

function axisGeometry(size: number, kernel: number, stride: number, padding: ConvPadding): AxisGeometry {
  if (padding === 'valid') {
    const outSize = Math.floor((size - kernel) / stride) + 1;
    return { size, outSize, padBefore: 0, span: (outSize - 1) * stride + kernel };
  }
  const outSize = Math.ceil(size / stride);
  const total = Math.max((outSize - 1) * stride + kernel - size, 0);
  return { size, outSize, padBefore: Math.floor(total / 2), span: (outSize - 1) * stride + kernel };
}

function checkOptions(x: tf.Tensor4D, kernel: tf.Tensor4D, stride: number, padding: ConvPadding): void {
  if (!Number.isInteger(stride) || stride < 1)
    throw new Error(`conv2d: stride must be a positive integer, got ${stride}.`);
  if (padding !== 'same' && padding !== 'valid')
    throw new Error(`conv2d: padding must be 'same' or 'valid', got ${String(padding)}.`);
  if (x.shape[3] !== kernel.shape[2]) {
    throw new Error(`conv2d: input has ${x.shape[3]} channels but the kernel expects ${kernel.shape[2]}.`);
  }
}

/**
 * x padded (or cropped at the end) to exactly the rows and columns the kernel
 * reads, so that a 'valid' convolution over it covers every output position
 * and nothing more.
 */
function paddedToSpan(x: tf.Tensor4D, rows: AxisGeometry, cols: AxisGeometry): tf.Tensor4D {
  const after = (axis: AxisGeometry) => axis.span - axis.size - axis.padBefore;
  const padded = tf.pad(x, [
    [0, 0],
    [rows.padBefore, Math.max(after(rows), 0)],
    [cols.padBefore, Math.max(after(cols), 0)],
    [0, 0],
  ]);
  if (after(rows) >= 0 && after(cols) >= 0) return padded;
  return tf.slice(padded, [0, 0, 0, 0], [-1, rows.span, cols.span, -1]);
}

let wasmGradientKernelsChecked = false;

/**
 * A 2-D convolution (NHWC input, [kh, kw, cin, cout] kernel): tf.conv2d. On wasm, which lacks
 * Conv2DBackpropFilter (DESIGN.md §3), its gradients run through the kernels @mup2/core registers
 * there (`registerWasmGradientKernels`: both gradients as stride-1 forward convolutions, which
 * initBackend registers too; registered here as well for a caller that chose wasm with tf.setBackend).
 */
export function conv2d(x: tf.Tensor4D, kernel: tf.Tensor4D, options: Conv2dOptions = {}): tf.Tensor4D {
  const stride = options.stride ?? 1;
  const padding = options.padding ?? 'same';
  checkOptions(x, kernel, stride, padding);
  if (!wasmGradientKernelsChecked && tf.getBackend() === 'wasm') {
    registerWasmGradientKernels();
    wasmGradientKernelsChecked = true;
  }
  return tf.conv2d(x, kernel, stride, padding);
}

/**
 * The im2col matrix of a convolution: one row per output position
 * [N·Ho·Wo], one column per kernel tap in the kernel's own (kh, kw, cin)
 * order, so that patches · reshape(kernel, [kh·kw·cin, cout]) is the
 * convolution. The coordinate check reads a conv layer's input in this form.
 */
export function extractPatches(
  x: tf.Tensor4D,
  kernelSize: readonly [number, number],
  options: Conv2dOptions = {},
): tf.Tensor2D {
  const stride = options.stride ?? 1;
  const padding = options.padding ?? 'same';
  const [kh, kw] = kernelSize;
  return tf.tidy(() => {
    const [n, height, width, channels] = x.shape;
    const rows = axisGeometry(height, kh, stride, padding);
    const cols = axisGeometry(width, kw, stride, padding);
    const padded = paddedToSpan(x, rows, cols);
    const taps: tf.Tensor4D[] = [];
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        taps.push(
          tf.stridedSlice(
            padded,
            [0, i, j, 0],
            [n, i + (rows.outSize - 1) * stride + 1, j + (cols.outSize - 1) * stride + 1, channels],
            [1, stride, stride, 1],
          ) as tf.Tensor4D,
        );
      }
    }
    return tf.reshape(tf.concat(taps, 3), [n * rows.outSize * cols.outSize, kh * kw * channels]);
  });
}
