import * as tf from '@tensorflow/tfjs';
import { layerForms } from './layer-forms.js';

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

/** dy with stride − 1 zeros inserted between its rows and columns (what a strided conv's transpose reads). */
function dilated(dy: tf.Tensor4D, stride: number): tf.Tensor4D {
  if (stride === 1) return dy;
  const [n, height, width, channels] = dy.shape;
  const spread = tf.pad(tf.reshape(dy, [n, height, 1, width, 1, channels]), [
    [0, 0],
    [0, 0],
    [0, stride - 1],
    [0, 0],
    [0, stride - 1],
    [0, 0],
  ]);
  return tf.reshape(spread, [n, height * stride, width * stride, channels]);
}

/**
 * ∂L/∂x of a convolution: the full correlation of the zero-dilated dy with the
 * kernel flipped in space and transposed in channels, a plain stride-1
 * Conv2D. wasm's Conv2DBackpropInput runs 5–10× slower than its Conv2D
 * (XNNPACK), which this form uses instead.
 */
function inputGradient(
  dy: tf.Tensor4D,
  kernel: tf.Tensor4D,
  rows: AxisGeometry,
  cols: AxisGeometry,
  stride: number,
): tf.Tensor4D {
  const [kh, kw] = kernel.shape;
  const flipped = tf.transpose(tf.reverse(kernel, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
  const spread = dilated(dy, stride);
  // Row q of x reads spread rows q + padBefore − (k − 1) … q + padBefore: pad the start by k − 1 − padBefore
  // and the end to size + k − 1 rows in all (crop when the last dilated rows are never read).
  const before = (k: number, axis: AxisGeometry) => k - 1 - axis.padBefore;
  const after = (k: number, axis: AxisGeometry, spreadSize: number) => axis.size + k - 1 - before(k, axis) - spreadSize;
  const rowsAfter = after(kh, rows, spread.shape[1]);
  const colsAfter = after(kw, cols, spread.shape[2]);
  let source = tf.pad(spread, [
    [0, 0],
    [before(kh, rows), Math.max(rowsAfter, 0)],
    [before(kw, cols), Math.max(colsAfter, 0)],
    [0, 0],
  ]);
  if (rowsAfter < 0 || colsAfter < 0) {
    source = tf.slice(source, [0, 0, 0, 0], [-1, rows.size + kh - 1, cols.size + kw - 1, -1]);
  }
  return tf.conv2d(source, flipped, 1, 'valid');
}

/**
 * ∂L/∂kernel: Σ over batch and positions of input patch ⊗ dy, computed as one
 * stride-1 Conv2D with the batch as the contracted channel axis:
 * x as [C, H, W, N] convolved with dy as a [Ho, Wo, N, Cout] filter (dilated
 * by the stride) gives [C, kh, kw, Cout]. wasm has no Conv2DBackpropFilter, and
 * this is 3–6× faster there than im2col followed by a transposed matmul.
 */
function kernelGradient(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  rows: AxisGeometry,
  cols: AxisGeometry,
  stride: number,
): tf.Tensor4D {
  const channelsFirst = tf.transpose(paddedToSpan(x, rows, cols), [3, 1, 2, 0]) as tf.Tensor4D;
  const filter = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D;
  const gradient = tf.conv2d(channelsFirst, filter, 1, 'valid', 'NHWC', stride);
  return tf.transpose(gradient, [1, 2, 0, 3]);
}

const conv2dImpl = (stride: number, padding: ConvPadding) =>
  tf.customGrad((input, weights, save) => {
    const x = input as tf.Tensor4D;
    const kernel = weights as tf.Tensor4D;
    (save as tf.GradSaveFunc)([x, kernel]);
    return {
      value: tf.conv2d(x, kernel, stride, padding),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [savedX, savedKernel] = saved as [tf.Tensor4D, tf.Tensor4D];
        const rows = axisGeometry(savedX.shape[1], savedKernel.shape[0], stride, padding);
        const cols = axisGeometry(savedX.shape[2], savedKernel.shape[1], stride, padding);
        const gradient = dy as tf.Tensor4D;
        return [
          inputGradient(gradient, savedKernel, rows, cols, stride),
          kernelGradient(savedX, gradient, rows, cols, stride),
        ];
      },
    };
  });

const implementations = new Map<string, ReturnType<typeof conv2dImpl>>();

/**
 * A 2-D convolution (NHWC input, [kh, kw, cin, cout] kernel) whose gradients
 * are plain stride-1 Conv2D calls, so it trains on wasm, which lacks
 * Conv2DBackpropFilter (DESIGN.md §3), and fast there; or plain tf.conv2d where
 * its own gradients are faster (layerForms().conv2d). Values and gradients
 * equal tf.conv2d's on every backend.
 */
export function conv2d(x: tf.Tensor4D, kernel: tf.Tensor4D, options: Conv2dOptions = {}): tf.Tensor4D {
  const stride = options.stride ?? 1;
  const padding = options.padding ?? 'same';
  checkOptions(x, kernel, stride, padding);
  if (layerForms().conv2d === 'stock') return tf.conv2d(x, kernel, stride, padding);
  const key = `${stride}/${padding}`;
  let implementation = implementations.get(key);
  if (implementation === undefined) {
    implementation = conv2dImpl(stride, padding);
    implementations.set(key, implementation);
  }
  return implementation(x, kernel) as tf.Tensor4D;
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
