import { muSgd, type ParamSpec, paramSpecs, SamOptimizer } from '@mup2/core';
import { seededNormal, seededRandom } from '@mup2/core/testing';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { asam } from './asam.js';

/**
 * Parameters of every kind at width 16 against base width 4 (r = 4), two of them with no dimension
 * that grows: a readout bias [classes] and a [classes, classes] weight after the readout.
 */
const NAMES = ['inputW', 'hiddenW', 'outputW', 'hiddenBias', 'readoutBias', 'fixedW'] as const;
type Name = (typeof NAMES)[number];
const INPUTS = 3;
const CLASSES = 5;
const shapesAt = (width: number): Record<Name, number[]> => ({
  inputW: [INPUTS, width],
  hiddenW: [width, width],
  outputW: [width, CLASSES],
  hiddenBias: [width],
  readoutBias: [CLASSES],
  fixedW: [CLASSES, CLASSES],
});
const BASE_WIDTH = 4;
const WIDTH = 16;
const RHO = 0.5;
const ETA = 0.2;
const LEARNING_RATE = 0.3;

/**
 * Every multiplier by hand (docs/mup2-explained.md): µP-SGD's m_p = fanOutMult / fanInMult, η_T's s_p (1 for
 * input and vector parameters, fanInMult^-1/2 hidden, 1/fanInMult readout; a fixed-size weight keeps its
 * init, so 1), and whether a dimension grows, which decides asam's µP² a_p, b_p: √r, 1 with one, r^-1/2, 1/r without.
 */
const byHand = (r: number): Record<Name, { m: number; s: number; grows: boolean }> => ({
  inputW: { m: r, s: 1, grows: true },
  hiddenW: { m: 1, s: r ** -0.5, grows: true },
  outputW: { m: 1 / r, s: 1 / r, grows: true },
  hiddenBias: { m: r, s: 1, grows: true },
  readoutBias: { m: 1, s: 1, grows: false },
  fixedW: { m: 1, s: 1, grows: false },
});

type Values = Record<Name, Float64Array>;

function problem(width: number, seed: number) {
  const shapes = shapesAt(width);
  const normal = seededNormal(seed);
  const uniform = seededRandom(seed + 1);
  const draw = (name: Name, f: () => number) =>
    Float64Array.from({ length: shapes[name].reduce((a, b) => a * b, 1) }, f);
  const values = (f: () => number) => Object.fromEntries(NAMES.map((name) => [name, draw(name, f)])) as Values;
  // A quadratic loss Σ_p ½ Σ_i c_i (w_i − t_i)², so that g = c ⊙ (w − t) is known exactly in float64.
  return {
    shapes,
    start: values(() => 0.5 * normal()),
    target: values(normal),
    curvature: values(() => 0.5 + uniform()),
  };
}

/** w − η·m_p·g(w + ε) with asam's ε, in float64. `uniform` is the scaling asam shipped before: √r, 1 everywhere. */
function float64Step(
  start: Values,
  target: Values,
  curvature: Values,
  r: number,
  scaling: 'naive' | 'mup2' | 'uniform',
) {
  const hand = byHand(r);
  const gradientAt = (w: Values) =>
    Object.fromEntries(
      NAMES.map((name) => [name, w[name].map((value, i) => curvature[name][i]! * (value - target[name][i]!))]),
    ) as Values;
  const g = gradientAt(start);
  const a = (name: Name) =>
    scaling === 'naive' ? 1 : hand[name].grows || scaling === 'uniform' ? Math.sqrt(r) : 1 / Math.sqrt(r);
  const b = (name: Name) => (scaling === 'mup2' && !hand[name].grows ? 1 / r : 1);
  const t = (name: Name) => start[name].map((w) => Math.abs(w) + ETA * (scaling === 'naive' ? 1 : hand[name].s));
  let normSquared = 0;
  for (const name of NAMES) {
    const tName = t(name);
    normSquared += b(name) * g[name].reduce((sum, value, i) => sum + (tName[i]! * value) ** 2, 0);
  }
  const denominator = Math.sqrt(normSquared) + 1e-12;
  const epsilon = Object.fromEntries(
    NAMES.map((name) => {
      const tName = t(name);
      return [name, g[name].map((value, i) => (RHO * a(name) * tName[i]! * tName[i]! * value) / denominator)];
    }),
  ) as Values;
  const perturbed = Object.fromEntries(
    NAMES.map((name) => [name, start[name].map((w, i) => w + epsilon[name][i]!)]),
  ) as Values;
  const descent = gradientAt(perturbed);
  const result = Object.fromEntries(
    NAMES.map((name) => [name, start[name].map((w, i) => w - LEARNING_RATE * hand[name].m * descent[name][i]!)]),
  ) as Values;
  return { epsilon, result };
}

/** One SamOptimizer step of asam with µP-SGD on the quadratic loss; returns ε, the weights before and after, and leaks. */
function tfjsStep(width: number, scaling: 'naive' | 'mup2', seed = 3) {
  const { shapes, start, target, curvature } = problem(width, seed);
  const variables = Object.fromEntries(
    NAMES.map((name) => [
      name,
      tf.tidy(() =>
        tf.variable(
          tf.tensor(Float32Array.from(start[name]), shapes[name]),
          true,
          `fixed_size_${width}_${seed}_${scaling}/${name}`,
        ),
      ),
    ]),
  ) as Record<Name, tf.Variable>;
  const base = shapesAt(BASE_WIDTH);
  const delta = shapesAt(2 * BASE_WIDTH);
  const specs: ParamSpec[] = paramSpecs(
    NAMES.map((name) => ({ variable: variables[name], baseShape: base[name], deltaShape: delta[name] })),
  );
  const constants = NAMES.map((name) => [
    tf.tensor(Float32Array.from(target[name]), shapes[name]),
    tf.tensor(Float32Array.from(curvature[name]), shapes[name]),
  ]);
  const loss = () =>
    tf.tidy(() =>
      tf.addN(
        NAMES.map((name, index) => {
          const [t, c] = constants[index] as [tf.Tensor, tf.Tensor];
          return tf.mul(0.5, tf.sum(tf.mul(c, tf.square(tf.sub(variables[name], t)))));
        }),
      ),
    ) as tf.Scalar;
  const read = () =>
    Object.fromEntries(NAMES.map((name) => [name, Float64Array.from(variables[name].dataSync())])) as Values;
  const startRounded = read();
  const optimizer = new SamOptimizer({
    base: muSgd(LEARNING_RATE, specs),
    rule: asam({ rho: RHO, eta: ETA, scaling }),
    params: specs,
  });
  const before = tf.memory().numTensors;
  const perturbations = optimizer.computePerturbation(loss, Object.values(variables));
  const epsilon = Object.fromEntries(
    NAMES.map((name) => [name, Float64Array.from(perturbations[variables[name].name]!.dataSync())]),
  ) as Values;
  tf.dispose(perturbations);
  optimizer.minimize(loss, false, Object.values(variables));
  const leaked = tf.memory().numTensors - before;
  const result = read();
  optimizer.dispose();
  tf.dispose([...constants.flat(), ...Object.values(variables)]);
  return {
    specs: specs.map((spec) => [spec.role, spec.fanInMult, spec.fanOutMult]),
    startRounded,
    target,
    curvature,
    epsilon,
    result,
    leaked,
  };
}

/** Largest |actual − expected| relative to the largest |expected| of the parameter. */
function relativeError(actual: Float64Array, expected: Float64Array): number {
  const scale = Math.max(...expected.map(Math.abs));
  return Math.max(...actual.map((value, i) => Math.abs(value - expected[i]!))) / scale;
}

describe('asam µP² on parameters none of whose dimensions grows, against a float64 computation', () => {
  it('gives the readout bias and a fixed-size weight a = r^-1/2, b = 1/r (width multiplier 4), every other parameter a = √r, b = 1', () => {
    const step = tfjsStep(WIDTH, 'mup2');
    // The roles and multipliers the shapes give (the fixed-size weight comes out as an input weight with multipliers 1).
    expect(step.specs).toEqual([
      ['input', 1, 4],
      ['hidden', 4, 4],
      ['output', 4, 1],
      ['vector', 1, 4],
      ['vector', 1, 1],
      ['input', 1, 1],
    ]);
    const reference = float64Step(step.startRounded, step.target, step.curvature, WIDTH / BASE_WIDTH, 'mup2');
    for (const name of NAMES) {
      expect(relativeError(step.epsilon[name], reference.epsilon[name]), `ε of ${name}`).toBeLessThan(1e-4);
      const update = step.result[name].map((value, i) => value - step.startRounded[name][i]!);
      const expected = reference.result[name].map((value, i) => value - step.startRounded[name][i]!);
      expect(relativeError(update, expected), `update of ${name}`).toBeLessThan(2e-3);
    }
    expect(step.leaked).toBe(0);
    // What asam shipped before (√r, 1 on every parameter) is another ε, which this test tells apart: the
    // fixed-size parameters' by more than their a (r^-1/2 against √r), every other's through the normaliser,
    // by far more than the float32 rounding tolerated above.
    const uniform = float64Step(step.startRounded, step.target, step.curvature, WIDTH / BASE_WIDTH, 'uniform');
    for (const name of NAMES) {
      expect(
        relativeError(step.epsilon[name], uniform.epsilon[name]),
        `ε of ${name} against the uniform scaling`,
      ).toBeGreaterThan(byHand(WIDTH / BASE_WIDTH)[name].grows ? 1e-2 : 0.5);
    }
  });

  it('equals the naive rule at width multiplier 1, fixed-size parameters included', () => {
    const naive = tfjsStep(BASE_WIDTH, 'naive');
    const mup2 = tfjsStep(BASE_WIDTH, 'mup2');
    expect(naive.specs.every(([, fanIn, fanOut]) => fanIn === 1 && fanOut === 1)).toBe(true);
    const reference = float64Step(naive.startRounded, naive.target, naive.curvature, 1, 'naive');
    for (const name of NAMES) {
      expect(relativeError(naive.epsilon[name], reference.epsilon[name]), `ε of ${name}`).toBeLessThan(1e-4);
      expect(Array.from(mup2.epsilon[name])).toEqual(Array.from(naive.epsilon[name]));
      expect(Array.from(mup2.result[name])).toEqual(Array.from(naive.result[name]));
    }
    expect(naive.leaked + mup2.leaked).toBe(0);
  });
});
