import * as tf from '@tensorflow/tfjs-core';
import { effectivePerturbations, logLogSlope, type MeasuredLayer } from '../coord-check.js';
import { muSgd } from '../mu-sgd.js';
import type { PerturbationRule, PerturbationScaling } from '../perturbation-rule.js';
import { SamOptimizer } from '../sam-optimizer.js';
import { type Float64MlpName, float64Init, seededNormal, seededRandom } from './float64-mlp.js';
import { createTinyMlp } from './tiny-mlp.js';

/** Options of tinyMlpCoordCheck. */
export interface TinyMlpCoordCheckOptions {
  /** Builds the rule under test for a scaling. */
  readonly rule: (scaling: PerturbationScaling) => PerturbationRule;
  readonly scaling: PerturbationScaling;
  /** Default [64, 128, 256, 512, 1024]; the first is the base width. */
  readonly widths?: readonly number[];
  /** µP-SGD SAM steps before measuring. Default 3. */
  readonly steps?: number;
  readonly learningRate?: number;
  readonly seeds?: readonly number[];
  readonly inputSize?: number;
  readonly batch?: number;
}

/** What tinyMlpCoordCheck measured: the slopes per layer, and the widths. */
export interface TinyMlpCoordCheck {
  readonly widths: readonly number[];
  /** Mean effective perturbation per layer (W1, gamma, W2, b2, W3) at each width. */
  readonly effects: Record<string, number[]>;
  /** log-log slope of each layer's effective perturbation against width. */
  readonly slopes: Record<string, number>;
}

const KINDS: Record<Float64MlpName, MeasuredLayer['kind']> = {
  W1: 'matmul',
  gamma: 'scale',
  W2: 'matmul',
  b2: 'shift',
  W3: 'matmul',
};

/**
 * The perturbation coordinate check of docs/mup2-explained.md on the tiny MLP
 * (inputSize→n→n→3 with a norm-like gain after the first layer), µP init and
 * µP-SGD: train a few SAM steps at each width, then measure each layer's
 * effective perturbation and fit its slope against width. Under a rule's µP²
 * scaling every slope of a layer it selects should be near 0.
 */
export function tinyMlpCoordCheck(options: TinyMlpCoordCheckOptions): TinyMlpCoordCheck {
  const widths = options.widths ?? [64, 128, 256, 512, 1024];
  const baseWidth = widths[0] as number;
  const steps = options.steps ?? 3;
  const learningRate = options.learningRate ?? 0.1;
  const seeds = options.seeds ?? [1, 2];
  const inputSize = options.inputSize ?? 32;
  const batch = options.batch ?? 32;
  const classes = 3;
  const effects: Record<string, number[]> = {};
  for (const width of widths) {
    const sums: Record<string, number> = {};
    for (const seed of seeds) {
      const shape = { inputSize, width, classes };
      const mlp = createTinyMlp(float64Init(shape, seed * 7919 + width, { baseWidth }), shape, baseWidth);
      const normal = seededNormal(seed);
      const uniform = seededRandom(seed + 1);
      const x = tf.tensor2d(Float32Array.from({ length: batch * inputSize }, normal), [batch, inputSize]);
      const y = tf.tensor1d(
        Array.from({ length: batch }, () => Math.floor(uniform() * classes)),
        'int32',
      );
      const optimizer = new SamOptimizer({
        base: muSgd(learningRate, mlp.specs),
        rule: options.rule(options.scaling),
        params: mlp.specs,
      });
      const variables = Object.values(mlp.variables);
      const loss = () => mlp.loss(x, y);
      for (let step = 0; step < steps; step++) optimizer.minimize(loss, false, variables);
      const perturbations = optimizer.computePerturbation(loss, variables);
      const inputs = mlp.layerInputs(x);
      const layers: MeasuredLayer[] = (Object.keys(KINDS) as Float64MlpName[]).map((name) => ({
        variableName: mlp.variables[name].name,
        kind: KINDS[name],
        input: name === 'b2' ? undefined : inputs[name as Exclude<Float64MlpName, 'b2'>],
      }));
      const measured = effectivePerturbations(perturbations, layers);
      for (const name of Object.keys(KINDS) as Float64MlpName[]) {
        const value = measured[mlp.variables[name].name];
        if (value !== undefined) sums[name] = (sums[name] ?? 0) + value / seeds.length;
      }
      tf.dispose([x, y, perturbations, inputs]);
      optimizer.dispose();
      mlp.dispose();
    }
    for (const [name, value] of Object.entries(sums)) {
      const series = effects[name] ?? [];
      series.push(value);
      effects[name] = series;
    }
  }
  const slopes = Object.fromEntries(
    Object.entries(effects).map(([name, values]) => [name, logLogSlope(widths, values)]),
  );
  return { widths, effects, slopes };
}
