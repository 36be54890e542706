import * as tf from '@tensorflow/tfjs-core';
import { InvalidOptionError } from './errors.js';

/**
 * How a layer applies its parameter to its input, which decides the change of
 * its pre-activation that a perturbation ε causes:
 * 'matmul': input·ε (dense weights [in, out]; conv kernels [kh, kw, cin, cout] on the
 * input's im2col patches [N·H·W, kh·kw·cin]); 'conv2d': tf.conv2d(input, ε) on the
 * image input [N, H, W, cin] itself, the same numbers as the im2col view without
 * materialising the patches; 'scale': input ⊙ ε (norm gains); 'shift': ε itself
 * (biases, norm offsets).
 */
export type LayerKind = 'matmul' | 'conv2d' | 'scale' | 'shift';

/** How a 'conv2d' layer convolves its input, as the arguments of tf.conv2d. */
export interface ConvGeometry {
  readonly strides: number | readonly [number, number];
  readonly padding: 'valid' | 'same';
  readonly dilations?: number | readonly [number, number];
}

/** A layer whose effective perturbation effectivePerturbations measures. */
export interface MeasuredLayer {
  /** The perturbed variable's name (the key of the perturbation map). */
  readonly variableName: string;
  readonly kind: LayerKind;
  /** The layer's input at the current weights: [batch, features], or [N, H, W, cin] for 'conv2d' ('shift' needs none). */
  readonly input?: tf.Tensor;
  /** Strides, padding and dilations of a 'conv2d' layer (default stride 1, 'valid'). */
  readonly conv?: ConvGeometry;
}

/** The change of a layer's pre-activation that `delta` on its parameter causes at its input. */
function layerChange(layer: MeasuredLayer, delta: tf.Tensor): tf.Tensor {
  const input = layer.input as tf.Tensor;
  if (layer.kind === 'shift') return delta;
  if (layer.kind === 'scale') return tf.mul(input, delta);
  if (layer.kind === 'conv2d') {
    const conv = layer.conv ?? { strides: 1, padding: 'valid' };
    return tf.conv2d(
      input as tf.Tensor4D,
      delta as tf.Tensor4D,
      conv.strides as [number, number],
      conv.padding,
      'NHWC',
      (conv.dilations ?? 1) as [number, number],
    );
  }
  // A weight [..., fan_out] acts on its input as a [fan_in, fan_out] matrix: a dense kernel as it is,
  // a conv kernel [kh, kw, cin, cout] on its im2col patches [N·H·W, kh·kw·cin].
  const fanOut = delta.shape[delta.shape.length - 1] as number;
  const fanIn = delta.size / fanOut;
  return tf.matMul(tf.reshape(input, [-1, fanIn]), tf.reshape(delta, [fanIn, fanOut]));
}

/**
 * The effective perturbation of each layer (the paper's Table 1): the RMS over
 * coordinates of the change of its pre-activation caused by ε alone, at the
 * current input. Layers without a perturbation (a rule that does not select
 * them) are left out. Any other change of the weights measures the same way:
 * an update Δw gives the update's effect, the weights themselves the layer's
 * pre-activation.
 */
export function effectivePerturbations(
  perturbations: tf.NamedTensorMap,
  layers: readonly MeasuredLayer[],
): Record<string, number> {
  const effects: Record<string, number> = {};
  for (const layer of layers) {
    const epsilon = perturbations[layer.variableName];
    if (epsilon === undefined) continue;
    if (layer.kind !== 'shift' && layer.input === undefined) {
      throw new InvalidOptionError(
        `effectivePerturbations: layer '${layer.variableName}' of kind '${layer.kind}' needs its input.`,
      );
    }
    const rms = tf.tidy(() => tf.sqrt(tf.mean(tf.square(layerChange(layer, epsilon)))));
    effects[layer.variableName] = rms.dataSync()[0] as number;
    rms.dispose();
  }
  return effects;
}

/** Least-squares slope of log(y) against log(x): the width exponent of a quantity measured at widths x. */
export function logLogSlope(xs: readonly number[], ys: readonly number[]): number {
  if (xs.length !== ys.length || xs.length < 2) {
    throw new InvalidOptionError(
      `logLogSlope: expected two equal-length series of at least 2 points, got ${xs.length} and ${ys.length}.`,
    );
  }
  const lx = xs.map(Math.log);
  const ly = ys.map((y) => Math.log(Math.max(y, Number.MIN_VALUE)));
  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  const mx = mean(lx);
  const my = mean(ly);
  let numerator = 0;
  let denominator = 0;
  lx.forEach((x, i) => {
    numerator += (x - mx) * ((ly[i] as number) - my);
    denominator += (x - mx) ** 2;
  });
  return numerator / denominator;
}
