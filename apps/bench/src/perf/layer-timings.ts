import {
  type AttentionWeights,
  BatchNorm,
  biasAdd,
  columnSums,
  conv2d,
  fastBatchMatMul,
  fastMatMul,
  gelu,
  LAYER_FORM_CANDIDATES,
  type LayerForms,
  LayerNorm,
  layerFormRuns,
  logSoftmax,
  relu,
  selfAttention,
  softmaxCrossEntropy,
  withLayerForms,
} from '@mup2/model-zoo';
import * as tf from '@tensorflow/tfjs';
import { timeInterleaved } from './interleaved-timer.js';

/** One timed case of one layer: its forms' median milliseconds (forward + backward unless said). */
export interface LayerCase {
  readonly layer: keyof LayerForms | 'conv2d' | 'batch-norm' | 'layer-norm';
  readonly label: string;
  /** Milliseconds by form; a form the backend cannot run is absent. */
  readonly milliseconds: Record<string, number>;
  /** Forms timed for comparison only, not candidates (a different function, or the stock composition). */
  readonly reference?: Record<string, number>;
}

function tensorsIn(container: tf.TensorContainer): tf.Tensor[] {
  if (container instanceof tf.Tensor) return [container];
  if (Array.isArray(container)) return container.flatMap((item) => tensorsIn(item as tf.TensorContainer));
  if (container && typeof container === 'object') {
    return Object.values(container).flatMap((item) => tensorsIn(item as tf.TensorContainer));
  }
  return [];
}

/** A timing step: runs in a tidy, reads every result back (the backend may be asynchronous inside), frees it. */
const reading = (run: () => tf.TensorContainer) => () =>
  tf.tidy(() => {
    for (const tensor of tensorsIn(run())) tensor.dataSync();
  });

/** The value and every input gradient of sum(f(inputs)). */
const trained = (f: (...inputs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[]) => (): tf.TensorContainer =>
  tf.grads((...args: tf.Tensor[]) => tf.sum(f(...args)))(inputs);

/** Times `run` under each candidate form of `layer`, interleaved, plus reference steps as they are. */
function timeForms<K extends keyof LayerForms>(
  layer: K,
  label: string,
  run: () => tf.TensorContainer,
  options: {
    reps: number;
    available?: (form: LayerForms[K]) => boolean;
    reference?: Record<string, () => tf.TensorContainer>;
  },
): LayerCase {
  const steps: Record<string, () => void> = {};
  const backend = tf.getBackend();
  for (const form of LAYER_FORM_CANDIDATES[layer]) {
    if (!layerFormRuns(layer, form, backend) || (options.available && !options.available(form))) continue;
    const step = reading(run);
    steps[form] = () => withLayerForms({ [layer]: form } as Partial<LayerForms>, step);
  }
  for (const [name, reference] of Object.entries(options.reference ?? {}))
    steps[`reference:${name}`] = reading(reference);
  const times = timeInterleaved(steps, { warmup: 1, rounds: options.reps });
  const pick = (reference: boolean) =>
    Object.fromEntries(
      Object.entries(times)
        .filter(([name]) => name.startsWith('reference:') === reference)
        .map(([name, ms]) => [name.replace(/^reference:/, ''), ms]),
    );
  return { layer, label, milliseconds: pick(false), reference: options.reference ? pick(true) : undefined };
}

const CONV_CASES = [
  { x: [32, 32, 32, 16], kernel: [3, 3, 16, 16], stride: 1 },
  { x: [32, 16, 16, 32], kernel: [3, 3, 32, 64], stride: 2 },
  { x: [32, 8, 8, 64], kernel: [3, 3, 64, 64], stride: 1 },
  { x: [32, 4, 4, 512], kernel: [3, 3, 512, 512], stride: 1 },
] as const;

function attentionWeights(width: number): { weights: AttentionWeights; tensors: tf.Tensor[] } {
  const matrix = () => tf.randomNormal([width, width], 0, 1 / Math.sqrt(width)) as tf.Tensor2D;
  const vector = () => tf.zeros([width]) as tf.Tensor1D;
  const weights: AttentionWeights = {
    query: matrix(),
    key: matrix(),
    value: matrix(),
    output: matrix(),
    queryBias: vector(),
    keyBias: vector(),
    valueBias: vector(),
    outputBias: vector(),
  };
  return { weights, tensors: Object.values(weights) };
}

/**
 * Every layer's candidate forms (LAYER_FORM_CANDIDATES) on the active backend, on shapes
 * the zoo's models use, forward and backward.
 */
export function measureLayerForms(reps: number): LayerCase[] {
  const cases: LayerCase[] = [];
  const created: tf.Tensor[] = [];
  const normal = (shape: readonly number[]) => {
    const tensor = tf.randomNormal([...shape]);
    created.push(tensor);
    return tensor;
  };
  try {
    const [a, b] = [normal([128, 1024]), normal([1024, 1024])];
    cases.push(
      timeForms(
        'matMul',
        'dense [128, 1024] · [1024, 1024]',
        trained((x, w) => fastMatMul(x as tf.Tensor2D, w as tf.Tensor2D), [a, b]),
        {
          reps,
        },
      ),
    );
    // A classifier's readout, thin enough for the addon-kernel form's Mup2ThinMatMul (THIN_SIDE).
    const readout = normal([1024, 10]);
    cases.push(
      timeForms(
        'matMul',
        'readout [128, 1024] · [1024, 10]',
        trained((x, w) => fastMatMul(x as tf.Tensor2D, w as tf.Tensor2D), [a, readout]),
        { reps },
      ),
    );
    const [qa, qb] = [normal([128, 64, 16]), normal([128, 16, 64])];
    cases.push(
      timeForms(
        'matMul',
        'batched [128, 64, 16] · [128, 16, 64]',
        trained((x, w) => fastBatchMatMul(x as tf.Tensor3D, w as tf.Tensor3D), [qa, qb]),
        { reps },
      ),
    );
    // One form: tf.conv2d, whose gradients on wasm are @mup2/core's stride-1 kernels (registerWasmGradientKernels).
    for (const convCase of CONV_CASES) {
      const [x, kernel] = [normal(convCase.x), normal(convCase.kernel)];
      const run = trained(
        (input, w) => conv2d(input as tf.Tensor4D, w as tf.Tensor4D, { stride: convCase.stride }),
        [x, kernel],
      );
      cases.push({
        layer: 'conv2d',
        label: `[${convCase.x.join(', ')}] * ${convCase.kernel[0]}×${convCase.kernel[1]}×${convCase.kernel[2]}→${convCase.kernel[3]}, stride ${convCase.stride}`,
        milliseconds: timeInterleaved({ 'tf.conv2d': reading(run) }, { warmup: 1, rounds: reps }),
      });
    }
    const [batch, tokens, width, heads] = [32, 64, 64, 4];
    const tokensIn = normal([batch * tokens, width]);
    const { weights, tensors } = attentionWeights(width);
    created.push(...tensors);
    // The weights go in as gradient inputs, in the order of their names, and come back as the same object.
    const names = Object.keys(weights) as (keyof AttentionWeights)[];
    const asWeights = (values: tf.Tensor[]) =>
      Object.fromEntries(names.map((name, index) => [name, values[index]])) as unknown as AttentionWeights;
    cases.push(
      timeForms(
        'attention',
        `self-attention, ${batch} × ${tokens} tokens, width ${width}, ${heads} heads`,
        trained(
          (x, ...w) =>
            selfAttention(x as tf.Tensor2D, asWeights(w), { batch, tokens, heads, scale: 1 / Math.sqrt(width / heads) })
              .output,
          [tokensIn, ...names.map((name) => weights[name])],
        ),
        { reps },
      ),
    );
    // BatchNorm's reductions in ResNet-18's first and last stages (batch 32), a ViT bias, the MLP's width.
    for (const shape of [
      [32768, 64],
      [512, 512],
      [4096, 64],
      [128, 1024],
    ] as const) {
      const matrix = normal(shape);
      cases.push(
        timeForms(
          'columnSums',
          `Σ over rows of [${shape.join(', ')}] (forward)`,
          () => columnSums(matrix as tf.Tensor2D),
          {
            reps,
          },
        ),
      );
    }
    // The ViT's projections' bias, forward and backward.
    const [projected, bias] = [normal([4096, 64]), normal([64])];
    cases.push(
      timeForms(
        'biasAdd',
        'bias over rows of [4096, 64]',
        trained((x, b) => biasAdd(x as tf.Tensor2D, b as tf.Tensor1D), [projected, bias]),
        { reps },
      ),
    );
    const rows = normal([8192, 256]);
    cases.push(
      timeForms(
        'gelu',
        'GELU (tanh form) of [8192, 256]',
        trained((x) => gelu(x as tf.Tensor), [rows]),
        {
          reps,
          reference: {
            // Exact GELU, x·Φ(x): a different function (within 5e-4), timed because TF has a native Erf.
            'exact (erf)': trained(
              (x) => tf.mul(tf.mul(x as tf.Tensor, 0.5), tf.add(tf.erf(tf.mul(x as tf.Tensor, Math.SQRT1_2)), 1)),
              [rows],
            ),
          },
        },
      ),
    );
    // The MLP's hidden activations and ResNet-18's first stage (batch 32, 32×32, 64 channels).
    for (const shape of [
      [128, 1024],
      [32, 32, 32, 64],
    ] as const) {
      const activations = normal(shape);
      cases.push(
        timeForms(
          'relu',
          `ReLU of [${shape.join(', ')}]`,
          trained((x) => relu(x as tf.Tensor), [activations]),
          { reps },
        ),
      );
    }
    // The loss of every model here (batch 128, 10 classes), and a wide one.
    for (const shape of [
      [128, 10],
      [4096, 100],
    ] as const) {
      const logits = normal(shape);
      cases.push(
        timeForms(
          'logSoftmax',
          `log softmax of [${shape.join(', ')}]`,
          trained((x) => logSoftmax(x as tf.Tensor2D), [logits]),
          {
            reps,
          },
        ),
      );
    }
    for (const shape of [
      [128, 10],
      [4096, 100],
    ] as const) {
      const logits = normal(shape);
      const labels = tf.tensor1d(
        Array.from({ length: shape[0] }, (_, row) => row % shape[1]),
        'int32',
      );
      created.push(labels);
      cases.push(
        timeForms(
          'crossEntropy',
          `softmax cross-entropy of [${shape.join(', ')}]`,
          trained((x) => softmaxCrossEntropy(x as tf.Tensor2D, labels as tf.Tensor1D), [logits]),
          { reps },
        ),
      );
    }
    cases.push(normTimes(reps, normal));
    cases.push(layerNormTimes(reps, normal));
  } finally {
    tf.dispose(created);
  }
  return cases;
}

/** Training-mode BatchNorm: our closed-form gradient against autodiff of the stock composition (no candidate forms). */
function normTimes(reps: number, normal: (shape: readonly number[]) => tf.Tensor): LayerCase {
  const images = normal([32, 16, 16, 64]);
  const norm = new BatchNorm('layer_timings_bn', 64);
  try {
    const times = timeInterleaved(
      {
        'closed form': reading(
          trained(
            (x, g, b) => {
              void g;
              void b;
              return tf.square(norm.apply(x as tf.Tensor4D, { training: true, updateStatistics: false }));
            },
            [images, norm.gamma, norm.beta],
          ),
        ),
        'stock autodiff': reading(
          trained(
            (x, g, b) => {
              const { mean, variance } = tf.moments(x as tf.Tensor, [0, 1, 2]);
              return tf.square(
                tf.add(
                  tf.mul(tf.div(tf.sub(x as tf.Tensor, mean), tf.sqrt(tf.add(variance, norm.epsilon))), g as tf.Tensor),
                  b as tf.Tensor,
                ),
              );
            },
            [images, norm.gamma, norm.beta],
          ),
        ),
      },
      { warmup: 1, rounds: reps },
    );
    return { layer: 'batch-norm', label: 'BatchNorm (training) of [32, 16, 16, 64]', milliseconds: times };
  } finally {
    norm.dispose();
  }
}

/** LayerNorm in each of its forms, against autodiff of the stock composition. */
function layerNormTimes(reps: number, normal: (shape: readonly number[]) => tf.Tensor): LayerCase {
  const rows = normal([2048, 64]);
  const norm = new LayerNorm('layer_timings_ln', 64);
  try {
    return timeForms(
      'layerNorm',
      'LayerNorm of [2048, 64]',
      trained((x) => tf.square(norm.apply(x as tf.Tensor2D)), [rows]),
      {
        reps,
        reference: {
          'stock autodiff': trained(
            (x) => {
              const { mean, variance } = tf.moments(x as tf.Tensor, [1], true);
              return tf.square(
                tf.add(
                  tf.mul(tf.mul(tf.sub(x as tf.Tensor, mean), tf.rsqrt(tf.add(variance, norm.epsilon))), norm.gamma),
                  norm.beta,
                ),
              );
            },
            [rows],
          ),
        },
      },
    );
  } finally {
    norm.dispose();
  }
}
