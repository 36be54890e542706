import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { RuleSpecificationError } from './errors.js';
import { muSgd } from './mu-sgd.js';
import { assertPerturbationRule } from './perturbation-rule.js';
import type { PerturbationRuleV2 } from './perturbation-rule-v2.js';
import { SamOptimizer } from './sam-optimizer.js';
import { FLOAT64_MLP_NAMES, float64Init, float64LossAndGradients } from './testing/float64-mlp.js';
import { float64Batch } from './testing/float64-step-check.js';
import { createTinyMlp } from './testing/tiny-mlp.js';

// The v2 machinery of SamOptimizer with rules written here: what the three rule packages rely on,
// and what a broken v2 rule is told.

const SHAPE = { inputSize: 6, width: 8, classes: 3 };
const BATCH = 8;

/** Plain SAM as a v2 rule, with the given hooks and direction state on top. */
function v2Rule(extra: Partial<PerturbationRuleV2> = {}): PerturbationRuleV2 {
  return {
    specificationVersion: 'v2',
    name: 'probe-v2',
    radius: 0.1,
    scaling: 'naive',
    selects: () => true,
    layerScale: () => ({ perturbation: 1, norm: 1 }),
    direction: ({ gradient }) => ({ direction: gradient, normTerm: gradient }),
    ...extra,
  };
}

function setup(seed = 1) {
  const mlp = createTinyMlp(float64Init(SHAPE, seed), SHAPE, SHAPE.width);
  const data = float64Batch(seed + 10, { batch: BATCH, inputSize: SHAPE.inputSize, classes: SHAPE.classes });
  const x = tf.tensor2d(Float32Array.from(data.x), [BATCH, SHAPE.inputSize]);
  const y = tf.tensor1d(data.labels, 'int32');
  return {
    mlp,
    data,
    x,
    y,
    variables: Object.values(mlp.variables),
    dispose: () => {
      tf.dispose([x, y]);
      mlp.dispose();
    },
  };
}

describe('PerturbationRule v2 in SamOptimizer', () => {
  it('accepts v1 and v2 rules and names both versions for another; a hook must be a function', () => {
    expect(() => assertPerturbationRule(v2Rule())).not.toThrow();
    expect(() => assertPerturbationRule({ ...v2Rule(), specificationVersion: 'v3' })).toThrowError(
      /specificationVersion "v3"; this @mup2\/core implements 'v1' and 'v2'/,
    );
    expect(() => assertPerturbationRule({ ...v2Rule(), descent: 'gsam' })).toThrowError(RuleSpecificationError);
    expect(() => assertPerturbationRule({ ...v2Rule(), ascends: true })).toThrowError(/'ascends' of type boolean/);
  });

  it('with no ascent on any step and no descent of its own, steps exactly as the base optimizer', () => {
    const [plain, probe] = [setup(), setup()];
    const base = muSgd(0.5);
    const optimizer = new SamOptimizer({ base: muSgd(0.5), rule: v2Rule({ ascends: () => false }) });
    for (let step = 0; step < 2; step++) {
      base.minimize(() => plain.mlp.loss(plain.x, plain.y), false, plain.variables);
      optimizer.minimize(() => probe.mlp.loss(probe.x, probe.y), false, probe.variables);
    }
    for (const name of FLOAT64_MLP_NAMES)
      expect(Array.from(probe.mlp.read()[name])).toEqual(Array.from(plain.mlp.read()[name]));
    base.dispose();
    optimizer.dispose();
    plain.dispose();
    probe.dispose();
  });

  it('refuses a descent direction of the wrong shape or a state that is not tensors, naming the variable; nothing changes', () => {
    const run = setup(2);
    const w1 = run.mlp.variables.W1.name;
    const broken = [
      v2Rule({ descent: () => ({ gradients: { [w1]: tf.zeros([2, 2]) } }) }),
      v2Rule({
        direction: ({ gradient }) => ({ direction: gradient, normTerm: gradient, state: { mean: 3 as never } }),
      }),
    ];
    for (const rule of broken) {
      const optimizer = new SamOptimizer({ base: muSgd(0.5), rule });
      const before = run.mlp.read();
      const tensors = tf.memory().numTensors;
      expect(() => optimizer.minimize(() => run.mlp.loss(run.x, run.y), false, run.variables)).toThrowError(
        RuleSpecificationError,
      );
      expect(() => optimizer.minimize(() => run.mlp.loss(run.x, run.y), false, run.variables)).toThrowError(
        /rule 'probe-v2' returned .* for 'tiny_mlp_\d+\/W1'/,
      );
      expect(tf.memory().numTensors, 'tensors after the refused steps').toBe(tensors);
      for (const name of FLOAT64_MLP_NAMES) expect(Array.from(run.mlp.read()[name])).toEqual(Array.from(before[name]));
      expect(optimizer.iterations).toBe(0);
      optimizer.dispose();
    }
    run.dispose();
  });

  it("under m-sharpness keeps the chunks' weighted mean of their proposed states (here: the gradient at w, so the batch's)", async () => {
    const run = setup(3);
    const rule = v2Rule({
      direction: ({ gradient }) => ({ direction: gradient, normTerm: gradient, state: { seen: tf.clone(gradient) } }),
    });
    const optimizer = new SamOptimizer({ base: muSgd(0.5), rule, mSharpness: 3 });
    optimizer.minimizeOnBatch(
      ([x, y], _pass) => run.mlp.loss(x as tf.Tensor2D, y as tf.Tensor1D),
      [run.x, run.y],
      false,
      run.variables,
    );
    // Chunks of 3, 3 and 2: weighted by size, the chunks' mean-loss gradients average to the batch's.
    const start = createTinyMlp(float64Init(SHAPE, 3), SHAPE, SHAPE.width);
    const expected = float64LossAndGradients(start.read(), run.data.x, run.data.labels, SHAPE).gradients;
    start.dispose();
    const weights = await optimizer.getWeights();
    for (const name of FLOAT64_MLP_NAMES) {
      const entry = weights.find((weight) => weight.name === `${run.mlp.variables[name].name}/sam-rule-state/seen`);
      expect(entry, `state of ${name}`).toBeDefined();
      const values = Array.from((entry?.tensor as tf.Tensor).dataSync());
      values.forEach((value, i) => expect(value).toBeCloseTo(expected[name][i] as number, 5));
    }
    tf.dispose(weights.map((weight) => weight.tensor));
    optimizer.dispose();
    run.dispose();
  });
});
