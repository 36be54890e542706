import * as tf from '@tensorflow/tfjs';
import { ADDON_LAYER_KERNELS } from './addon-kernels.js';
import { columnSums } from './column-sums.js';
import { layerForms } from './layer-forms.js';
import { runTensorflowKernel, TENSORFLOW_KERNELS } from './tensorflow-kernels.js';

/**
 * y = γ·(x − μ)/√(σ² + ε) + β per row of [rows, features]. The gradient is the
 * closed form: per-row means run over the innermost axis (fast everywhere), and
 * the sums over rows for γ and β are ones-row matMuls (columnSums), which wasm
 * runs far faster than its transposing reduction over a leading axis.
 */
const layerNormImpl = (epsilon: number) =>
  tf.customGrad((input, gain, offset, save) => {
    const x = input as tf.Tensor2D;
    const gamma = gain as tf.Tensor1D;
    const beta = offset as tf.Tensor1D;
    const { normalized, inverseStd } = normalizeRows(x, epsilon);
    (save as tf.GradSaveFunc)([normalized, inverseStd, gamma]);
    return {
      value: tf.add(tf.mul(normalized, gamma), beta),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xHat, invStd, savedGamma] = saved as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
        const gradient = dy as tf.Tensor2D;
        const scaled = tf.mul(gradient, savedGamma);
        // dx = (1/σ)·(g − mean(g) − x̂·mean(g·x̂)) with g = dy·γ, means over each row.
        const dx = tf.mul(
          tf.sub(tf.sub(scaled, tf.mean(scaled, 1, true)), tf.mul(xHat, tf.mean(tf.mul(scaled, xHat), 1, true))),
          invStd,
        );
        return [dx, columnSums(tf.mul(gradient, xHat)), columnSums(gradient)];
      },
    };
  });

/**
 * The same through TensorFlow's FusedBatchNormV3 and its gradient (tensorflow only): a [rows,
 * features] matrix seen as NCHW data [1, rows, features, 1] has the rows as channels, so batch
 * normalisation in training mode normalises each row over its features, biased variance, as above.
 * Two kernels replace the closed form's 21 (layerForms().layerNorm); γ and β stay per feature.
 */
const fusedLayerNormImpl = (epsilon: number) =>
  tf.customGrad((input, gain, offset, save) => {
    const x = input as tf.Tensor2D;
    const gamma = gain as tf.Tensor1D;
    const beta = offset as tf.Tensor1D;
    const [rows, features] = x.shape;
    const channels = tf.reshape(x, [1, rows, features, 1]);
    const unitScale = tf.ones([rows]);
    const zeroOffset = tf.zeros([rows]);
    const [normalized4, ...reserves] = runTensorflowKernel(
      TENSORFLOW_KERNELS.channelNorm,
      { x: channels, scale: unitScale, offset: zeroOffset },
      { epsilon },
    ) as tf.Tensor[];
    const normalized = tf.reshape(normalized4 as tf.Tensor, [rows, features]) as tf.Tensor2D;
    (save as tf.GradSaveFunc)([channels, unitScale, normalized, gamma, ...reserves]);
    return {
      value: tf.add(tf.mul(normalized, gamma), beta),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [savedChannels, savedScale, xHat, savedGamma, reserve1, reserve2, reserve3] = saved as tf.Tensor[];
        const gradient = dy as tf.Tensor2D;
        const dx = runTensorflowKernel(
          TENSORFLOW_KERNELS.channelNormGrad,
          {
            dy: tf.reshape(tf.mul(gradient, savedGamma as tf.Tensor), [1, rows, features, 1]),
            x: savedChannels as tf.Tensor,
            scale: savedScale as tf.Tensor,
            reserve1: reserve1 as tf.Tensor,
            reserve2: reserve2 as tf.Tensor,
            reserve3: reserve3 as tf.Tensor,
          },
          { epsilon },
        ) as tf.Tensor;
        return [
          tf.reshape(dx, [rows, features]),
          columnSums(tf.mul(gradient, xHat as tf.Tensor) as tf.Tensor2D),
          columnSums(gradient),
        ];
      },
    };
  });

function normalizeRows(x: tf.Tensor2D, epsilon: number): { normalized: tf.Tensor2D; inverseStd: tf.Tensor2D } {
  const centred = tf.sub(x, tf.mean(x, 1, true));
  const inverseStd = tf.rsqrt(tf.add(tf.mean(tf.square(centred), 1, true), epsilon)) as tf.Tensor2D;
  return { normalized: tf.mul(centred, inverseStd), inverseStd };
}

/** Layer normalisation over the last axis, with a trainable gain γ (ones) and offset β (zeros). */
export class LayerNorm {
  readonly gamma: tf.Variable;
  readonly beta: tf.Variable;
  readonly epsilon: number;
  private readonly normalize: ReturnType<typeof layerNormImpl>;
  private readonly normalizeFused: ReturnType<typeof fusedLayerNormImpl>;

  /** epsilon: added to the variance, default 1e-6 (ViT). */
  constructor(name: string, features: number, options: { epsilon?: number } = {}) {
    this.epsilon = options.epsilon ?? 1e-6;
    if (!(this.epsilon > 0)) throw new Error(`LayerNorm ${name}: epsilon must be > 0, got ${this.epsilon}.`);
    this.gamma = tf.tidy(() => tf.variable(tf.ones([features]), true, `${name}/gamma`));
    this.beta = tf.tidy(() => tf.variable(tf.zeros([features]), true, `${name}/beta`));
    this.normalize = layerNormImpl(this.epsilon);
    this.normalizeFused = fusedLayerNormImpl(this.epsilon);
  }

  get variables(): tf.Variable[] {
    return [this.gamma, this.beta];
  }

  apply<T extends tf.Tensor>(x: T): T {
    return tf.tidy(() => {
      const form = layerForms().layerNorm;
      if (form === 'addon-kernel') {
        // Normalises over the last axis of any shape: no reshapes (each one is a kernel call on tensorflow).
        const [y] = runTensorflowKernel(
          ADDON_LAYER_KERNELS.layerNorm,
          { x, gamma: this.gamma, beta: this.beta },
          { epsilon: this.epsilon },
        ) as tf.Tensor[];
        return y as T;
      }
      const rows = tf.reshape(x, [-1, this.gamma.shape[0] as number]) as tf.Tensor2D;
      const normalize = form === 'fused-batch-norm' ? this.normalizeFused : this.normalize;
      return tf.reshape(normalize(rows, this.gamma, this.beta), x.shape) as T;
    });
  }

  /** x̂, the normalised input before γ and β (the input of γ for the coordinate check). */
  normalized<T extends tf.Tensor>(x: T): T {
    return tf.tidy(() => {
      const rows = tf.reshape(x, [-1, this.gamma.shape[0] as number]) as tf.Tensor2D;
      return tf.reshape(normalizeRows(rows, this.epsilon).normalized, x.shape) as T;
    });
  }

  dispose(): void {
    for (const variable of this.variables) variable.dispose();
  }
}
