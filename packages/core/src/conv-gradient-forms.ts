import * as tf from '@tensorflow/tfjs-core';

/**
 * The gradients of a 2-D convolution (NHWC) and of a depthwise one, each written as a single
 * stride-1 forward convolution plus pads, reshapes and transposes. The wasm backend has fast
 * forward convolutions (XNNPACK) but no Conv2DBackpropFilter and no depthwise gradient kernels,
 * and its Conv2DBackpropInput is a plain loop several times slower than its Conv2D; these forms
 * run on its forward kernels only. Forward dilation must be 1 (as tfjs-core's own conv gradients require).
 */

type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
type RoundingMode = 'floor' | 'round' | 'ceil' | undefined;
type Strides = [number, number] | number;
type Shape4 = [number, number, number, number];

export interface ConvGeometry {
  readonly strides: Strides;
  readonly pad: Pad;
  readonly dimRoundingMode?: RoundingMode;
}

/** Pads each spatial side by a positive amount or crops it by a negative one. */
function padOrCrop(x: tf.Tensor4D, top: number, bottom: number, left: number, right: number): tf.Tensor4D {
  const padded = tf.pad(x, [
    [0, 0],
    [Math.max(top, 0), Math.max(bottom, 0)],
    [Math.max(left, 0), Math.max(right, 0)],
    [0, 0],
  ]);
  if (top >= 0 && bottom >= 0 && left >= 0 && right >= 0) return padded;
  const [, height, width] = padded.shape;
  const rowStart = Math.max(-top, 0);
  const colStart = Math.max(-left, 0);
  return tf.slice(
    padded,
    [0, rowStart, colStart, 0],
    [-1, height - rowStart - Math.max(-bottom, 0), width - colStart - Math.max(-right, 0), -1],
  );
}

function convInfo(inputShape: Shape4, filterShape: Shape4, geometry: ConvGeometry, depthwise: boolean) {
  return tf.backend_util.computeConv2DInfo(
    inputShape,
    filterShape,
    geometry.strides,
    1,
    geometry.pad,
    geometry.dimRoundingMode,
    depthwise,
  );
}

/** x padded as the forward pass pads it, cut to exactly the rows and columns the kernel reads. */
function paddedInput(x: tf.Tensor4D, info: tf.backend_util.Conv2DInfo): tf.Tensor4D {
  const { padInfo, outHeight, outWidth, strideHeight, strideWidth, filterHeight, filterWidth, inHeight, inWidth } =
    info;
  const rows = (outHeight - 1) * strideHeight + filterHeight;
  const cols = (outWidth - 1) * strideWidth + filterWidth;
  return padOrCrop(x, padInfo.top, rows - inHeight - padInfo.top, padInfo.left, cols - inWidth - padInfo.left);
}

/**
 * dy with stride − 1 zeros between its rows and columns, padded so that a 'valid' stride-1
 * correlation with the flipped kernel gives ∂L/∂x: row i of x reads the dilated rows
 * i + top − (k − 1) … i + top.
 */
function spreadOutputGradient(dy: tf.Tensor4D, info: tf.backend_util.Conv2DInfo): tf.Tensor4D {
  const [n, height, width, channels] = dy.shape;
  const { strideHeight, strideWidth, filterHeight, filterWidth, padInfo, inHeight, inWidth } = info;
  let spread = dy;
  if (strideHeight > 1 || strideWidth > 1) {
    const gaps = tf.pad(tf.reshape(dy, [n, height, 1, width, 1, channels]), [
      [0, 0],
      [0, 0],
      [0, strideHeight - 1],
      [0, 0],
      [0, strideWidth - 1],
      [0, 0],
    ]);
    spread = tf.reshape(gaps, [n, height * strideHeight, width * strideWidth, channels]);
  }
  const top = filterHeight - 1 - padInfo.top;
  const left = filterWidth - 1 - padInfo.left;
  const bottom = inHeight + filterHeight - 1 - top - spread.shape[1];
  const right = inWidth + filterWidth - 1 - left - spread.shape[2];
  return padOrCrop(spread, top, bottom, left, right);
}

function assertUnitDilation(dilations: Strides | undefined, kernel: string): void {
  const values = dilations === undefined ? [1] : typeof dilations === 'number' ? [dilations] : dilations;
  if (values.some((value) => value !== 1)) {
    throw new Error(`${kernel} on wasm (@mup2/core): dilations must be 1, got ${String(dilations)}.`);
  }
}

/**
 * ∂L/∂filter = Σ over examples and positions of input patch ⊗ dy: one stride-1 Conv2D with the
 * batch as the contracted channel axis, x as [C, H, W, N] against dy as an [Ho, Wo, N, Cout]
 * filter dilated by the stride, giving [C, kh, kw, Cout].
 */
export function conv2dFilterGradient(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: Shape4,
  geometry: ConvGeometry,
): tf.Tensor4D {
  return tf.tidy(() => {
    const info = convInfo(x.shape, filterShape, geometry, false);
    const channelsFirst = tf.transpose(paddedInput(x, info), [3, 1, 2, 0]);
    const filter = tf.transpose(dy, [1, 2, 0, 3]);
    const gradient = tf.conv2d(channelsFirst, filter, 1, 'valid', 'NHWC', [info.strideHeight, info.strideWidth]);
    return tf.transpose(gradient, [1, 2, 0, 3]);
  });
}

/** ∂L/∂x: the zero-dilated dy correlated with the kernel flipped in space and transposed in channels. */
export function conv2dInputGradient(
  inputShape: Shape4,
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  geometry: ConvGeometry,
): tf.Tensor4D {
  return tf.tidy(() => {
    const info = convInfo(inputShape, filter.shape, geometry, false);
    const flipped = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
    return tf.conv2d(spreadOutputGradient(dy, info), flipped, 1, 'valid');
  });
}

/**
 * ∂L/∂filter of a depthwise convolution (filter [kh, kw, C, M], output channel c·M + m): one
 * stride-1 depthwise convolution with examples and channels side by side as N·C channels, x
 * against dy as an [Ho, Wo, N·C, M] filter dilated by the stride; then the sum over examples.
 */
export function depthwiseFilterGradient(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: Shape4,
  geometry: ConvGeometry & { readonly dilations?: Strides },
): tf.Tensor4D {
  assertUnitDilation(geometry.dilations, 'DepthwiseConv2dNativeBackpropFilter');
  return tf.tidy(() => {
    const info = convInfo(x.shape, filterShape, geometry, true);
    const [n, , , channels] = x.shape;
    const [kh, kw, , multiplier] = filterShape;
    const padded = paddedInput(x, info);
    const side = tf.reshape(tf.transpose(padded, [1, 2, 0, 3]), [1, padded.shape[1], padded.shape[2], n * channels]);
    const [, outHeight, outWidth] = dy.shape;
    const filter = tf.reshape(tf.transpose(dy, [1, 2, 0, 3]), [outHeight, outWidth, n * channels, multiplier]);
    const perExample = tf.depthwiseConv2d(side as tf.Tensor4D, filter as tf.Tensor4D, 1, 'valid', 'NHWC', [
      info.strideHeight,
      info.strideWidth,
    ]);
    return tf.sum(tf.reshape(perExample, [kh, kw, n, channels, multiplier]), 2) as tf.Tensor4D;
  });
}

/** ∂L/∂x of a depthwise convolution: per output channel, dy correlated with its flipped kernel, summed over the multiplier. */
export function depthwiseInputGradient(
  inputShape: Shape4,
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  geometry: ConvGeometry & { readonly dilations?: Strides },
): tf.Tensor4D {
  assertUnitDilation(geometry.dilations, 'DepthwiseConv2dNativeBackpropInput');
  return tf.tidy(() => {
    const info = convInfo(inputShape, filter.shape, geometry, true);
    const [kh, kw, channels, multiplier] = filter.shape;
    const flipped = tf.reshape(tf.reverse(filter, [0, 1]), [kh, kw, channels * multiplier, 1]) as tf.Tensor4D;
    const perChannel = tf.depthwiseConv2d(spreadOutputGradient(dy, info), flipped, 1, 'valid');
    if (multiplier === 1) return perChannel;
    const [n, height, width] = perChannel.shape;
    return tf.sum(tf.reshape(perChannel, [n, height, width, channels, multiplier]), 4) as tf.Tensor4D;
  });
}
