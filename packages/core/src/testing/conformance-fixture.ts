import * as tf from '@tensorflow/tfjs-core';
import { muSgd } from '../mu-sgd.js';
import type { PerturbationRule } from '../perturbation-rule.js';
import { SamOptimizer } from '../sam-optimizer.js';
import { FLOAT64_MLP_NAMES, type Float64MlpName, float64Init, seededNormal, seededRandom } from './float64-mlp.js';
import { createTinyMlp, type TinyMlp } from './tiny-mlp.js';

// The tiny MLP of @mup2/core/testing at 4× its base width, so every µP² multiplier differs from 1.
export const BASE_WIDTH = 4;
export const WIDE = 16;
const INPUT_SIZE = 6;
const CLASSES = 3;
const BATCH = 8;

export interface Fixture {
  readonly mlp: TinyMlp;
  readonly variables: tf.Variable[];
  readonly loss: () => tf.Scalar;
  dispose(): void;
}

export function fixture(width: number, seed = 1): Fixture {
  const shape = { inputSize: INPUT_SIZE, width, classes: CLASSES };
  const mlp = createTinyMlp(float64Init(shape, seed, { baseWidth: BASE_WIDTH }), shape, BASE_WIDTH);
  const normal = seededNormal(seed + 100);
  const uniform = seededRandom(seed + 200);
  const x = tf.tensor2d(Float32Array.from({ length: BATCH * INPUT_SIZE }, normal), [BATCH, INPUT_SIZE]);
  const y = tf.tensor1d(
    Array.from({ length: BATCH }, () => Math.floor(uniform() * CLASSES)),
    'int32',
  );
  return {
    mlp,
    variables: Object.values(mlp.variables),
    loss: () => mlp.loss(x, y),
    dispose: () => {
      tf.dispose([x, y]);
      mlp.dispose();
    },
  };
}

export function samOptimizer(rule: PerturbationRule, mlp: TinyMlp): SamOptimizer {
  return new SamOptimizer({ base: muSgd(0.5, mlp.specs), rule, params: mlp.specs });
}

/** The tiny MLP's parameter names (W1, gamma, W2, b2, W3) that the rule perturbs. */
export function selectedNames(rule: PerturbationRule, mlp: TinyMlp): Float64MlpName[] {
  return FLOAT64_MLP_NAMES.filter((name) => {
    const spec = mlp.specs.find((candidate) => candidate.variable === mlp.variables[name]);
    return spec !== undefined && rule.selects(spec);
  });
}

export function readPerturbations(
  perturbations: tf.NamedTensorMap,
  mlp: TinyMlp,
): Partial<Record<Float64MlpName, Float32Array>> {
  const values: Partial<Record<Float64MlpName, Float32Array>> = {};
  for (const name of FLOAT64_MLP_NAMES) {
    const epsilon = perturbations[mlp.variables[name].name];
    if (epsilon !== undefined) values[name] = Float32Array.from(epsilon.dataSync());
  }
  return values;
}
