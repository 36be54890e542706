import {
  describeParams,
  InvalidOptionError,
  muSgd,
  type PerturbationInput,
  type PerturbationRule,
  type PerturbationRuleV1,
  RuleSpecificationError,
  SamOptimizer,
} from '@mup2/core';
import {
  checkPerturbationRule,
  createTinyMlp,
  FLOAT64_MLP_NAMES,
  type Float64MlpName,
  type Float64MlpParams,
  float64AsamStep,
  float64Batch,
  float64Init,
  float64LossAndGradients,
  runTinyMlpStep,
  tinyMlpCoordCheck,
  updateErrors,
} from '@mup2/core/testing';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { asam, isBiasOrOffset } from './asam.js';
import { ruleDescriptor } from './rule-descriptor.js';

const BASE_WIDTH = 4;
const batch = 8;
const inputSize = 6;
const classes = 3;
type Scaling = 'naive' | 'global' | 'mup2';

const makeData = (seed: number) => float64Batch(seed, { batch, inputSize, classes });

function runStep(
  width: number,
  options: { scaling: Scaling; rho: number; eta?: number; normalizeBias?: boolean },
  seed = 1,
) {
  const lr = 0.5;
  const step = runTinyMlpStep({ rule: asam(options), width, baseWidth: BASE_WIDTH, learningRate: lr, seed });
  const reference = float64AsamStep(step.start, step.data, {
    ...options,
    shape: { inputSize, width, classes },
    baseWidth: BASE_WIDTH,
    eta: options.eta ?? 0.01,
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

describe('asam() step against a float64 computation', () => {
  for (const scaling of ['naive', 'global', 'mup2'] as const) {
    // η_T = 0.2 is comparable to |w| here, so a wrong per-layer scaling of η_T shows in the step.
    it(`matches at width multiplier 4 with scaling '${scaling}' and eta 0.2`, () => {
      const { start, result, reference, loss, referenceLoss, leaked } = runStep(16, { scaling, rho: 0.5, eta: 0.2 });
      expectUpdatesClose(start, result, reference);
      expect(loss).toBeCloseTo(referenceLoss, 5);
      expect(leaked).toBe(0);
    });
  }

  it('matches with the default eta (0.01) and scaling (mup2)', () => {
    const { start, result, reference, leaked } = runStep(16, { scaling: 'mup2', rho: 0.5 }, 2);
    expectUpdatesClose(start, result, reference);
    expect(leaked).toBe(0);
    expect(asam({ rho: 0.5 }).scaling).toBe('mup2');
  });

  it('gives the same step for every scaling at width multiplier 1', () => {
    const steps = (['naive', 'global', 'mup2'] as const).map((scaling) =>
      runStep(BASE_WIDTH, { scaling, rho: 0.5, eta: 0.2 }),
    );
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

/** Plain SAM written inline (D = N = g), to show that the invariance below is ASAM's and not the test's. */
const plainSam: PerturbationRule = {
  specificationVersion: 'v1',
  name: 'plain-sam',
  radius: 0.5,
  scaling: 'naive',
  selects: () => true,
  layerScale: () => ({ perturbation: 1, norm: 1 }),
  direction: ({ gradient }) => ({ direction: gradient, normTerm: gradient }),
};

describe('asam() scale invariance (Kwon et al. 2021)', () => {
  /**
   * Rescales W1 by 2 and γ by 1/2, and W2, b2 by 3 and W3 by 1/3: with ReLU this leaves the
   * network's function unchanged (a scaling operator A with T_{Aw}^-1 A = T_w^-1). ASAM's
   * perturbation then moves with the weights, ε(Aw) = A ε(w), so the normalized perturbation
   * T_w^-1 ε = ε / |w| (η_T = 0) is the same at w and at Aw.
   */
  const factors: Record<Float64MlpName, number> = { W1: 2, gamma: 1 / 2, W2: 3, b2: 3, W3: 1 / 3 };

  function normalizedPerturbations(rule: PerturbationRule, rescale: boolean) {
    const shape = { inputSize, width: 16, classes };
    const initial = float64Init(shape, 5, { baseWidth: BASE_WIDTH });
    const params = rescale
      ? (Object.fromEntries(
          FLOAT64_MLP_NAMES.map((name) => [name, initial[name].map((w) => w * factors[name])]),
        ) as unknown as Float64MlpParams)
      : initial;
    const data = makeData(6);
    const mlp = createTinyMlp(params, shape, BASE_WIDTH);
    const x = tf.tensor2d(Float32Array.from(data.x), [batch, inputSize]);
    const y = tf.tensor1d(data.labels, 'int32');
    const optimizer = new SamOptimizer({ base: muSgd(0.1, mlp.specs), rule, params: mlp.specs });
    const before = tf.memory().numTensors;
    const loss = () => mlp.loss(x, y);
    const lossValue = tf.tidy(() => loss().dataSync()[0] as number);
    const perturbations = optimizer.computePerturbation(loss, Object.values(mlp.variables));
    const weights = mlp.read();
    const normalized = {} as Record<Float64MlpName, number[]>;
    for (const name of FLOAT64_MLP_NAMES) {
      const epsilon = perturbations[mlp.variables[name].name]!.dataSync();
      normalized[name] = Array.from(epsilon, (value, i) => value / Math.abs(weights[name][i] as number));
    }
    tf.dispose(perturbations);
    const leaked = tf.memory().numTensors - before;
    tf.dispose([x, y]);
    optimizer.dispose();
    mlp.dispose();
    return { normalized, lossValue, leaked };
  }

  /** Largest elementwise difference relative to the largest entry, per layer. */
  function worstRelativeGap(a: Record<Float64MlpName, number[]>, b: Record<Float64MlpName, number[]>): number {
    let worst = 0;
    for (const name of FLOAT64_MLP_NAMES) {
      const scale = Math.max(...a[name].map(Math.abs));
      a[name].forEach((value, i) => {
        worst = Math.max(worst, Math.abs(value - (b[name][i] as number)) / scale);
      });
    }
    return worst;
  }

  for (const scaling of ['naive', 'mup2'] as const) {
    it(`gives the same normalized perturbation ε/|w| for rescaled weights (eta 0, scaling '${scaling}')`, () => {
      const original = normalizedPerturbations(asam({ rho: 0.5, eta: 0, scaling }), false);
      const rescaled = normalizedPerturbations(asam({ rho: 0.5, eta: 0, scaling }), true);
      expect(rescaled.lossValue, 'the rescaling leaves the function unchanged').toBeCloseTo(original.lossValue, 5);
      expect(worstRelativeGap(original.normalized, rescaled.normalized)).toBeLessThan(1e-4);
      expect(original.leaked + rescaled.leaked).toBe(0);
    });
  }

  it('where plain SAM is not invariant', () => {
    const original = normalizedPerturbations(plainSam, false);
    const rescaled = normalizedPerturbations(plainSam, true);
    expect(worstRelativeGap(original.normalized, rescaled.normalized)).toBeGreaterThan(0.5);
  });
});

describe('asam() µP² scaling of eta (coordinate check, widths 64…1024)', () => {
  // With η_T = 1, far above |w|, ε is driven by η_T: unless η_T shrinks like each layer's init
  // std, the hidden and readout layers are over-perturbed as width grows.
  it("keeps every layer's slope within ±0.3 of 0 with eta 1", () => {
    const before = tf.memory().numTensors;
    const check = tinyMlpCoordCheck({ rule: (scaling) => asam({ rho: 0.1, eta: 1, scaling }), scaling: 'mup2' });
    expect(tf.memory().numTensors).toBe(before);
    for (const name of FLOAT64_MLP_NAMES) {
      expect(Math.abs(check.slopes[name]!), `${name}: ${JSON.stringify(check.slopes)}`).toBeLessThanOrEqual(0.3);
    }
  });

  it('which an unscaled eta would not (the check can tell)', () => {
    const unscaled = (scaling: Scaling): PerturbationRule => {
      const rule = asam({ rho: 0.1, eta: 1, scaling }) as PerturbationRuleV1;
      // Pretend every parameter is an input weight, so s_p = 1 everywhere.
      return {
        ...rule,
        direction: (input: PerturbationInput) => rule.direction({ ...input, spec: { ...input.spec, role: 'input' } }),
      };
    };
    const check = tinyMlpCoordCheck({ rule: unscaled, scaling: 'mup2', widths: [64, 256, 1024], seeds: [1] });
    expect(check.slopes.W3!).toBeGreaterThan(0.5);
  });
});

describe('asam() options', () => {
  it('rejects a negative or non-finite eta, naming the value', () => {
    for (const eta of [-0.01, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => asam({ rho: 0.1, eta })).toThrowError(InvalidOptionError);
      expect(() => asam({ rho: 0.1, eta })).toThrowError(`got ${String(eta)}`);
    }
    expect(asam({ rho: 0.1, eta: 0 }).name).toBe('asam');
  });
});

describe('asam() conformance failures name the missing member', () => {
  for (const member of ['name', 'radius', 'scaling', 'selects', 'layerScale', 'direction'] as const) {
    it(`a rule without '${member}' fails`, () => {
      const broken: Record<string, unknown> = { ...asam({ rho: 0.1 }) };
      delete broken[member];
      const problems = checkPerturbationRule(broken);
      expect(problems).toHaveLength(1);
      expect(problems[0]).toContain(`'${member}'`);
      expect(() => new SamOptimizer({ base: muSgd(0.1), rule: broken as never })).toThrowError(RuleSpecificationError);
      expect(() => new SamOptimizer({ base: muSgd(0.1), rule: broken as never })).toThrowError(`'${member}'`);
    });
  }

  it("a rule of another interface version fails, naming 'v1'", () => {
    const problems = checkPerturbationRule({ ...asam({ rho: 0.1 }), specificationVersion: 'v2' });
    expect(problems).toEqual([`member 'specificationVersion' is "v2"; expected 'v1'`]);
  });
});

describe('asam under SamOptimizer without params', () => {
  it("refuses an explicit 'mup2' or 'global' scaling (plain asam in disguise) and takes the default", () => {
    for (const scaling of ['mup2', 'global'] as const) {
      expect(() => new SamOptimizer({ base: tf.train.sgd(0.1), rule: asam({ rho: 0.05, scaling }) })).toThrowError(
        new RegExp(`scaling '${scaling}'`),
      );
    }
    new SamOptimizer({ base: tf.train.sgd(0.1), rule: asam({ rho: 0.05 }) }).dispose();
  });
});

describe('asam({ normalizeBias: false }): T on weights only, as SamsungLabs/ASAM', () => {
  for (const scaling of ['naive', 'mup2'] as const) {
    it(`matches the float64 step with T = 1 on the bias (scaling '${scaling}', width multiplier 4, eta 0.2)`, () => {
      const { start, result, reference, leaked } = runStep(16, { scaling, rho: 0.5, eta: 0.2, normalizeBias: false });
      expectUpdatesClose(start, result, reference);
      expect(leaked).toBe(0);
    });
  }

  it('is a different step from the default (T on the bias too), which the float64 references tell apart', () => {
    const options = { scaling: 'mup2', rho: 0.5, eta: 0.2 } as const;
    const weightsOnly = runStep(16, { ...options, normalizeBias: false });
    const everywhere = runStep(16, options);
    const gap = Math.max(
      ...Array.from(weightsOnly.reference.b2, (value, i) => Math.abs(value - (everywhere.reference.b2[i] as number))),
    );
    const update = Math.max(
      ...Array.from(everywhere.reference.b2, (value, i) => Math.abs(value - (everywhere.start.b2[i] as number))),
    );
    expect(gap).toBeGreaterThan(0.05 * update);
    // Each TF.js step follows its own reference, not the other one.
    expect(Array.from(weightsOnly.result.b2)).not.toEqual(Array.from(everywhere.result.b2));
  });

  it('leaves T on kernels and norm gains; biases and norm offsets (tfjs-layers gamma / beta) get T = 1', () => {
    const build = (width: number) =>
      tf.sequential({
        layers: [
          tf.layers.dense({ units: width, inputShape: [4] }),
          tf.layers.batchNormalization(),
          tf.layers.dense({ units: 3 }),
        ],
      });
    const [model, base] = [build(8), build(2)];
    const kinds = describeParams(model, base).map((spec) => [
      spec.variable.name.split('/').pop(),
      isBiasOrOffset(spec),
    ]);
    expect(kinds).toEqual([
      ['kernel', false],
      ['bias', true],
      ['gamma', false],
      ['beta', true],
      ['kernel', false],
      ['bias', true],
    ]);
    model.dispose();
    base.dispose();
    // Without ParamSpecs (every variable a 'hidden' spec, not norm) the name decides, as tfjs-layers names them.
    const named = (shape: number[], name: string, norm = false) => ({
      variable: tf.variable(tf.ones(shape), true, name),
      norm,
    });
    const specs = [
      named([3], 'no_params/ln/gamma'),
      named([3], 'no_params/ln/beta'),
      named([3], 'no_params/b2'),
      named([3], 'no_params/scale_of_my_norm', true),
      named([3, 3], 'no_params/bias'),
    ];
    expect(specs.map(isBiasOrOffset)).toEqual([false, true, true, false, false]);
    tf.dispose(specs.map((spec) => spec.variable));
  });

  it('is the rule option normalizeBias = 0 of the descriptor, and rejects what is not a boolean', () => {
    const options = { scaling: 'naive', rho: 0.5, eta: 0.2 } as const;
    const viaDescriptor = runTinyMlpStep({
      rule: ruleDescriptor.create({ ...options, normalizeBias: 0 }),
      width: 16,
      baseWidth: BASE_WIDTH,
      learningRate: 0.5,
      seed: 1,
    });
    const direct = runStep(16, { ...options, normalizeBias: false });
    expect(Array.from(viaDescriptor.result.b2)).toEqual(Array.from(direct.result.b2));
    expect(() => asam({ rho: 0.5, normalizeBias: 'no' as never })).toThrowError(
      /normalizeBias must be true or false, got no/,
    );
  });
});
