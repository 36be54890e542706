import {
  InvalidOptionError,
  muSgd,
  type PerturbationRule,
  paramSpecs,
  RuleSpecificationError,
  SamOptimizer,
} from '@mup2/core';
import {
  checkPerturbationRule,
  createTinyMlp,
  FLOAT64_MLP_NAMES,
  type Float64MlpName,
  type Float64MlpParams,
  float64Batch,
  float64Init,
  float64LossAndGradients,
  float64SamOnStep,
  runTinyMlpStep,
  type TinyMlp,
  updateErrors,
} from '@mup2/core/testing';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { samOn } from './sam-on.js';

const BASE_WIDTH = 4;
const batch = 8;
const inputSize = 6;
const classes = 3;
type Scaling = 'naive' | 'global' | 'mup2';

const makeData = (seed: number) => float64Batch(seed, { batch, inputSize, classes });

function setup(width: number, seed: number) {
  const shape = { inputSize, width, classes };
  const data = makeData(seed + 100);
  const mlp = createTinyMlp(float64Init(shape, seed, { baseWidth: BASE_WIDTH }), shape, BASE_WIDTH);
  const x = tf.tensor2d(Float32Array.from(data.x), [batch, inputSize]);
  const y = tf.tensor1d(data.labels, 'int32');
  return {
    shape,
    data,
    mlp,
    x,
    y,
    dispose: () => {
      tf.dispose([x, y]);
      mlp.dispose();
    },
  };
}

function runStep(width: number, scaling: Scaling, rho: number, seed = 1) {
  const lr = 0.5;
  const step = runTinyMlpStep({ rule: samOn({ rho, scaling }), width, baseWidth: BASE_WIDTH, learningRate: lr, seed });
  const shape = { inputSize, width, classes };
  const reference = float64SamOnStep(step.start, step.data, {
    shape,
    baseWidth: BASE_WIDTH,
    rho,
    scaling,
    learningRate: lr,
  });
  const referenceLoss = float64LossAndGradients(step.start, step.data.x, step.data.labels, step.shape).forward.loss;
  return { ...step, reference, referenceLoss, leaked: step.leakedTensors };
}

function expectUpdatesClose(start: Float64MlpParams, actual: Float64MlpParams, expected: Float64MlpParams) {
  for (const [name, { scale, relativeError }] of Object.entries(updateErrors(start, actual, expected))) {
    expect(scale, `${name} must move`).toBeGreaterThan(0);
    expect(relativeError, `${name}: largest error relative to the largest update`).toBeLessThan(2e-3);
  }
}

describe('samOn() step against a float64 computation', () => {
  for (const scaling of ['naive', 'global', 'mup2'] as const) {
    it(`matches at width multiplier 4 with scaling '${scaling}'`, () => {
      const { start, result, reference, loss, referenceLoss, leaked } = runStep(16, scaling, 0.5);
      expectUpdatesClose(start, result, reference);
      expect(loss).toBeCloseTo(referenceLoss, 5);
      expect(leaked).toBe(0);
    });
  }

  it('gives the same step for every scaling at width multiplier 1', () => {
    const steps = (['naive', 'global', 'mup2'] as const).map((scaling) => runStep(BASE_WIDTH, scaling, 0.5));
    const [naive, global, mup2] = steps;
    expectUpdatesClose(naive!.start, naive!.result, naive!.reference);
    for (const other of [global!, mup2!]) {
      expect(other.leaked).toBe(0);
      for (const name of FLOAT64_MLP_NAMES) {
        expect(Array.from(other.result[name])).toEqual(Array.from(naive!.result[name]));
      }
    }
  });
});

/** Plain SAM written inline (every parameter selected), as the contrast for the gradient count below. */
const plainSam: PerturbationRule = {
  specificationVersion: 'v1',
  name: 'plain-sam',
  radius: 0.5,
  scaling: 'naive',
  selects: () => true,
  layerScale: () => ({ perturbation: 1, norm: 1 }),
  direction: ({ gradient }) => ({ direction: gradient, normTerm: gradient }),
};

/**
 * The tiny MLP's loss with every variable passed through an identity whose gradient counts
 * how often backpropagation reaches it: z1 = x·W1, a1 = relu(γ ⊙ z1), a2 = relu(a1·W2 + b2),
 * logits = a2·W3, mean softmax cross-entropy (the same function as TinyMlp.loss).
 */
function countingLoss(mlp: TinyMlp, x: tf.Tensor2D, labels: tf.Tensor1D, counts: Record<Float64MlpName, number>) {
  const tap = (name: Float64MlpName) =>
    tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => ({
      value: tf.clone(inputs[0] as tf.Tensor),
      gradFunc: (dy: tf.Tensor) => {
        counts[name] += 1;
        return dy;
      },
    }))(mlp.variables[name]);
  return () =>
    tf.tidy(() => {
      const z1 = tf.matMul(x, tap('W1') as tf.Tensor2D);
      const a1 = tf.relu(tf.mul(z1, tap('gamma'))) as tf.Tensor2D;
      const a2 = tf.relu(tf.add(tf.matMul(a1, tap('W2') as tf.Tensor2D), tap('b2'))) as tf.Tensor2D;
      const logits = tf.matMul(a2, tap('W3') as tf.Tensor2D);
      const logProbabilities = tf.sub(logits, tf.logSumExp(logits, 1, true));
      return tf.neg(tf.mean(tf.sum(tf.mul(logProbabilities, tf.oneHot(labels, classes)), 1))) as tf.Scalar;
    });
}

describe('samOn() perturbs norm parameters only', () => {
  it('gives ε for γ alone; every other parameter is left unperturbed', () => {
    for (const scaling of ['naive', 'global', 'mup2'] as const) {
      const { mlp, x, y, dispose } = setup(16, 2);
      const optimizer = new SamOptimizer({
        base: muSgd(0.5, mlp.specs),
        rule: samOn({ rho: 0.5, scaling }),
        params: mlp.specs,
      });
      const before = tf.memory().numTensors;
      const perturbations = optimizer.computePerturbation(() => mlp.loss(x, y), Object.values(mlp.variables));
      expect(Object.keys(perturbations), `perturbed variables under '${scaling}'`).toEqual([mlp.variables.gamma.name]);
      tf.dispose(perturbations);
      expect(tf.memory().numTensors).toBe(before);
      optimizer.dispose();
      dispose();
    }
  });

  it('backpropagates the ascent pass to the norm parameters only', () => {
    const count = (rule: PerturbationRule) => {
      const { mlp, x, y, dispose } = setup(16, 3);
      const counts: Record<Float64MlpName, number> = { W1: 0, gamma: 0, W2: 0, b2: 0, W3: 0 };
      const optimizer = new SamOptimizer({ base: muSgd(0.5, mlp.specs), rule, params: mlp.specs });
      const loss = countingLoss(mlp, x, y, counts);
      const before = tf.memory().numTensors;
      optimizer.minimize(loss, false, Object.values(mlp.variables));
      expect(tf.memory().numTensors).toBe(before);
      optimizer.dispose();
      dispose();
      return counts;
    };
    // Two passes reach γ (ascent at w, descent at w + ε); one reaches everything else (descent only).
    expect(count(samOn({ rho: 0.5 }))).toEqual({ W1: 1, gamma: 2, W2: 1, b2: 1, W3: 1 });
    // The count can tell: SAM's ascent pass reaches every parameter.
    expect(count(plainSam)).toEqual({ W1: 2, gamma: 2, W2: 2, b2: 2, W3: 2 });
  });

  it('on a model without norm parameters fails with an error that says so, leaving the weights as they were', () => {
    const { mlp, x, y, dispose } = setup(16, 4);
    const specs = paramSpecs(mlp.specs.map((spec) => ({ ...spec, norm: false })));
    const start = mlp.read();
    const variables = Object.values(mlp.variables);
    const before = tf.memory().numTensors;
    for (const params of [specs, undefined]) {
      const optimizer = new SamOptimizer({ base: muSgd(0.5, params), rule: samOn({ rho: 0.5 }), params });
      const step = () => optimizer.minimize(() => mlp.loss(x, y), false, variables);
      expect(step).toThrowError(InvalidOptionError);
      expect(step).toThrowError(/'sam-on' selects none of the 5 optimized variables/);
      expect(step).toThrowError(/norm: true/);
      optimizer.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    const after = mlp.read();
    for (const name of FLOAT64_MLP_NAMES) expect(Array.from(after[name])).toEqual(Array.from(start[name]));
    dispose();
  });
});

describe('samOn() options', () => {
  it('declares the interface version, its radius and its scaling (default mup2)', () => {
    const rule = samOn({ rho: 0.05 });
    expect(rule.specificationVersion).toBe('v1');
    expect(rule.name).toBe('sam-on');
    expect(rule.radius).toBe(0.05);
    expect(rule.scaling).toBe('mup2');
  });
});

describe('samOn() conformance failures name the missing member', () => {
  for (const member of ['name', 'radius', 'scaling', 'selects', 'layerScale', 'direction'] as const) {
    it(`a rule without '${member}' fails`, () => {
      const broken: Record<string, unknown> = { ...samOn({ rho: 0.1 }) };
      delete broken[member];
      const problems = checkPerturbationRule(broken);
      expect(problems).toHaveLength(1);
      expect(problems[0]).toContain(`'${member}'`);
      expect(() => new SamOptimizer({ base: muSgd(0.1), rule: broken as never })).toThrowError(RuleSpecificationError);
    });
  }
});

describe('samOn under SamOptimizer without params', () => {
  it("refuses an explicit 'mup2' or 'global' scaling (plain samOn in disguise) and takes the default", () => {
    for (const scaling of ['mup2', 'global'] as const) {
      expect(() => new SamOptimizer({ base: tf.train.sgd(0.1), rule: samOn({ rho: 0.05, scaling }) })).toThrowError(
        new RegExp(`scaling '${scaling}'`),
      );
    }
    new SamOptimizer({ base: tf.train.sgd(0.1), rule: samOn({ rho: 0.05 }) }).dispose();
  });
});
