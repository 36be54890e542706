import { muSgd, SamOptimizer } from '@mup2/core';
import { createModel, type RuleRegistry } from '@mup2/model-zoo';
import * as tf from '@tensorflow/tfjs';
import { timeInterleaved } from './interleaved-timer.js';
import type { PerfModel } from './perf-suite.js';

/** Step costs of ε reuse: what a step costs on average when ε is computed every k steps. */
export interface ReuseStepTime {
  /** 'sgd', '<rule> mup2' (ε every step), '<rule> mup2, ε every k', or '<rule> mup2, reuse step'. */
  readonly step: string;
  /** Mean milliseconds per step over a cycle of steps (median over rounds). */
  readonly milliseconds: number;
  readonly overSgd: number;
  readonly overSam: number;
}

export interface ReusePerf {
  readonly label: string;
  readonly batch: number;
  readonly rule: string;
  readonly intervals: readonly number[];
  /** Optimizer steps in each timed call: a multiple of every interval, so each call holds whole cycles. */
  readonly stepsPerRound: number;
  readonly steps: ReuseStepTime[];
  readonly tensorGrowthPerStep: number;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
const lcm = (numbers: readonly number[]) => numbers.reduce((acc, n) => (acc * n) / gcd(acc, n), 1);

/** An interval no run reaches: after its first step every step reuses ε. */
const ALWAYS_REUSE = 1_000_000_000;

/**
 * The cost of SamOptimizer's `perturbationInterval` on one model, in one process: SGD, the rule's
 * mup2 step computing ε every step, computing it every k steps for each k of `intervals`, and a
 * reuse step alone. Every timed call runs the same number of optimizer steps, a multiple of each k,
 * so a call holds whole cycles (one step with ε computed, k − 1 reusing it) and its mean is the
 * amortized step cost. Interleaved round by round after a warm-up, median of `rounds`; every
 * optimizer has the same µP-SGD base, so the ratios are the cost of the perturbation.
 */
export function measurePerturbationReuse(
  perfModel: PerfModel,
  options: {
    rule: string;
    registry: RuleRegistry;
    intervals: readonly number[];
    rounds: number;
    warmup: number;
    onRound?: (done: number, total: number) => void;
  },
): ReusePerf {
  const model = createModel({
    model: perfModel.model,
    widthMult: perfModel.widthMult,
    parameterization: 'mup',
    imageShape: perfModel.imageShape,
    classes: perfModel.classes,
    seed: 1,
  });
  const x = tf.randomNormal([perfModel.batch, ...perfModel.imageShape]);
  const y = tf.tensor1d(
    Array.from({ length: perfModel.batch }, (_, i) => i % perfModel.classes),
    'int32',
  );
  // The base of perf-suite's steps (momentum 0.9, as the peers use), so the two tables compare.
  const base = () => muSgd(1e-4, model.specs, { momentum: 0.9 });
  const sam = (perturbationInterval?: number) =>
    new SamOptimizer({
      base: base(),
      rule: options.registry.create(options.rule, { rho: 0.05, scaling: 'mup2' }),
      params: model.specs,
      ...(perturbationInterval !== undefined && { perturbationInterval }),
    });
  const samName = `${options.rule} mup2`;
  const optimizers: Record<string, tf.Optimizer> = { sgd: base(), [samName]: sam() };
  for (const k of options.intervals) optimizers[`${samName}, ε every ${k}`] = sam(k);
  optimizers[`${samName}, reuse step`] = sam(ALWAYS_REUSE);
  const stepsPerRound = lcm(options.intervals);
  const loss = () => model.loss(x, y, { training: true });
  const steps = Object.fromEntries(
    Object.entries(optimizers).map(([name, optimizer]) => [
      name,
      () => {
        for (let step = 0; step < stepsPerRound; step++) {
          const cost = optimizer.minimize(loss, true, model.trainableVariables);
          cost?.dataSync();
          cost?.dispose();
        }
      },
    ]),
  );
  // One untimed step each before the count: it creates each optimizer's state (the kept ε of the
  // reuse optimizers, which the reuse-step one computes here, once), which is not a leak.
  for (const optimizer of Object.values(optimizers)) {
    optimizer.minimize(loss, true, model.trainableVariables)?.dispose();
  }
  const before = tf.memory().numTensors;
  const perCall = timeInterleaved(steps, {
    warmup: options.warmup,
    rounds: options.rounds,
    ...(options.onRound !== undefined && { onRound: options.onRound }),
  });
  const stepCount = (options.warmup + options.rounds) * stepsPerRound * Object.keys(steps).length;
  const tensorGrowthPerStep = (tf.memory().numTensors - before) / stepCount;
  for (const optimizer of Object.values(optimizers)) optimizer.dispose();
  model.dispose();
  tf.dispose([x, y]);
  const ms = (name: string) => (perCall[name] as number) / stepsPerRound;
  return {
    label: perfModel.label,
    batch: perfModel.batch,
    rule: options.rule,
    intervals: [...options.intervals],
    stepsPerRound,
    tensorGrowthPerStep,
    steps: Object.keys(perCall).map((step) => ({
      step,
      milliseconds: ms(step),
      overSgd: ms(step) / ms('sgd'),
      overSam: ms(step) / ms(samName),
    })),
  };
}

/** The measurement as a Markdown section. */
export function reuseTable(result: ReusePerf): string {
  return [
    `### ε reuse: ${result.label} (batch ${result.batch}), ${result.rule} mup2`,
    '',
    `Mean step time over ${result.stepsPerRound} steps per round (whole cycles of every k), median of the rounds.`,
    '',
    '| step | ms | ratio to SGD | ratio to SAM |',
    '|---|---:|---:|---:|',
    ...result.steps.map(
      (step) =>
        `| ${step.step} | ${step.milliseconds.toFixed(1)} | ${step.overSgd.toFixed(2)} | ${step.overSam.toFixed(2)} |`,
    ),
    '',
    `Tensor growth per step: ${result.tensorGrowthPerStep}`,
  ].join('\n');
}
