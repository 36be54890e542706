import { FUSED_KERNELS } from '@mup2/core';
import * as tf from '@tensorflow/tfjs';
import { type NativeBackend, register, registerGradient, typeAttribute } from './native-kernel-registry.js';
import { registerThinMatMul } from './thin-matmul-kernel.js';

/**
 * The layer kernels of mup2's own addon (apps/native/src/fused-ops/layer-kernels.cc), registered on
 * 'tensorflow' with their gradients where the addon loads (addonFormRuns). Same formulas as
 * gelu.ts and layer-norm.ts, in one pass over memory each.
 */
export const ADDON_LAYER_KERNELS = {
  /** GELU, tanh form: x → x·σ(2√(2/π)(x + 0.044715x³)). */
  gelu: 'Mup2Gelu',
  /** GELU's gradient (dy, x) → dx, from x alone. */
  geluGrad: 'Mup2GeluGrad',
  /**
   * LayerNorm over the last axis (x of any rank ≥ 1), attribute epsilon: (x, γ, β) → [y, mean, 1/σ]
   * with each row's mean and inverse standard deviation (biased variance), rows in order of the
   * other axes.
   */
  layerNorm: 'Mup2LayerNorm',
  /** LayerNorm's gradient (dy, x, γ, mean, 1/σ) → [dx, dγ, dβ]. */
  layerNormGrad: 'Mup2LayerNormGrad',
  /** ReLU, max(x, 0) (NaN passed through), on the calling thread. */
  relu: 'Mup2Relu',
  /** ReLU's gradient (dy, x) → dy · [x > 0], on the calling thread. */
  reluBackward: 'Mup2ReluBackward',
  /** x ⊙ γ with γ over the last axis (TensorFlow's Mul), whose gradient is scaleGrad. */
  scale: 'Mup2Scale',
  /** The gradients of x ⊙ γ: (dy, x, γ) → [dy ⊙ γ, Σ over rows of dy ⊙ x], in one pass. */
  scaleGrad: 'Mup2ScaleGrad',
  /** softmax(scale·x) over the last axis (attribute scale), on the calling thread (attention-kernels.cc). */
  softmax: 'Mup2Softmax',
  /** Its gradient from its output: (dy, y; scale) → scale·y ⊙ (dy − Σ over the last axis of dy ⊙ y). */
  softmaxGrad: 'Mup2SoftmaxGrad',
  /**
   * x + bias over the last axis, on the calling thread. No gradient of its own: biasAdd (bias-add.ts)
   * gives it one.
   */
  biasAdd: 'Mup2BiasAdd',
  /** x [outer, a, b, inner] → [outer, b, a, inner]: the attention heads' split and merge; its own gradient. */
  swapAxes: 'Mup2SwapAxes',
  /**
   * Mean softmax cross-entropy of logits [N, C] against int32 labels [N] → [loss, (softmax − onehot)/N],
   * the second its gradient (loss-kernels.cc); a label outside [0, C) is an error.
   */
  softmaxCrossEntropyMean: 'Mup2SoftmaxCrossEntropyMean',
  /**
   * op(a) · op(b) of matrices on the calling thread, attribute transpose (bit 0: a, bit 1: b), for
   * products with a thin side (thin-matmul-kernels.cc); its own gradient.
   */
  thinMatMul: 'Mup2ThinMatMul',
} as const;

/** The addon kernels each layer's 'addon-kernel' form calls (layerForms picks a form only where all are there). */
export const ADDON_FORM_KERNELS = {
  gelu: [ADDON_LAYER_KERNELS.gelu, ADDON_LAYER_KERNELS.geluGrad],
  layerNorm: [ADDON_LAYER_KERNELS.layerNorm, ADDON_LAYER_KERNELS.layerNormGrad],
  relu: [ADDON_LAYER_KERNELS.relu, ADDON_LAYER_KERNELS.reluBackward],
  scale: [ADDON_LAYER_KERNELS.scale, ADDON_LAYER_KERNELS.scaleGrad],
  attention: [ADDON_LAYER_KERNELS.softmax, ADDON_LAYER_KERNELS.softmaxGrad, ADDON_LAYER_KERNELS.swapAxes],
  biasAdd: [ADDON_LAYER_KERNELS.biasAdd],
  crossEntropy: [ADDON_LAYER_KERNELS.softmaxCrossEntropyMean],
  matMul: [ADDON_LAYER_KERNELS.thinMatMul],
} as const;

/** mup2's addon of fused kernels, built by `pnpm native:install` next to libtensorflow (apps/native/src/fused-ops.ts). */
const FUSED_OPS_FILE = 'mup2_fused_ops.node';

/**
 * Loads the fused kernels' addon from the deps/lib folder of the tfjs-node this process runs, which
 * registers its ops with that libtensorflow, and returns the names of the ops it has (an addon built
 * from older source has fewer). Undefined where there is none (a tfjs-node installed otherwise,
 * Node < 20.16), or with MUP2_FUSED_KERNELS=0 (to time the step without them); a file that is there
 * but does not load is said on stderr once.
 */
function loadFusedOps(): ReadonlySet<string> | undefined {
  const nodeProcess = (globalThis as { process?: NodeJS.Process }).process;
  if (nodeProcess?.env.MUP2_FUSED_KERNELS === '0') return undefined;
  // Through process rather than imports: this file is in the zoo's browser build too.
  const nodeModule = nodeProcess?.getBuiltinModule?.('node:module') as typeof import('node:module') | undefined;
  const nodeFs = nodeProcess?.getBuiltinModule?.('node:fs') as typeof import('node:fs') | undefined;
  if (nodeProcess === undefined || nodeModule === undefined || nodeFs === undefined) return undefined;
  const entry = Object.keys(nodeModule.createRequire(import.meta.url).cache).find((path) =>
    /[\\/]@tensorflow[\\/]tfjs-node[\\/]dist[\\/]index\.js$/.test(path),
  );
  if (entry === undefined) return undefined;
  const addon = `${entry.slice(0, -'dist/index.js'.length)}deps/lib/${FUSED_OPS_FILE}`;
  if (!nodeFs.existsSync(addon)) return undefined;
  try {
    // dlopen rather than require: no resolution (and no loader hook) between us and the file.
    const module = { exports: {} as { ops?: unknown } };
    nodeProcess.dlopen(module, addon);
    return new Set(Array.isArray(module.exports.ops) ? (module.exports.ops as string[]) : []);
  } catch (error) {
    nodeProcess.stderr.write(
      `mup2: the fused kernels in ${addon} did not load, so the step runs without them: ` +
        `${error instanceof Error ? error.message.split('\n')[0] : String(error)}\n`,
    );
    return undefined;
  }
}

/** Registers @mup2/core's FUSED_KERNELS and ADDON_LAYER_KERNELS for 'tensorflow' when their addon loads (see loadFusedOps). */
export function registerAddonKernels(): void {
  const ops = loadFusedOps();
  if (ops === undefined) return;
  registerAddonLayerKernels();
  registerOptimizerKernels();
  dropKernelsWithoutOps(ops);
}

/**
 * Unregisters the kernels whose op the loaded addon lacks (one built from older source, before
 * `pnpm native:install` rebuilt it), so that the layers' forms and @mup2/core's fused paths fall
 * back to the compositions (layerForms, hasFusedKernel) rather than fail on an op TensorFlow does
 * not know. Each kernel runs the op of its own name; Mup2Scale runs TensorFlow's Mul, and goes
 * with its gradient's op.
 */
export function dropKernelsWithoutOps(ops: ReadonlySet<string>): void {
  for (const name of [...Object.values(ADDON_LAYER_KERNELS), ...Object.values(FUSED_KERNELS)]) {
    const op = name === ADDON_LAYER_KERNELS.scale ? ADDON_LAYER_KERNELS.scaleGrad : name;
    if (!ops.has(op) && tf.getKernel(name, 'tensorflow') !== undefined) tf.unregisterKernel(name, 'tensorflow');
  }
}

/** @mup2/core's FUSED_KERNELS, each one op of the addon. */
function registerOptimizerKernels(): void {
  register(FUSED_KERNELS.momentumStep, (backend, { w, v, g, lr, mu }) =>
    backend.executeMultipleOutputs('Mup2MomentumStep', [], [w, v, g, lr, mu] as tf.TensorInfo[], 2),
  );
  register(FUSED_KERNELS.checkedMomentumStep, (backend, { w, v, g, lr, mu }) =>
    backend.executeMultipleOutputs('Mup2CheckedMomentumStep', [], [w, v, g, lr, mu] as tf.TensorInfo[], 3),
  );
  register(FUSED_KERNELS.sumOfSquares, (backend, { x }) =>
    backend.executeSingleOutput('Mup2SumOfSquares', [], [x as tf.TensorInfo]),
  );
  register(FUSED_KERNELS.innerProduct, (backend, { x, y }) =>
    backend.executeSingleOutput('Mup2InnerProduct', [], [x, y] as tf.TensorInfo[]),
  );
  register(FUSED_KERNELS.addScaled, (backend, { w, d, s }) =>
    backend.executeSingleOutput('Mup2AddScaled', [], [w, d, s] as tf.TensorInfo[]),
  );
  // Its inputs come as one array: the lists w, d and n of N tensors each, then a, b and the radius.
  register(FUSED_KERNELS.movedWeights, (backend, inputs) => {
    const tensors = Object.values(inputs) as tf.TensorInfo[];
    const count = (tensors.length - 3) / 3;
    return backend.executeMultipleOutputs(
      'Mup2MovedWeights',
      [{ name: 'N', type: backend.binding.TF_ATTR_INT, value: count }],
      tensors,
      count + 1,
    );
  });
  // Its inputs come as an array (as AddN's do): TensorFlow's list input, with its length as N.
  register(FUSED_KERNELS.allFinite, (backend, inputs) => {
    const tensors = Object.values(inputs) as tf.TensorInfo[];
    return backend.executeSingleOutput(
      'Mup2AllFinite',
      [{ name: 'N', type: backend.binding.TF_ATTR_INT, value: tensors.length }],
      tensors,
    );
  });
}

/** The layer kernels and their gradients: each gradient is one more kernel of the addon. */
function registerAddonLayerKernels(): void {
  register(ADDON_LAYER_KERNELS.gelu, (backend, { x }) =>
    backend.executeSingleOutput('Mup2Gelu', [], [x as tf.TensorInfo]),
  );
  register(ADDON_LAYER_KERNELS.geluGrad, (backend, { dy, x }) =>
    backend.executeSingleOutput('Mup2GeluGrad', [], [dy as tf.TensorInfo, x as tf.TensorInfo]),
  );
  register(ADDON_LAYER_KERNELS.relu, (backend, { x }) =>
    backend.executeSingleOutput('Mup2Relu', [], [x as tf.TensorInfo]),
  );
  register(ADDON_LAYER_KERNELS.softmaxCrossEntropyMean, (backend, { logits, labels }) =>
    backend.executeMultipleOutputs('Mup2SoftmaxCrossEntropyMean', [], [logits, labels] as tf.TensorInfo[], 2),
  );
  register(ADDON_LAYER_KERNELS.reluBackward, (backend, { dy, x }) =>
    backend.executeSingleOutput('Mup2ReluBackward', [], [dy as tf.TensorInfo, x as tf.TensorInfo]),
  );
  registerGradient({
    kernelName: ADDON_LAYER_KERNELS.relu,
    inputsToSave: ['x'],
    gradFunc: (dy, [x]) => ({
      x: () =>
        tf
          .engine()
          .runKernel(ADDON_LAYER_KERNELS.reluBackward, { dy: dy as tf.Tensor, x: x as tf.Tensor }) as tf.Tensor,
    }),
  });
  register(ADDON_LAYER_KERNELS.scale, (backend, { x, gamma }) =>
    backend.executeSingleOutput('Mul', [typeAttribute(backend)], [x, gamma] as tf.TensorInfo[]),
  );
  register(ADDON_LAYER_KERNELS.scaleGrad, (backend, { dy, x, gamma }) =>
    backend.executeMultipleOutputs('Mup2ScaleGrad', [], [dy, x, gamma] as tf.TensorInfo[], 2),
  );
  registerGradient({
    kernelName: ADDON_LAYER_KERNELS.scale,
    inputsToSave: ['x', 'gamma'],
    // One kernel gives both gradients, so it runs here (as LayerNorm's below).
    gradFunc: (dy, [x, gamma]) => {
      const [dx, dgamma] = tf.engine().runKernel(ADDON_LAYER_KERNELS.scaleGrad, {
        dy: dy as tf.Tensor,
        x: x as tf.Tensor,
        gamma: gamma as tf.Tensor,
      }) as tf.Tensor[];
      return { x: () => dx as tf.Tensor, gamma: () => dgamma as tf.Tensor };
    },
  });
  registerAttentionKernels();
  registerThinMatMul(ADDON_LAYER_KERNELS.thinMatMul);
  registerGradient({
    kernelName: ADDON_LAYER_KERNELS.gelu,
    inputsToSave: ['x'],
    gradFunc: (dy, [x]) => ({
      x: () =>
        tf.engine().runKernel(ADDON_LAYER_KERNELS.geluGrad, { dy: dy as tf.Tensor, x: x as tf.Tensor }) as tf.Tensor,
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
  register(ADDON_LAYER_KERNELS.layerNormGrad, (backend, { dy, x, gamma, mean, rstd }) =>
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
      const [dx, dgamma, dbeta] = tf.engine().runKernel(ADDON_LAYER_KERNELS.layerNormGrad, {
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

/** Softmax, the swap of axes that splits heads, and the bias add: the attention's kernels besides its products. */
function registerAttentionKernels(): void {
  const scaleAttribute = (backend: NativeBackend, scale: unknown) => [
    { name: 'scale', type: backend.binding.TF_ATTR_FLOAT, value: scale as number },
  ];
  register(ADDON_LAYER_KERNELS.softmax, (backend, { x }, { scale }) =>
    backend.executeSingleOutput('Mup2Softmax', scaleAttribute(backend, scale), [x as tf.TensorInfo]),
  );
  register(ADDON_LAYER_KERNELS.softmaxGrad, (backend, { dy, y }, { scale }) =>
    backend.executeSingleOutput('Mup2SoftmaxGrad', scaleAttribute(backend, scale), [dy, y] as tf.TensorInfo[]),
  );
  registerGradient({
    kernelName: ADDON_LAYER_KERNELS.softmax,
    outputsToSave: [true],
    gradFunc: (dy, [y], attrs) => ({
      x: () =>
        tf
          .engine()
          .runKernel(ADDON_LAYER_KERNELS.softmaxGrad, { dy: dy as tf.Tensor, y: y as tf.Tensor }, attrs) as tf.Tensor,
    }),
  });
  register(ADDON_LAYER_KERNELS.biasAdd, (backend, { x, bias }) =>
    backend.executeSingleOutput('Mup2BiasAdd', [], [x, bias] as tf.TensorInfo[]),
  );
  register(ADDON_LAYER_KERNELS.swapAxes, (backend, { x }) =>
    backend.executeSingleOutput('Mup2SwapAxes', [], [x as tf.TensorInfo]),
  );
  registerGradient({
    kernelName: ADDON_LAYER_KERNELS.swapAxes,
    gradFunc: (dy) => ({
      x: () => tf.engine().runKernel(ADDON_LAYER_KERNELS.swapAxes, { x: dy as tf.Tensor }) as tf.Tensor,
    }),
  });
}
