import { InvalidOptionError, muSgd, NonFiniteGradientError, SamOptimizer } from '@mup2/core';
import {
  createTinyMlp,
  FLOAT64_MLP_NAMES,
  type Float64MlpName,
  type Float64MlpParams,
  float64Batch,
  float64Init,
  float64LossAndGradients,
  type TinyMlp,
  updateErrors,
} from '@mup2/core/testing';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { sam } from './sam.js';

// ascentSteps and ascentOptimizer, optax contrib.sam's sync_period and adv_optimizer, against a
// float64 computation of optax's semantics written from its code: sync_period − 1 adversarial
// updates, each from the gradient at the running point and added to it, the descent gradient taken
// at the last point, the adversarial optimizer's state started afresh for every descent.

const BASE_WIDTH = 4;
const WIDTH = 16;
const BATCH = 8;
const SHAPE = { inputSize: 6, width: WIDTH, classes: 3 };
const LR = 0.5;
const RHO = 0.2;

type Data = { x: Float64Array; labels: number[] };
type Ascent = (gradients: Float64MlpParams, step: number) => Float64MlpParams;

/** m_p = fanOutMult / fanInMult, by hand, for the tiny MLP at width multiplier r. */
const multipliers = (r: number): Record<Float64MlpName, number> => ({ W1: r, gamma: r, W2: 1, b2: r, W3: 1 / r });

/** The rule's ascent update at a point: ρ·a_p·g_p / (sqrt(Σ b_q‖g_q‖²) + 1e-12), naive a = b = 1 or mup2 a = b = m_p. */
function samUpdate(scaling: 'naive' | 'mup2'): Ascent {
  const m = multipliers(WIDTH / BASE_WIDTH);
  const factor = (name: Float64MlpName) => (scaling === 'mup2' ? m[name] : 1);
  return (g) => {
    let normSquared = 0;
    for (const name of FLOAT64_MLP_NAMES) for (const value of g[name]) normSquared += factor(name) * value * value;
    const scale = RHO / (Math.sqrt(normSquared) + 1e-12);
    const update = {} as Float64MlpParams;
    for (const name of FLOAT64_MLP_NAMES) update[name] = g[name].map((value) => scale * factor(name) * value);
    return update;
  };
}

/** Adam (tf.train.adam's form, ε = 1e-7) started afresh, applied to −g: its descent, our ascent. */
function adamUpdate(learningRate: number): Ascent {
  const [beta1, beta2, epsilon] = [0.9, 0.999, 1e-7];
  let moments: Record<Float64MlpName, { m: Float64Array; v: Float64Array }> | undefined;
  return (g, step) => {
    if (step === 1) {
      moments = Object.fromEntries(
        FLOAT64_MLP_NAMES.map((name) => [
          name,
          { m: new Float64Array(g[name].length), v: new Float64Array(g[name].length) },
        ]),
      ) as Record<Float64MlpName, { m: Float64Array; v: Float64Array }>;
    }
    const update = {} as Float64MlpParams;
    for (const name of FLOAT64_MLP_NAMES) {
      const { m, v } = (moments as NonNullable<typeof moments>)[name];
      update[name] = g[name].map((value, i) => {
        const negated = -value;
        m[i] = beta1 * (m[i] as number) + (1 - beta1) * negated;
        v[i] = beta2 * (v[i] as number) + (1 - beta2) * negated * negated;
        const mHat = (m[i] as number) / (1 - beta1 ** step);
        const vHat = (v[i] as number) / (1 - beta2 ** step);
        // Adam moves its variable by −lr·m̂/(√v̂ + ε); with −g as its gradient that is our ascent.
        return -learningRate * (mHat / (Math.sqrt(vHat) + epsilon));
      });
    }
    return update;
  };
}

/** One step: `ascentSteps` updates from the running point, then w ← w − η·m_p·g(w_K) (µP-SGD). */
function float64Step(params: Float64MlpParams, data: Data, ascentSteps: number, ascent: Ascent): Float64MlpParams {
  const m = multipliers(WIDTH / BASE_WIDTH);
  let point = params;
  for (let step = 1; step <= ascentSteps; step++) {
    const g = float64LossAndGradients(point, data.x, data.labels, SHAPE).gradients;
    const update = ascent(g, step);
    const next = {} as Float64MlpParams;
    for (const name of FLOAT64_MLP_NAMES) next[name] = point[name].map((w, i) => w + (update[name][i] as number));
    point = next;
  }
  const descent = float64LossAndGradients(point, data.x, data.labels, SHAPE).gradients;
  const result = {} as Float64MlpParams;
  for (const name of FLOAT64_MLP_NAMES)
    result[name] = params[name].map((w, i) => w - LR * m[name] * (descent[name][i] as number));
  return result;
}

function setup(seed: number) {
  const mlp = createTinyMlp(float64Init(SHAPE, seed, { baseWidth: BASE_WIDTH }), SHAPE, BASE_WIDTH);
  const data = float64Batch(seed + 100, { batch: BATCH, inputSize: SHAPE.inputSize, classes: SHAPE.classes });
  const x = tf.tensor2d(Float32Array.from(data.x), [BATCH, SHAPE.inputSize]);
  const y = tf.tensor1d(data.labels, 'int32');
  return { mlp, data, x, y, variables: Object.values(mlp.variables), loss: () => mlp.loss(x, y) };
}

function expectUpdateClose(
  start: Float64MlpParams,
  actual: Float64MlpParams,
  expected: Float64MlpParams,
  what: string,
) {
  for (const [name, { scale, relativeError }] of Object.entries(updateErrors(start, actual, expected))) {
    expect(scale, `${what}: ${name} moves`).toBeGreaterThan(0);
    expect(relativeError, `${what}: ${name}, largest error relative to the largest update`).toBeLessThan(2e-3);
  }
}

const dispose = (run: { mlp: TinyMlp; x: tf.Tensor; y: tf.Tensor }) => {
  tf.dispose([run.x, run.y]);
  run.mlp.dispose();
};

describe('SamOptimizer ascentSteps (optax sync_period − 1)', () => {
  for (const [scaling, ascentSteps] of [
    ['naive', 3],
    ['mup2', 2],
  ] as const) {
    it(`takes ${ascentSteps} rule updates from the running point ('${scaling}'), as float64 says, over two steps`, () => {
      const run = setup(1);
      const optimizer = new SamOptimizer({
        base: muSgd(LR, run.mlp.specs),
        rule: sam({ rho: RHO, scaling }),
        params: run.mlp.specs,
        ascentSteps,
      });
      const start = run.mlp.read();
      const tensors = tf.memory().numTensors;
      let calls = 0;
      const counted = () => {
        calls += 1;
        return run.loss();
      };
      optimizer.minimize(counted, false, run.variables);
      expect(calls, 'passes per step: one at w, one per further ascent step, one at the last point').toBe(
        ascentSteps + 1,
      );
      const once = float64Step(start, run.data, ascentSteps, samUpdate(scaling));
      optimizer.minimize(run.loss, false, run.variables);
      expect(tf.memory().numTensors, 'tensors after two steps').toBe(tensors);
      const twice = float64Step(once, run.data, ascentSteps, samUpdate(scaling));
      expectUpdateClose(start, run.mlp.read(), twice, `${ascentSteps} ascent steps, '${scaling}'`);
      optimizer.dispose();
      dispose(run);
    });
  }

  it('with one step is plain SAM bit for bit, and more steps move the weights elsewhere', () => {
    const results = [undefined, 1, 2].map((ascentSteps) => {
      const run = setup(2);
      const optimizer = new SamOptimizer({
        base: muSgd(LR, run.mlp.specs),
        rule: sam({ rho: RHO }),
        params: run.mlp.specs,
        ...(ascentSteps !== undefined && { ascentSteps }),
      });
      optimizer.minimize(run.loss, false, run.variables);
      const weights = run.mlp.read();
      optimizer.dispose();
      dispose(run);
      return weights;
    });
    const [plain, one, two] = results as [Float64MlpParams, Float64MlpParams, Float64MlpParams];
    for (const name of FLOAT64_MLP_NAMES) expect(Array.from(one[name])).toEqual(Array.from(plain[name]));
    expect(Math.max(...two.W1.map((value, i) => Math.abs(value - (plain.W1[i] as number))))).toBeGreaterThan(1e-6);
  });

  it('changes non-trainable state in the pass at w only (BatchNorm statistics), and computePerturbation changes nothing', () => {
    const run = setup(3);
    const counter = tf.variable(tf.scalar(0), false);
    const optimizer = new SamOptimizer({
      base: muSgd(LR, run.mlp.specs),
      rule: sam({ rho: RHO }),
      params: run.mlp.specs,
      ascentSteps: 3,
    });
    // A training-mode pass that moves a non-trainable variable, as BatchNorm does with its statistics.
    const loss = () => {
      counter.assign(tf.add(counter, 1));
      return run.loss();
    };
    optimizer.minimize(loss, false, run.variables);
    expect(counter.dataSync()[0], 'non-trainable state after a step of 4 passes').toBe(1);
    const before = run.mlp.read();
    const perturbation = optimizer.computePerturbation(loss, run.variables);
    expect(counter.dataSync()[0]).toBe(1);
    for (const name of FLOAT64_MLP_NAMES) expect(Array.from(run.mlp.read()[name])).toEqual(Array.from(before[name]));
    // ε of three ascent steps, each of norm ρ in the µP² geometry: longer than one step's, at most 3ρ.
    const m = multipliers(WIDTH / BASE_WIDTH);
    let normSquared = 0;
    for (const name of FLOAT64_MLP_NAMES) {
      const epsilon = perturbation[run.mlp.variables[name].name] as tf.Tensor;
      for (const value of epsilon.dataSync()) normSquared += (value * value) / m[name];
    }
    expect(Math.sqrt(normSquared)).toBeGreaterThan(RHO * 1.5);
    expect(Math.sqrt(normSquared)).toBeLessThanOrEqual(3 * RHO * (1 + 1e-5));
    tf.dispose(perturbation);
    counter.dispose();
    optimizer.dispose();
    dispose(run);
  });

  it('rejects a non-finite gradient at an ascent step: the step is skipped whole, or the error names the pass', () => {
    for (const nonFinite of ['skip', 'throw'] as const) {
      const run = setup(4);
      const optimizer = new SamOptimizer({
        base: muSgd(LR, run.mlp.specs),
        rule: sam({ rho: RHO }),
        params: run.mlp.specs,
        ascentSteps: 2,
        nonFinite,
      });
      let calls = 0;
      // Finite at w, NaN at the first ascent point.
      const loss = () => {
        calls += 1;
        return calls === 2 ? (tf.mul(run.loss(), Number.NaN) as tf.Scalar) : run.loss();
      };
      const before = run.mlp.read();
      const tensors = tf.memory().numTensors;
      if (nonFinite === 'skip') {
        optimizer.minimize(loss, false, run.variables);
        expect(optimizer.skippedSteps).toBe(1);
      } else {
        expect(() => optimizer.minimize(loss, false, run.variables)).toThrowError(NonFiniteGradientError);
        calls = 0;
        expect(() => optimizer.minimize(loss, false, run.variables)).toThrowError(/ascent step 2 \(at w \+ ε\)/);
      }
      expect(tf.memory().numTensors, `tensors after a rejected step (${nonFinite})`).toBe(tensors);
      for (const name of FLOAT64_MLP_NAMES) expect(Array.from(run.mlp.read()[name])).toEqual(Array.from(before[name]));
      expect(optimizer.iterations).toBe(0);
      optimizer.dispose();
      dispose(run);
    }
  });
});

describe('SamOptimizer ascentOptimizer (optax adv_optimizer)', () => {
  for (const ascentSteps of [1, 2]) {
    it(`ascends with a fresh Adam per step (${ascentSteps} ascent step${ascentSteps > 1 ? 's' : ''}), as float64 says, over two steps`, () => {
      const run = setup(5);
      const made: number[] = [];
      const optimizer = new SamOptimizer({
        base: muSgd(LR, run.mlp.specs),
        rule: sam({ rho: 1 }),
        params: run.mlp.specs,
        ascentSteps,
        ascentOptimizer: ({ radius, step }) => {
          made.push(step);
          return tf.train.adam(0.01 * radius, 0.9, 0.999, 1e-7);
        },
      });
      const start = run.mlp.read();
      const tensors = tf.memory().numTensors;
      optimizer.minimize(run.loss, false, run.variables);
      optimizer.minimize(run.loss, false, run.variables);
      expect(tf.memory().numTensors, 'tensors after two steps (each ascent optimizer disposed)').toBe(tensors);
      expect(made, 'one ascent optimizer per step').toEqual([0, 1]);
      const once = float64Step(start, run.data, ascentSteps, adamUpdate(0.01));
      const twice = float64Step(once, run.data, ascentSteps, adamUpdate(0.01));
      expectUpdateClose(start, run.mlp.read(), twice, `Adam ascent, ${ascentSteps} steps`);
      optimizer.dispose();
      dispose(run);
    });
  }

  it('refuses what it cannot run, naming the value', () => {
    const run = setup(6);
    const make = (options: object) =>
      new SamOptimizer({ base: muSgd(LR, run.mlp.specs), rule: sam({ rho: RHO }), params: run.mlp.specs, ...options });
    for (const bad of [0, 1.5, -1, Number.NaN]) {
      expect(() => make({ ascentSteps: bad })).toThrowError(InvalidOptionError);
      expect(() => make({ ascentSteps: bad })).toThrowError(`got ${String(bad)}`);
    }
    expect(() => make({ ascentOptimizer: tf.train.adam(0.1) })).toThrowError(/ascentOptimizer must be a function/);
    expect(() => make({ ascentSteps: 2, perturbationInterval: 3 })).toThrowError(
      /perturbationInterval 3 .*ascentSteps 2/,
    );
    expect(() => make({ ascentOptimizer: () => tf.train.sgd(0.1), perturbationInterval: 3 })).toThrowError(
      /an ascentOptimizer/,
    );
    const broken = make({ ascentOptimizer: () => 'adam' });
    const before = run.mlp.read();
    expect(() => broken.minimize(run.loss, false, run.variables)).toThrowError(/ascentOptimizer returned adam/);
    for (const name of FLOAT64_MLP_NAMES) expect(Array.from(run.mlp.read()[name])).toEqual(Array.from(before[name]));
    expect(make({ ascentSteps: 3 }).getConfig()).toMatchObject({ ascentSteps: 3 });
    dispose(run);
  });
});
