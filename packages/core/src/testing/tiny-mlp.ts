import * as tf from '@tensorflow/tfjs-core';
import { type ParamSpec, paramSpecs } from '../param-spec.js';
import {
  FLOAT64_MLP_NAMES,
  type Float64MlpName,
  type Float64MlpParams,
  type Float64MlpShape,
  float64Shapes,
} from './float64-mlp.js';

/** The TF.js twin of the float64 MLP: same layers, same parameter names, float32 variables. */
export interface TinyMlp {
  readonly variables: Record<Float64MlpName, tf.Variable>;
  /** Specs from the base-width shapes: W1 input, γ vector (norm), W2 hidden, b2 vector, W3 output. */
  readonly specs: ParamSpec[];
  readonly shape: Float64MlpShape;
  /** Mean softmax cross-entropy on (x, labels). */
  loss(x: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar;
  /** Each layer's input at the current weights: x, z1 (γ's input), a1, a2. */
  layerInputs(x: tf.Tensor2D): { W1: tf.Tensor2D; gamma: tf.Tensor2D; W2: tf.Tensor2D; W3: tf.Tensor2D };
  /** The current values as float64 arrays. */
  read(): Float64MlpParams;
  dispose(): void;
}

let instance = 0;

/** The TF.js twin of the float64 MLP with these weights, at this width, with its ParamSpecs against `baseWidth`. */
export function createTinyMlp(params: Float64MlpParams, shape: Float64MlpShape, baseWidth: number): TinyMlp {
  const shapes = float64Shapes(shape);
  const baseShapes = float64Shapes({ ...shape, width: baseWidth });
  const deltaShapes = float64Shapes({ ...shape, width: baseWidth * 2 });
  const prefix = `tiny_mlp_${instance++}`;
  const variables = Object.fromEntries(
    FLOAT64_MLP_NAMES.map((name) => [
      name,
      // tidy disposes the initial value tensor; the variable keeps its own reference to the data.
      tf.tidy(() => tf.variable(tf.tensor(Float32Array.from(params[name]), shapes[name]), true, `${prefix}/${name}`)),
    ]),
  ) as Record<Float64MlpName, tf.Variable>;
  const specs = paramSpecs(
    FLOAT64_MLP_NAMES.map((name) => ({
      variable: variables[name],
      baseShape: baseShapes[name],
      deltaShape: deltaShapes[name],
      norm: name === 'gamma',
    })),
  );
  const hidden = (x: tf.Tensor2D) => {
    const z1 = tf.matMul(x, variables.W1 as tf.Tensor2D);
    const a1 = tf.relu(tf.mul(z1, variables.gamma)) as tf.Tensor2D;
    const a2 = tf.relu(tf.add(tf.matMul(a1, variables.W2 as tf.Tensor2D), variables.b2)) as tf.Tensor2D;
    return { z1, a1, a2 };
  };
  return {
    variables,
    specs,
    shape,
    loss: (x, labels) =>
      tf.tidy(() => {
        const logits = tf.matMul(hidden(x).a2, variables.W3 as tf.Tensor2D);
        const logProbabilities = tf.sub(logits, tf.logSumExp(logits, 1, true));
        const picked = tf.sum(tf.mul(logProbabilities, tf.oneHot(labels, shape.classes)), 1);
        return tf.neg(tf.mean(picked)) as tf.Scalar;
      }),
    layerInputs: (x) =>
      tf.tidy(() => {
        const { z1, a1, a2 } = hidden(x);
        return { W1: tf.clone(x), gamma: z1 as tf.Tensor2D, W2: a1, W3: a2 };
      }),
    read: () =>
      Object.fromEntries(
        FLOAT64_MLP_NAMES.map((name) => [name, Float64Array.from(variables[name].dataSync())]),
      ) as unknown as Float64MlpParams,
    dispose: () => {
      for (const variable of Object.values(variables)) variable.dispose();
    },
  };
}
