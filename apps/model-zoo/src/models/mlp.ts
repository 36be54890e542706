import { type MeasuredLayer, muInit, type Parameterization, paramSpecs } from '@mup2/core';
import * as tf from '@tensorflow/tfjs';
import { fastMatMul } from '../layers/fast-matmul.js';
import { softmaxCrossEntropy } from '../layers/log-softmax.js';
import { relu } from '../layers/relu.js';
import { scaleFeatures } from '../layers/scale.js';
import type { ZooModel } from './zoo-model.js';

export interface MlpOptions {
  readonly inputSize: number;
  readonly width: number;
  /** The width at which µP equals SP; the roles come from comparing with it. Default 64. */
  readonly baseWidth?: number;
  /** Number of hidden layers (each width × width after the first). Default 2. */
  readonly depth?: number;
  readonly classes: number;
  /** A per-feature gain after the first layer, marked `norm` (what SAM-ON perturbs). Default true. */
  readonly normGain?: boolean;
  readonly bias?: boolean;
  readonly parameterization?: Parameterization;
  /** µP readout initialisation (DESIGN.md §4). Default 'scaled'. */
  readonly readout?: 'scaled' | 'zero';
  readonly seed?: number;
}

let instances = 0;

/**
 * An MLP  x → relu(γ ⊙ x·W1) → relu(·W2) … → ·Wout  built from raw variables and
 * the fast-gradient matmul. SP init is He-normal for layers before a ReLU and
 * 1/√fan_in for the readout; µP divides the readout by √(width/baseWidth)
 * (or zeroes it).
 */
export function createMlp(options: MlpOptions): ZooModel {
  const { inputSize, width, classes } = options;
  const baseWidth = options.baseWidth ?? 64;
  const depth = options.depth ?? 2;
  const normGain = options.normGain ?? true;
  const bias = options.bias ?? false;
  const seed = options.seed ?? 0;
  const prefix = `mlp${instances++}_w${width}`;
  // Offsets start at 1: TF.js treats a seed of 0 as no seed at all (Math.random), so seed 0 must not reach it.
  let seedOffset = 0;
  // tidy disposes each initial value; the variable keeps its own reference to the buffer.
  const normal = (shape: number[], std: number, name: string) =>
    tf.tidy(() =>
      tf.variable(tf.randomNormal(shape, 0, std, 'float32', seed * 1000 + ++seedOffset), true, `${prefix}/${name}`),
    );

  const weights: tf.Variable[] = [];
  const entries: Array<{ variable: tf.Variable; baseShape: number[]; deltaShape: number[]; norm?: boolean }> = [];
  const sizes = [inputSize, ...Array.from({ length: depth }, () => width)];
  const baseSizes = [inputSize, ...Array.from({ length: depth }, () => baseWidth)];
  // The shapes at twice the base width tell which dimensions grow, even when width = baseWidth.
  const deltaWidth = 2 * baseWidth;
  const deltaSizes = [inputSize, ...Array.from({ length: depth }, () => deltaWidth)];
  for (let layer = 0; layer < depth; layer++) {
    const fanIn = sizes[layer] as number;
    const kernel = normal([fanIn, width], Math.sqrt(2 / fanIn), `dense${layer}/kernel`);
    weights.push(kernel);
    entries.push({
      variable: kernel,
      baseShape: [baseSizes[layer] as number, baseWidth],
      deltaShape: [deltaSizes[layer] as number, deltaWidth],
    });
  }
  const readout = normal([width, classes], 1 / Math.sqrt(width), 'readout/kernel');
  entries.push({ variable: readout, baseShape: [baseWidth, classes], deltaShape: [deltaWidth, classes] });
  const gain = normGain ? tf.tidy(() => tf.variable(tf.ones([width]), true, `${prefix}/gain`)) : undefined;
  if (gain) entries.push({ variable: gain, baseShape: [baseWidth], deltaShape: [deltaWidth], norm: true });
  const biases = bias
    ? Array.from({ length: depth }, (_, layer) =>
        tf.tidy(() => tf.variable(tf.zeros([width]), true, `${prefix}/dense${layer}/bias`)),
      )
    : [];
  biases.forEach((variable) => entries.push({ variable, baseShape: [baseWidth], deltaShape: [deltaWidth] }));
  const readoutBias = bias
    ? tf.tidy(() => tf.variable(tf.zeros([classes]), true, `${prefix}/readout/bias`))
    : undefined;
  if (readoutBias) entries.push({ variable: readoutBias, baseShape: [classes], deltaShape: [classes] });

  const specs = paramSpecs(entries);
  if ((options.parameterization ?? 'mup') === 'mup') muInit(specs, { readout: options.readout ?? 'scaled' });

  /** Hidden activations, and each weight's input for the coordinate check. */
  const forward = (x: tf.Tensor) => {
    const inputs: tf.Tensor2D[] = [];
    let h = tf.reshape(x, [-1, inputSize]) as tf.Tensor2D;
    let gainInput: tf.Tensor2D | undefined;
    weights.forEach((kernel, layer) => {
      inputs.push(h);
      let z = fastMatMul(h, kernel as tf.Tensor2D);
      if (layer === 0 && gain) {
        gainInput = z;
        z = scaleFeatures(z, gain as tf.Tensor1D);
      }
      const layerBias = biases[layer];
      if (layerBias) z = tf.add(z, layerBias);
      h = relu(z);
    });
    inputs.push(h);
    let logits = fastMatMul(h, readout as tf.Tensor2D);
    if (readoutBias) logits = tf.add(logits, readoutBias);
    return { logits, inputs, gainInput };
  };

  const trainableVariables = entries.map((entry) => entry.variable);
  return {
    name: 'mlp',
    specs,
    trainableVariables,
    allVariables: trainableVariables,
    apply: (x) => tf.tidy(() => forward(x).logits),
    loss: (x, labels) => tf.tidy(() => softmaxCrossEntropy(forward(x).logits, labels)),
    measuredLayers: (x) => {
      const kept = tf.tidy(() => {
        const { inputs, gainInput } = forward(x);
        return gainInput ? [...inputs, gainInput] : inputs;
      });
      const inputs = kept.slice(0, weights.length + 1);
      const gainInput = gain ? kept[weights.length + 1] : undefined;
      const layers: MeasuredLayer[] = [...weights, readout].map((variable, index) => ({
        variableName: variable.name,
        kind: 'matmul',
        input: inputs[index],
      }));
      if (gain && gainInput) layers.push({ variableName: gain.name, kind: 'scale', input: gainInput });
      biases.forEach((variable) => layers.push({ variableName: variable.name, kind: 'shift' }));
      if (readoutBias) layers.push({ variableName: readoutBias.name, kind: 'shift' });
      return layers;
    },
    dispose: () => {
      for (const variable of trainableVariables) variable.dispose();
    },
  };
}
