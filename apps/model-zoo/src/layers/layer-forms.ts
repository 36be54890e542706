import * as tf from '@tensorflow/tfjs';

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
   * own gradient, whose transposed products native BLAS reads for free.
   */
  readonly matMul: 'plain-products' | 'stock';
  /**
   * Conv2D gradients: 'stride-one-convs' writes both as plain Conv2D calls (wasm has no
   * Conv2DBackpropFilter); 'stock' uses Conv2DBackpropInput/Filter.
   */
  readonly conv2d: 'stride-one-convs' | 'stock';
  /** Per-head attention products: depthwise convolutions (wasm's batched matMul is a scalar loop) or batched matMuls. */
  readonly attention: 'grouped-conv' | 'batched-matmul';
  /** Sums over the rows of a matrix: a ones-row matMul (wasm reduces leading axes through a transpose) or tf.sum. */
  readonly columnSums: 'ones-matmul' | 'stock';
  /** The tanh-form GELU: x·σ(v) with its gradient written out (saves only x), or the same formula through autodiff. */
  readonly gelu: 'closed-form' | 'autodiff';
  /** log softmax: x − logSumExp(x), or tf.logSoftmax. */
  readonly logSoftmax: 'log-sum-exp' | 'stock';
}

/** The candidates of each layer, for benchmarks. */
export const LAYER_FORM_CANDIDATES: { readonly [K in keyof LayerForms]: readonly LayerForms[K][] } = {
  matMul: ['plain-products', 'stock'],
  conv2d: ['stride-one-convs', 'stock'],
  attention: ['grouped-conv', 'batched-matmul'],
  columnSums: ['ones-matmul', 'stock'],
  gelu: ['closed-form', 'autodiff'],
  logSoftmax: ['log-sum-exp', 'stock'],
};

/** wasm (tfjs 4.22, SIMD, one thread): every workaround pays, measured in DESIGN.md §3 and docs/performance.md. */
const WASM_FORMS: LayerForms = {
  matMul: 'plain-products',
  conv2d: 'stride-one-convs',
  attention: 'grouped-conv',
  columnSums: 'ones-matmul',
  gelu: 'closed-form',
  logSoftmax: 'log-sum-exp',
};

/**
 * Forms by backend. Backends not listed (cpu, webgl, webgpu) keep the wasm forms except
 * attention, which has always used batched matMuls there: nobody has timed them yet.
 */
const FORMS_BY_BACKEND: Record<string, LayerForms> = {
  wasm: WASM_FORMS,
  // libtensorflow 2.21 (tfjs-node 4.22): native transposed and batched matMuls, conv gradients and
  // LogSoftmax; a ones-row matMul still beats its column reduction.
  tensorflow: {
    matMul: 'stock',
    conv2d: 'stock',
    attention: 'batched-matmul',
    columnSums: 'ones-matmul',
    gelu: 'closed-form',
    logSoftmax: 'stock',
  },
};
const OTHER_BACKENDS: LayerForms = { ...WASM_FORMS, attention: 'batched-matmul' };

const overrides: Partial<LayerForms>[] = [];

/** The forms the layers use now: the active backend's, under any withLayerForms override. */
export function layerForms(backend: string = tf.getBackend()): LayerForms {
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
