import { FUSED_KERNELS } from '@mup2/core';
import * as tf from '@tensorflow/tfjs';

/**
 * TensorFlow kernels that tfjs-node has but does not expose as TF.js ops, registered as TF.js
 * kernels of the 'tensorflow' backend under our own names, so a layer can call one kernel where
 * TF.js would compose several (each TF.js op is one call into libtensorflow and one fresh output
 * buffer). tfjs-node's backend runs any TensorFlow op by name (`executeSingleOutput`), which is
 * what its own kernels do; these are three more of the same kind.
 */
export const TENSORFLOW_KERNELS = {
  /** ReluGrad(dy, x) = dy ⊙ [x > 0]: one kernel where tf.relu's gradient builds tf.step from six. */
  reluGrad: 'Mup2ReluGrad',
  /** SigmoidGrad(y, dy) = dy ⊙ y ⊙ (1 − y), σ's gradient from its output: one kernel for TF.js's three. */
  sigmoidGrad: 'Mup2SigmoidGrad',
  /**
   * A product of matrices (attributes transposeA, transposeB) through TensorFlow's 2-D MatMul op,
   * and through BatchMatMulV2 when b is transposed (MatMul is slower there): tf.matMul always
   * calls BatchMatMulV2, which with oneDNN runs the MLP's and ViT's products 10–70% slower.
   */
  matMul: 'Mup2MatMul',
  /** BiasAddGrad(x): the sum over every axis but the last, a reduction TF.js runs as a transpose and a sum. */
  columnSums: 'Mup2ColumnSums',
  /** SparseSoftmaxCrossEntropyWithLogits: each row's loss and its gradient in one pass. */
  sparseSoftmaxCrossEntropy: 'Mup2SparseSoftmaxCrossEntropy',
  /**
   * FusedBatchNormV3 in training mode on NCHW data: each channel normalised by its own mean and
   * (biased) variance over the other axes; outputs [y, reserve 1, reserve 2, reserve 3] (what its
   * gradient needs). With the rows of a matrix as channels, that is layer normalisation.
   */
  channelNorm: 'Mup2ChannelNorm',
  /** FusedBatchNormGradV3 of the above: the input's gradient from the output's, given its reserves. */
  channelNormGrad: 'Mup2ChannelNormGrad',
} as const;

/**
 * The layer kernels of mup2's own addon (apps/native/src/fused-ops/layer-kernels.cc), registered on
 * 'tensorflow' with their gradients where the addon loads (hasAddonLayerKernels). Same formulas as
 * gelu.ts and layer-norm.ts, in one pass over memory each.
 */
export const ADDON_LAYER_KERNELS = {
  /** GELU, tanh form: x → x·σ(2√(2/π)(x + 0.044715x³)); its gradient is Mup2GeluGrad(dy, x). */
  gelu: 'Mup2Gelu',
  /**
   * LayerNorm over the last axis (x of any rank ≥ 1), attribute epsilon: (x, γ, β) → [y, mean, 1/σ]
   * with each row's mean and inverse standard deviation (biased variance), rows in order of the
   * other axes; its gradient is Mup2LayerNormGrad.
   */
  layerNorm: 'Mup2LayerNorm',
} as const;

interface NativeAttribute {
  readonly name: string;
  readonly type: number;
  readonly value: number | string | boolean;
}

/** What these kernels use of tfjs-node's NodeJSKernelBackend. */
interface NativeBackend {
  readonly binding: {
    readonly TF_ATTR_TYPE: number;
    readonly TF_ATTR_STRING: number;
    readonly TF_ATTR_FLOAT: number;
    readonly TF_ATTR_BOOL: number;
    readonly TF_FLOAT: number;
    readonly TF_INT32: number;
  };
  executeSingleOutput(name: string, attributes: NativeAttribute[], inputs: tf.TensorInfo[]): tf.Tensor;
  executeMultipleOutputs(
    name: string,
    attributes: NativeAttribute[],
    inputs: tf.TensorInfo[],
    count: number,
  ): tf.Tensor[];
}

const typeAttribute = (backend: NativeBackend, name = 'T', dtype = backend.binding.TF_FLOAT): NativeAttribute => ({
  name,
  type: backend.binding.TF_ATTR_TYPE,
  value: dtype,
});

function register(
  kernelName: string,
  kernelFunc: (backend: NativeBackend, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap) => unknown,
) {
  if (tf.getKernel(kernelName, 'tensorflow') !== undefined) return;
  tf.registerKernel({
    kernelName,
    backendName: 'tensorflow',
    kernelFunc: ({ inputs, backend, attrs }) =>
      kernelFunc(backend as unknown as NativeBackend, inputs, attrs ?? {}) as tf.TensorInfo | tf.TensorInfo[],
  });
}

/** FusedBatchNorm's attributes for NCHW data in training mode with the given epsilon. */
function batchNormAttributes(backend: NativeBackend, epsilon: number): NativeAttribute[] {
  const { binding } = backend;
  return [
    typeAttribute(backend),
    typeAttribute(backend, 'U'),
    { name: 'epsilon', type: binding.TF_ATTR_FLOAT, value: epsilon },
    { name: 'data_format', type: binding.TF_ATTR_STRING, value: 'NCHW' },
    { name: 'is_training', type: binding.TF_ATTR_BOOL, value: true },
  ];
}

/** The fused optimizer kernels' addon, built by `pnpm native:install` next to libtensorflow (apps/native/src/fused-ops.ts). */
const FUSED_OPS_FILE = 'mup2_fused_ops.node';

/**
 * Loads the fused kernels' addon from the deps/lib folder of the tfjs-node this process runs, which
 * registers its ops with that libtensorflow. False where there is none (a tfjs-node installed
 * otherwise, Node < 20.16), or with MUP2_FUSED_KERNELS=0 (to time the step without them); a file
 * that is there but does not load is said on stderr once.
 */
function loadFusedOps(): boolean {
  const nodeProcess = (globalThis as { process?: NodeJS.Process }).process;
  if (nodeProcess?.env.MUP2_FUSED_KERNELS === '0') return false;
  // Through process rather than imports: this file is in the zoo's browser build too.
  const nodeModule = nodeProcess?.getBuiltinModule?.('node:module') as typeof import('node:module') | undefined;
  const nodeFs = nodeProcess?.getBuiltinModule?.('node:fs') as typeof import('node:fs') | undefined;
  if (nodeProcess === undefined || nodeModule === undefined || nodeFs === undefined) return false;
  const entry = Object.keys(nodeModule.createRequire(import.meta.url).cache).find((path) =>
    /[\\/]@tensorflow[\\/]tfjs-node[\\/]dist[\\/]index\.js$/.test(path),
  );
  if (entry === undefined) return false;
  const addon = `${entry.slice(0, -'dist/index.js'.length)}deps/lib/${FUSED_OPS_FILE}`;
  if (!nodeFs.existsSync(addon)) return false;
  try {
    // dlopen rather than require: no resolution (and no loader hook) between us and the file.
    nodeProcess.dlopen({ exports: {} }, addon);
    return true;
  } catch (error) {
    nodeProcess.stderr.write(
      `mup2: the fused optimizer kernels in ${addon} did not load, so the step runs without them: ` +
        `${error instanceof Error ? error.message.split('\n')[0] : String(error)}\n`,
    );
    return false;
  }
}

/** Registers @mup2/core's FUSED_KERNELS and ADDON_LAYER_KERNELS for 'tensorflow' when their addon loads (see loadFusedOps). */
function registerFusedKernels(): void {
  if (!loadFusedOps()) return;
  registerAddonLayerKernels();
  register(FUSED_KERNELS.momentumStep, (backend, { w, v, g, lr, mu }) =>
    backend.executeMultipleOutputs('Mup2MomentumStep', [], [w, v, g, lr, mu] as tf.TensorInfo[], 2),
  );
  register(FUSED_KERNELS.sumOfSquares, (backend, { x }) =>
    backend.executeSingleOutput('Mup2SumOfSquares', [], [x as tf.TensorInfo]),
  );
}

/** tf.registerGradient, once per kernel (a second registration would override with a warning). */
function registerGradient(config: tf.GradConfig): void {
  if (tf.getGradient(config.kernelName) === undefined) tf.registerGradient(config);
}

/** The layer kernels and their gradients: each gradient is one more kernel of the addon. */
function registerAddonLayerKernels(): void {
  register(ADDON_LAYER_KERNELS.gelu, (backend, { x }) =>
    backend.executeSingleOutput('Mup2Gelu', [], [x as tf.TensorInfo]),
  );
  register('Mup2GeluGrad', (backend, { dy, x }) =>
    backend.executeSingleOutput('Mup2GeluGrad', [], [dy as tf.TensorInfo, x as tf.TensorInfo]),
  );
  registerGradient({
    kernelName: ADDON_LAYER_KERNELS.gelu,
    inputsToSave: ['x'],
    gradFunc: (dy, [x]) => ({
      x: () => tf.engine().runKernel('Mup2GeluGrad', { dy: dy as tf.Tensor, x: x as tf.Tensor }) as tf.Tensor,
    }),
  });
  register(ADDON_LAYER_KERNELS.layerNorm, (backend, { x, gamma, beta }, { epsilon }) =>
    backend.executeMultipleOutputs(
      'Mup2LayerNorm',
      [{ name: 'epsilon', type: backend.binding.TF_ATTR_FLOAT, value: epsilon as number }],
      [x, gamma, beta] as tf.TensorInfo[],
      3,
    ),
  );
  register('Mup2LayerNormGrad', (backend, { dy, x, gamma, mean, rstd }) =>
    backend.executeMultipleOutputs('Mup2LayerNormGrad', [], [dy, x, gamma, mean, rstd] as tf.TensorInfo[], 3),
  );
  registerGradient({
    kernelName: ADDON_LAYER_KERNELS.layerNorm,
    inputsToSave: ['x', 'gamma'],
    outputsToSave: [false, true, true],
    // Only y's gradient counts: the mean and 1/σ outputs are kept for this, not used downstream. One
    // kernel gives all three gradients, so it runs here, in the backward pass's scope: TF.js calls each
    // input's thunk in a tidy of its own, which would dispose the other two.
    gradFunc: (dys, [x, gamma, mean, rstd]) => {
      const [dx, dgamma, dbeta] = tf.engine().runKernel('Mup2LayerNormGrad', {
        dy: (dys as tf.Tensor[])[0] as tf.Tensor,
        x: x as tf.Tensor,
        gamma: gamma as tf.Tensor,
        mean: mean as tf.Tensor,
        rstd: rstd as tf.Tensor,
      }) as tf.Tensor[];
      return { x: () => dx as tf.Tensor, gamma: () => dgamma as tf.Tensor, beta: () => dbeta as tf.Tensor };
    },
  });
}

/** Whether ADDON_LAYER_KERNELS run on `backend` (tensorflow, with mup2's addon loaded). */
export function hasAddonLayerKernels(backend: string = tf.getBackend()): boolean {
  if (backend !== 'tensorflow') return false;
  registerTensorflowKernels();
  return tf.getKernel(ADDON_LAYER_KERNELS.gelu, 'tensorflow') !== undefined;
}

/** TF's MatMul, or BatchMatMulV2 with b transposed; both take 2-D inputs without reshapes. */
function registerMatMul(): void {
  register(TENSORFLOW_KERNELS.matMul, (backend, { a, b }, { transposeA, transposeB }) => {
    const flags = transposeB
      ? { adj_x: transposeA === true, adj_y: true }
      : { transpose_a: transposeA === true, transpose_b: false };
    return backend.executeSingleOutput(
      transposeB ? 'BatchMatMulV2' : 'MatMul',
      [
        typeAttribute(backend),
        ...Object.entries(flags).map(([name, value]) => ({ name, type: backend.binding.TF_ATTR_BOOL, value })),
      ],
      [a as tf.TensorInfo, b as tf.TensorInfo],
    );
  });
  const product = (a: tf.Tensor, b: tf.Tensor, transposeA: boolean, transposeB: boolean) =>
    tf.engine().runKernel(TENSORFLOW_KERNELS.matMul, { a, b }, { transposeA, transposeB }) as tf.Tensor;
  // C = op(a)·op(b): the four cases of tf.matMul's own gradient.
  registerGradient({
    kernelName: TENSORFLOW_KERNELS.matMul,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, [a, b], attrs) => {
      const [gradient, left, right] = [dy as tf.Tensor, a as tf.Tensor, b as tf.Tensor];
      const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
      if (!transposeA && !transposeB)
        return { a: () => product(gradient, right, false, true), b: () => product(left, gradient, true, false) };
      if (!transposeA && transposeB)
        return { a: () => product(gradient, right, false, false), b: () => product(gradient, left, true, false) };
      if (transposeA && !transposeB)
        return { a: () => product(right, gradient, false, true), b: () => product(left, gradient, false, false) };
      return { a: () => product(right, gradient, true, true), b: () => product(gradient, left, true, true) };
    },
  });
}

let registered = false;

/** Registers the kernels above for the 'tensorflow' backend (once per thread; harmless where tfjs-node is absent). */
export function registerTensorflowKernels(): void {
  if (registered) return;
  registered = true;
  registerFusedKernels();
  registerMatMul();
  register(TENSORFLOW_KERNELS.reluGrad, (backend, { dy, x }) =>
    backend.executeSingleOutput('ReluGrad', [typeAttribute(backend)], [dy as tf.TensorInfo, x as tf.TensorInfo]),
  );
  register(TENSORFLOW_KERNELS.sigmoidGrad, (backend, { y, dy }) =>
    backend.executeSingleOutput('SigmoidGrad', [typeAttribute(backend)], [y as tf.TensorInfo, dy as tf.TensorInfo]),
  );
  register(TENSORFLOW_KERNELS.columnSums, (backend, { x }) =>
    backend.executeSingleOutput(
      'BiasAddGrad',
      [typeAttribute(backend), { name: 'data_format', type: backend.binding.TF_ATTR_STRING, value: 'NHWC' }],
      [x as tf.TensorInfo],
    ),
  );
  register(TENSORFLOW_KERNELS.channelNorm, (backend, { x, scale, offset }, { epsilon }) => {
    const empty = tf.zeros([0]);
    const attributes = [
      ...batchNormAttributes(backend, epsilon as number),
      { name: 'exponential_avg_factor', type: backend.binding.TF_ATTR_FLOAT, value: 1 },
    ];
    const [y, mean, variance, ...reserves] = backend.executeMultipleOutputs(
      'FusedBatchNormV3',
      attributes,
      [x, scale, offset, empty, empty] as tf.TensorInfo[],
      6,
    );
    tf.dispose([empty, mean as tf.Tensor, variance as tf.Tensor]);
    return [y, ...reserves];
  });
  register(
    TENSORFLOW_KERNELS.channelNormGrad,
    (backend, { dy, x, scale, reserve1, reserve2, reserve3 }, { epsilon }) => {
      const [dx, ...rest] = backend.executeMultipleOutputs(
        'FusedBatchNormGradV3',
        batchNormAttributes(backend, epsilon as number),
        [dy, x, scale, reserve1, reserve2, reserve3] as tf.TensorInfo[],
        5,
      );
      tf.dispose(rest);
      return dx;
    },
  );
  register(TENSORFLOW_KERNELS.sparseSoftmaxCrossEntropy, (backend, { logits, labels }) =>
    backend.executeMultipleOutputs(
      'SparseSoftmaxCrossEntropyWithLogits',
      [typeAttribute(backend), typeAttribute(backend, 'Tlabels', backend.binding.TF_INT32)],
      [logits as tf.TensorInfo, labels as tf.TensorInfo],
      2,
    ),
  );
}

/** Whether the active backend can run the kernels above. */
export function hasTensorflowKernels(backend: string = tf.getBackend()): boolean {
  return backend === 'tensorflow';
}

/** Runs one of the kernels above (registering them first), as TF.js tensors. */
export function runTensorflowKernel(
  kernelName: string,
  inputs: tf.NamedTensorMap,
  attrs: tf.NamedAttrMap = {},
): tf.Tensor | tf.Tensor[] {
  registerTensorflowKernels();
  return tf.engine().runKernel(kernelName, inputs, attrs) as tf.Tensor | tf.Tensor[];
}
