import * as tf from '@tensorflow/tfjs';
import { addonFormRuns } from './tensorflow-kernels.js';

/**
 * How each layer computes, where more than one correct form exists. Every form of a
 * layer gives the same values and gradients (to float rounding); they differ in which
 * kernels they call, and backends differ in which kernels are fast. `pnpm bench layers`
 * times every form on every backend; docs/performance.md records the choice and why.
 */
export interface LayerForms {
  /**
   * Dense and batched matMul gradients: 'plain-products' materialises the transposes and
   * calls the plain matMul (wasm runs transposeA/B 10–40× slower); 'stock' is tf.matMul's
   * own gradient, whose transposed products native BLAS reads for free. (TensorFlow's 2-D MatMul op
   * is not offered on tensorflow: on AVX-512 machines it corrupted the heap when a signal arrived
   * during it, which BatchMatMulV2, tf.matMul's kernel, did not; docs/native-backend.md.) 'addon-kernel' is 'stock'
   * but for products with a side of at most THIN_SIDE (a classifier's outputs), which run both
   * passes in mup2's own kernel on the calling thread (tensorflow with mup2's addon; fast-matmul.ts).
   */
  readonly matMul: 'plain-products' | 'stock' | 'addon-kernel';
  /**
   * Per-head attention products: depthwise convolutions (wasm's batched matMul is a scalar loop),
   * batched matMuls, or batched matMuls with the heads' split and merge and the softmax (both
   * passes) in mup2's own kernels, on the calling thread (tensorflow with mup2's addon).
   */
  readonly attention: 'grouped-conv' | 'batched-matmul' | 'addon-kernel';
  /** A bias added over rows: tf.add, or mup2's own kernel on the calling thread (tensorflow with mup2's addon). */
  readonly biasAdd: 'stock' | 'addon-kernel';
  /**
   * Sums over the rows of a matrix: a ones-row matMul (wasm reduces leading axes through a transpose),
   * tf.sum, or TensorFlow's BiasAddGrad kernel (tensorflow only).
   */
  readonly columnSums: 'ones-matmul' | 'stock' | 'bias-add-grad';
  /**
   * The tanh-form GELU: x·σ(v) with its gradient written out (saves only x), the same formula through
   * autodiff, a gradient through TensorFlow's SigmoidGrad kernel (tensorflow only), or mup2's own
   * kernels for both passes (tensorflow with mup2's addon: docs/native-backend.md).
   */
  readonly gelu: 'closed-form' | 'autodiff' | 'sigmoid-grad-kernel' | 'addon-kernel';
  /** log softmax: x − logSumExp(x), or tf.logSoftmax. */
  readonly logSoftmax: 'log-sum-exp' | 'stock';
  /**
   * ReLU's gradient: tf.relu's own (dy ⊙ tf.step(x)), dy ⊙ [x > 0] from a comparison,
   * TensorFlow's ReluGrad kernel (tensorflow only), or mup2's own kernels for both passes, which run
   * on the calling thread (tensorflow with mup2's addon).
   */
  readonly relu: 'stock' | 'greater-mask' | 'relu-grad-kernel' | 'addon-kernel';
  /**
   * A per-feature gain x ⊙ γ (the MLP's norm gain): TF.js's autodiff of tf.mul (two multiplies and
   * a sum over rows backwards), or mup2's own kernel for both gradients in one pass (tensorflow with
   * mup2's addon).
   */
  readonly scale: 'stock' | 'addon-kernel';
  /**
   * Mean softmax cross-entropy against integer labels: composed from log softmax, one-hot and a
   * sum, TensorFlow's SparseSoftmaxCrossEntropyWithLogits, which gives each row's loss and its
   * gradient in one kernel (tensorflow only), or mup2's kernel, which also takes their mean and
   * scales the gradient by 1/N (tensorflow with mup2's addon).
   */
  readonly crossEntropy: 'composed' | 'fused-kernel' | 'addon-kernel';
  /**
   * LayerNorm: its closed-form gradient, TensorFlow's FusedBatchNormV3 and its gradient on the
   * rows as channels (tensorflow only), or mup2's own kernels for both passes (tensorflow with
   * mup2's addon).
   */
  readonly layerNorm: 'closed-form' | 'fused-batch-norm' | 'addon-kernel';
}

/** The candidates of each layer, for benchmarks. */
export const LAYER_FORM_CANDIDATES: { readonly [K in keyof LayerForms]: readonly LayerForms[K][] } = {
  matMul: ['plain-products', 'stock', 'addon-kernel'],
  attention: ['grouped-conv', 'batched-matmul', 'addon-kernel'],
  biasAdd: ['stock', 'addon-kernel'],
  columnSums: ['ones-matmul', 'stock', 'bias-add-grad'],
  gelu: ['closed-form', 'autodiff', 'sigmoid-grad-kernel', 'addon-kernel'],
  logSoftmax: ['log-sum-exp', 'stock'],
  relu: ['stock', 'greater-mask', 'relu-grad-kernel', 'addon-kernel'],
  scale: ['stock', 'addon-kernel'],
  crossEntropy: ['composed', 'fused-kernel', 'addon-kernel'],
  layerNorm: ['closed-form', 'fused-batch-norm', 'addon-kernel'],
};

/** Forms that call a TensorFlow kernel of tensorflow-kernels.ts, so run on the tensorflow backend only. */
const TENSORFLOW_ONLY_FORMS: ReadonlySet<string> = new Set([
  'bias-add-grad',
  'relu-grad-kernel',
  'fused-kernel',
  'fused-batch-norm',
  'sigmoid-grad-kernel',
]);

/** Whether `backend` can run a layer in `form` (benchmarks and tests try every form that can). */
export function layerFormRuns<K extends keyof LayerForms>(layer: K, form: LayerForms[K], backend: string): boolean {
  if (form === 'addon-kernel') return layer in ADDON_FORMS && addonFormRuns(layer as keyof typeof ADDON_FORMS, backend);
  return !TENSORFLOW_ONLY_FORMS.has(form) || backend === 'tensorflow';
}

/**
 * wasm (tfjs 4.22, SIMD, one thread): the matMul and attention workarounds and the GELU gradient
 * pay (DESIGN.md §3; convolutions train through @mup2/core's wasm gradient kernels, see conv2d.ts);
 * tf.logSoftmax beats x − logSumExp(x) 3–7×. Sums over rows: tf.sum was faster alone on 3 of 4
 * shapes, the ones-row matMul faster inside a ResNet step, so it stays.
 */
const WASM_FORMS: LayerForms = {
  matMul: 'plain-products',
  attention: 'grouped-conv',
  biasAdd: 'stock',
  columnSums: 'ones-matmul',
  gelu: 'closed-form',
  logSoftmax: 'stock',
  relu: 'stock',
  scale: 'stock',
  crossEntropy: 'composed',
  layerNorm: 'closed-form',
};

/**
 * Forms by backend. Backends not listed (cpu, webgl, webgpu) have not been timed: they keep
 * the forms they always had (wasm's workarounds, batched-matmul attention).
 */
const FORMS_BY_BACKEND: Record<string, LayerForms> = {
  wasm: WASM_FORMS,
  // libtensorflow 2.21 (tfjs-node 4.22): native transposed and batched matMuls and LogSoftmax. TensorFlow's own kernels (tensorflow-kernels.ts) beat the compositions: BiasAddGrad
  // sums rows 3–5× faster than a ones-row matMul, ReluGrad is 3× the comparison mask (and 18–30×
  // tf.step), the fused cross-entropy takes 2–6× less time than log softmax, one-hot and a sum, and
  // GELU with SigmoidGrad makes the ViT step 1–4% faster than its autodiff (which beats the closed
  // form). LayerNorm through FusedBatchNorm was no faster in a ViT step: the closed form stays.
  // Where mup2's addon is loaded, its GELU and LayerNorm kernels replace both (ADDON_FORMS).
  // Products stay with tf.matMul's BatchMatMulV2: TensorFlow's 2-D MatMul was 1–2% faster in the MLP's
  // step but corrupted the heap when a signal landed during it on AVX-512 machines, where
  // BatchMatMulV2 did not (on AVX2 both can; the addon's alternate signal stack: docs/native-backend.md).
  tensorflow: {
    matMul: 'stock',
    attention: 'batched-matmul',
    biasAdd: 'stock',
    columnSums: 'bias-add-grad',
    gelu: 'sigmoid-grad-kernel',
    logSoftmax: 'stock',
    relu: 'relu-grad-kernel',
    scale: 'stock',
    crossEntropy: 'fused-kernel',
    layerNorm: 'closed-form',
  },
};

/**
 * tensorflow's forms with mup2's addon loaded: GELU and LayerNorm each one kernel per pass, ReLU's
 * passes on the calling thread (at 2 threads the MLP's SAM step 6% faster, ResNet-18's SGD step 4%),
 * a gain's gradients in one kernel, the attention's head split, merge and softmax and the bias add on
 * the calling thread (the ViT's SGD step 12% faster at 2 threads, 7% at 1), the loss's mean in its
 * kernel (the main job's ×1 MLP: SGD step 8–13% faster at 1 thread) (docs/performance-log.md).
 */
const ADDON_FORMS = {
  matMul: 'addon-kernel',
  gelu: 'addon-kernel',
  layerNorm: 'addon-kernel',
  relu: 'addon-kernel',
  scale: 'addon-kernel',
  attention: 'addon-kernel',
  biasAdd: 'addon-kernel',
  crossEntropy: 'addon-kernel',
} as const satisfies Partial<LayerForms>;

const ADDON_LAYERS = Object.keys(ADDON_FORMS) as (keyof typeof ADDON_FORMS)[];

/**
 * tensorflow's forms, with each layer's addon form where the loaded addon has its kernels
 * (addonFormRuns), as a fresh object. layerForms() runs at every layer call: a loop, no entries.
 */
function tensorflowForms(): LayerForms {
  const forms: { -readonly [K in keyof LayerForms]: LayerForms[K] } = {
    ...(FORMS_BY_BACKEND.tensorflow as LayerForms),
  };
  for (const layer of ADDON_LAYERS) if (addonFormRuns(layer, 'tensorflow')) forms[layer] = ADDON_FORMS[layer];
  return forms;
}

const OTHER_BACKENDS: LayerForms = {
  matMul: 'plain-products',
  attention: 'batched-matmul',
  biasAdd: 'stock',
  columnSums: 'ones-matmul',
  gelu: 'closed-form',
  logSoftmax: 'log-sum-exp',
  relu: 'stock',
  scale: 'stock',
  crossEntropy: 'composed',
  layerNorm: 'closed-form',
};

const overrides: Partial<LayerForms>[] = [];

/** The forms the layers use now: the active backend's, under any withLayerForms override. */
export function layerForms(backend: string = tf.getBackend()): LayerForms {
  if (backend === 'tensorflow') return Object.assign(tensorflowForms(), ...overrides);
  return Object.assign({}, FORMS_BY_BACKEND[backend] ?? OTHER_BACKENDS, ...overrides);
}

/** Runs `run` with some layers forced to a form (benchmarks and tests compare forms with it). */
export function withLayerForms<T>(forms: Partial<LayerForms>, run: () => T): T {
  overrides.push(forms);
  try {
    return run();
  } finally {
    overrides.pop();
  }
}
