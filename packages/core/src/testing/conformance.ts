import * as tf from '@tensorflow/tfjs-core';
import { InvalidOptionError, InvalidRhoError } from '../errors.js';
import { muSgd } from '../mu-sgd.js';
import { PERTURBATION_SCALINGS, type PerturbationRule, type PerturbationScaling } from '../perturbation-rule.js';
import { assertRuleDescriptor, type RuleDescriptor } from '../rule-descriptor.js';
import { checkPerturbationRule } from './check-rule.js';
import { BASE_WIDTH, fixture, readPerturbations, samOptimizer, selectedNames, WIDE } from './conformance-fixture.js';
import { registerStateChecks } from './conformance-state.js';
import { FLOAT64_MLP_NAMES, type Float64MlpName } from './float64-mlp.js';
import { tinyMlpCoordCheck } from './tiny-mlp-coord-check.js';

/** What `fn` throws, or undefined when it returns. */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

// vitest throws when it is imported outside its runner, and the rest of @mup2/core/testing
// (the float64 MLP, tinyMlpCoordCheck) is used outside it, e.g. by the bench and in browser
// pages. So vitest is loaded here, once, and only runRuleConformance needs it; the specifier is
// a variable so that bundlers neither pull vitest into a page nor fail to resolve it.
const VITEST_MODULE = 'vitest';
type VitestApi = Pick<typeof import('vitest'), 'describe' | 'it' | 'expect'>;
let vitest: VitestApi | undefined;
let vitestFailure: unknown;
try {
  vitest = (await import(/* @vite-ignore */ VITEST_MODULE)) as VitestApi;
} catch (error) {
  vitestFailure = error;
}

/** What the conformance suite passes to a rule factory. */
export interface RuleFactoryOptions {
  readonly rho: number;
  readonly scaling: PerturbationScaling;
}

/** Builds the rule under test, e.g. `sam` or `(options) => asam({ ...options, eta: 0.1 })`. */
export type RuleFactory = (options: RuleFactoryOptions) => PerturbationRule;

export interface RuleConformanceOptions {
  /** Title of the describe block. Default: the rule's `name`. */
  readonly name?: string;
  /** The radius of every check. Default 0.1 (the radius of the float64 coordinate check in docs/mup2-explained.md). */
  readonly rho?: number;
  /** The coordinate check of the rule's 'mup2' scaling. */
  readonly coordCheck?: {
    /** Default [64, 128, 256, 512, 1024]; the first is the base width. */
    readonly widths?: readonly number[];
    /** Default [1, 2]. */
    readonly seeds?: readonly number[];
    /** Largest |slope| accepted for a selected layer. Default 0.3 (docs/mup2-explained.md: more means a multiplier is wrong). */
    readonly tolerance?: number;
  };
}

/**
 * Registers the conformance suite (docs/adding-a-rule.md) for a perturbation rule with vitest
 * `describe`/`it` blocks: interface, shapes and dtypes, no tensor leaks, ρ = 0 is the base
 * step, r = 1 equals the naive form, zero gradients give a zero perturbation, determinism,
 * and the perturbation coordinate check of the rule's 'mup2' scaling (every selected layer's
 * log-log slope within ±0.3 of 0 over widths 64…1024). Call it at the top level of a test file
 * with the rule package's descriptor (then the descriptor is checked too, and its `create`
 * builds the rules) or with a factory:
 *
 *   runRuleConformance(ruleDescriptor);
 *   runRuleConformance((options) => asam({ ...options, eta: 0.1 }));
 */
export function runRuleConformance(rule: RuleFactory | RuleDescriptor, options: RuleConformanceOptions = {}): void {
  if (vitest === undefined) {
    throw new Error(
      `runRuleConformance registers vitest tests and must run inside vitest; importing vitest failed: ${String(vitestFailure)}`,
    );
  }
  const { describe, it, expect } = vitest;
  const descriptor = typeof rule === 'function' ? undefined : rule;
  const createRule: RuleFactory =
    typeof rule === 'function' ? rule : ({ rho: radius, scaling }) => rule.create({ rho: radius, scaling });
  const rho = options.rho ?? 0.1;
  const widths = options.coordCheck?.widths ?? [64, 128, 256, 512, 1024];
  const seeds = options.coordCheck?.seeds ?? [1, 2];
  const tolerance = options.coordCheck?.tolerance ?? 0.3;
  const probe = createRule({ rho, scaling: 'naive' });
  const title = options.name ?? probe.name;
  // A v2 rule is checked against v2 (and its state below); anything else against v1, which names what is wrong.
  const version = probe.specificationVersion === 'v2' ? 'v2' : 'v1';

  describe(`PerturbationRule conformance: ${title}`, () => {
    if (descriptor !== undefined) {
      it('has a rule descriptor that @mup2/core accepts (the one tools find and build the rule from)', () => {
        expect(() => assertRuleDescriptor(descriptor, `the descriptor of '${title}'`)).not.toThrow();
      });
    }

    it(`has every member of the ${version} interface and specificationVersion '${version}', for every scaling`, () => {
      for (const scaling of PERTURBATION_SCALINGS) {
        const rule = createRule({ rho, scaling });
        expect(checkPerturbationRule(rule, version), `rule built with scaling '${scaling}'`).toEqual([]);
        expect(rule.specificationVersion).toBe(version);
        expect(rule.scaling, 'the scaling it was asked for').toBe(scaling);
        expect(rule.radius, 'the radius it was asked for').toBe(rho);
      }
    });

    it('rejects a negative or non-finite radius when it is created, with an InvalidRhoError naming the value', () => {
      for (const bad of [-0.1, Number.NaN, Number.POSITIVE_INFINITY]) {
        const error = thrownBy(() => createRule({ rho: bad, scaling: 'mup2' }));
        expect(InvalidRhoError.isInstance(error), `rho ${bad}: an InvalidRhoError, got ${String(error)}`).toBe(true);
        expect((error as Error).message, `rho ${bad}: the message names the value`).toContain(String(bad));
      }
    });

    it('rejects an unknown scaling when it is created, with an InvalidOptionError listing the known ones', () => {
      const error = thrownBy(() => createRule({ rho, scaling: 'layerwise' as PerturbationScaling }));
      expect(InvalidOptionError.isInstance(error), `an InvalidOptionError, got ${String(error)}`).toBe(true);
      expect((error as Error).message).toMatch(/'naive', 'global', 'mup2'/);
    });

    it('gives ε the shape and dtype of each selected weight, finite, and nothing for the others', () => {
      for (const scaling of PERTURBATION_SCALINGS) {
        const model = fixture(WIDE);
        const rule = createRule({ rho, scaling });
        const optimizer = samOptimizer(rule, model.mlp);
        const expected = selectedNames(rule, model.mlp).map((name) => model.mlp.variables[name].name);
        expect(expected.length, 'parameters of the tiny MLP the rule selects').toBeGreaterThan(0);
        const perturbations = optimizer.computePerturbation(model.loss, model.variables);
        expect(Object.keys(perturbations).sort(), `perturbed variables under '${scaling}'`).toEqual(
          [...expected].sort(),
        );
        for (const variable of model.variables) {
          const epsilon = perturbations[variable.name];
          if (epsilon === undefined) continue;
          expect(epsilon.shape, `shape of ε for ${variable.name}`).toEqual(variable.shape);
          expect(epsilon.dtype, `dtype of ε for ${variable.name}`).toBe(variable.dtype);
          const values = epsilon.dataSync();
          expect(values.every(Number.isFinite), `ε for ${variable.name} is finite`).toBe(true);
        }
        tf.dispose(perturbations);
        optimizer.dispose();
        model.dispose();
      }
    });

    it('leaks no tensors over steps', () => {
      for (const scaling of PERTURBATION_SCALINGS) {
        const model = fixture(WIDE);
        const start = tf.memory().numTensors;
        const optimizer = samOptimizer(createRule({ rho, scaling }), model.mlp);
        optimizer.minimize(model.loss, false, model.variables);
        const afterFirst = tf.memory().numTensors;
        for (let step = 0; step < 4; step++) optimizer.minimize(model.loss, false, model.variables);
        expect(tf.memory().numTensors, `tensors after step 5 vs step 1 under '${scaling}'`).toBe(afterFirst);
        const perturbations = optimizer.computePerturbation(model.loss, model.variables);
        tf.dispose(perturbations);
        expect(tf.memory().numTensors, `tensors after computePerturbation under '${scaling}'`).toBe(afterFirst);
        optimizer.dispose();
        expect(tf.memory().numTensors, `tensors once the optimizer is disposed under '${scaling}'`).toBe(start);
        model.dispose();
      }
    });

    it('with ρ = 0 has a zero ε and steps exactly like the base optimizer alone', () => {
      for (const scaling of PERTURBATION_SCALINGS) {
        const plain = fixture(WIDE);
        const model = fixture(WIDE);
        const start = tf.memory().numTensors;
        const base = muSgd(0.5, plain.mlp.specs);
        const optimizer = samOptimizer(createRule({ rho: 0, scaling }), model.mlp);
        const perturbations = optimizer.computePerturbation(model.loss, model.variables);
        for (const [name, epsilon] of Object.entries(perturbations)) {
          expect(
            Array.from(epsilon.dataSync()).every((value) => value === 0),
            `ε of ${name} at ρ = 0 under '${scaling}'`,
          ).toBe(true);
        }
        tf.dispose(perturbations);
        for (let step = 0; step < 2; step++) {
          base.minimize(plain.loss, false, plain.variables);
          optimizer.minimize(model.loss, false, model.variables);
        }
        const expected = plain.mlp.read();
        const actual = model.mlp.read();
        for (const name of FLOAT64_MLP_NAMES) {
          expect(Array.from(actual[name]), `${name} after two steps at ρ = 0 under '${scaling}'`).toEqual(
            Array.from(expected[name]),
          );
        }
        base.dispose();
        optimizer.dispose();
        expect(tf.memory().numTensors, 'tensors after the steps').toBe(start);
        plain.dispose();
        model.dispose();
      }
    });

    it("equals its 'naive' form at width multiplier 1, exactly", () => {
      const stepped = PERTURBATION_SCALINGS.map((scaling) => {
        const model = fixture(BASE_WIDTH);
        const start = tf.memory().numTensors;
        const optimizer = samOptimizer(createRule({ rho, scaling }), model.mlp);
        for (let step = 0; step < 2; step++) optimizer.minimize(model.loss, false, model.variables);
        const weights = model.mlp.read();
        optimizer.dispose();
        expect(tf.memory().numTensors, `tensors after the steps under '${scaling}'`).toBe(start);
        model.dispose();
        return { scaling, weights };
      });
      const naive = stepped.find((entry) => entry.scaling === 'naive')!;
      for (const { scaling, weights } of stepped) {
        for (const name of FLOAT64_MLP_NAMES) {
          expect(Array.from(weights[name]), `${name} after two steps under '${scaling}' vs 'naive'`).toEqual(
            Array.from(naive.weights[name]),
          );
        }
      }
    });

    it('gives a zero (not NaN) perturbation when every gradient is zero', () => {
      for (const scaling of PERTURBATION_SCALINGS) {
        const model = fixture(WIDE);
        const before = model.mlp.read();
        const start = tf.memory().numTensors;
        const optimizer = samOptimizer(createRule({ rho, scaling }), model.mlp);
        const flatLoss = () => tf.tidy(() => tf.mul(model.loss(), 0) as tf.Scalar);
        const perturbations = optimizer.computePerturbation(flatLoss, model.variables);
        expect(Object.keys(perturbations).length).toBeGreaterThan(0);
        for (const [name, epsilon] of Object.entries(perturbations)) {
          expect(
            Array.from(epsilon.dataSync()).every((value) => value === 0),
            `ε of ${name} for zero gradients under '${scaling}' (NaN means 0/0 is not guarded)`,
          ).toBe(true);
        }
        tf.dispose(perturbations);
        optimizer.minimize(flatLoss, false, model.variables);
        const after = model.mlp.read();
        for (const name of FLOAT64_MLP_NAMES) {
          expect(Array.from(after[name]), `${name} after a step with zero gradients`).toEqual(Array.from(before[name]));
        }
        optimizer.dispose();
        expect(tf.memory().numTensors, 'tensors after the step').toBe(start);
        model.dispose();
      }
    });

    it('is deterministic: the same weights and batch give the same ε', () => {
      for (const scaling of PERTURBATION_SCALINGS) {
        const runs = [0, 1].map(() => {
          const model = fixture(WIDE, 3);
          const optimizer = samOptimizer(createRule({ rho, scaling }), model.mlp);
          const twice = [0, 1].map(() => {
            const perturbations = optimizer.computePerturbation(model.loss, model.variables);
            const values = readPerturbations(perturbations, model.mlp);
            tf.dispose(perturbations);
            return values;
          });
          optimizer.dispose();
          model.dispose();
          return twice;
        });
        const [reference] = runs.flat() as [Partial<Record<Float64MlpName, Float32Array>>];
        for (const values of runs.flat()) {
          for (const name of FLOAT64_MLP_NAMES) {
            const expected = reference[name];
            expect(
              values[name] === undefined ? undefined : Array.from(values[name]!),
              `ε of ${name} under '${scaling}'`,
            ).toEqual(expected === undefined ? undefined : Array.from(expected));
          }
        }
      }
    });

    if (version === 'v2') registerStateChecks({ it, expect }, () => createRule({ rho, scaling: 'mup2' }));

    it(`keeps every selected layer's effective perturbation width-independent under 'mup2' (coordinate check, widths ${widths.join(', ')})`, () => {
      const start = tf.memory().numTensors;
      const check = tinyMlpCoordCheck({
        rule: (scaling) => createRule({ rho, scaling }),
        scaling: 'mup2',
        widths,
        seeds,
      });
      expect(tf.memory().numTensors, 'tensors after the coordinate check').toBe(start);
      const probe = fixture(2 * BASE_WIDTH);
      const selected = selectedNames(createRule({ rho, scaling: 'mup2' }), probe.mlp);
      probe.dispose();
      const report = Object.entries(check.slopes)
        .map(([name, slope]) => `${name} ${slope.toFixed(2)}`)
        .join(', ');
      for (const name of selected) {
        const slope = check.slopes[name];
        expect(slope, `slope of ${name} (all slopes: ${report})`).toBeDefined();
        expect(Math.abs(slope!), `|slope| of ${name} under 'mup2' (all slopes: ${report})`).toBeLessThanOrEqual(
          tolerance,
        );
      }
    }, 120_000);
  });
}
