import { InvalidOptionError, muSgd, PERTURBATION_SCALINGS, type PerturbationScaling, SamOptimizer } from '@mup2/core';
import { createModel, type RuleRegistry } from '@mup2/model-zoo';
import * as tf from '@tensorflow/tfjs';
import { sampleInterleaved } from './interleaved-timer.js';
import { median } from './median.js';

/** A model the perf suite times, with the input it is timed on. */
export interface PerfModel {
  readonly label: string;
  readonly model: string;
  readonly widthMult: number;
  readonly imageShape: readonly [number, number, number];
  readonly classes: number;
  readonly batch: number;
}

export const PERF_MODELS = {
  mlp: { label: 'MLP 784→1024→1024→10', model: 'mlp', widthMult: 16, imageShape: [28, 28, 1], classes: 10, batch: 128 },
  resnet18: {
    label: 'ResNet-18 ×1, 32×32',
    model: 'resnet18',
    widthMult: 1,
    imageShape: [32, 32, 3],
    classes: 10,
    batch: 32,
  },
  vit: { label: 'ViT (small), 32×32', model: 'vit', widthMult: 1, imageShape: [32, 32, 3], classes: 10, batch: 64 },
} satisfies Record<string, PerfModel>;

export interface StepTime {
  /** 'sgd' or '<rule> <scaling>', e.g. 'sam mup2'. */
  readonly step: string;
  /** Per optimizer step: a timed call runs a whole cycle of the rule's steps (its descriptor's stepCycle, e.g. LookSAM's k) and is divided by it. */
  readonly milliseconds: number;
  /** Steps in each timed call (1 unless the rule's cost repeats over a cycle of steps). */
  readonly stepsPerCall: number;
  /** This step's time over the SGD step's on the same model. */
  readonly overSgd: number;
  /** Milliseconds per step in each timed round, in round order (`milliseconds` is their median). */
  readonly rounds?: readonly number[];
}

export interface ModelPerf {
  readonly model: string;
  readonly label: string;
  readonly batch: number;
  readonly steps: StepTime[];
  /** Tensors left behind per step over all timed and warm-up steps (0 means no leak). */
  readonly tensorGrowthPerStep: number;
}

/** What a perf run steps: one µP-SGD base optimizer per kind, so a ratio is the cost of the perturbation. */
export interface PerfStepOptions {
  readonly rules: readonly string[];
  /** Where the rules come from (the installed rule packages and any --rule-module); needed when `rules` names any. */
  readonly registry?: RuleRegistry;
  readonly scalings?: readonly PerturbationScaling[];
  readonly batch?: number;
  /** Heavy-ball momentum of every base optimizer (default 0.9, as the peers use). */
  readonly momentum?: number;
}

/**
 * One step function per kind ('sgd', '<rule> <scaling>') on one model and one fixed
 * batch, each running a full optimizer step and reading its loss back.
 */
export function createPerfSteps(
  perfModel: PerfModel,
  options: PerfStepOptions,
): { steps: Record<string, () => void>; stepsPerCall: Record<string, number>; dispose: () => void } {
  const batch = options.batch ?? perfModel.batch;
  const scalings = options.scalings ?? (['naive', 'mup2'] as const);
  const model = createModel({
    model: perfModel.model,
    widthMult: perfModel.widthMult,
    parameterization: 'mup',
    imageShape: perfModel.imageShape,
    classes: perfModel.classes,
    seed: 1,
  });
  const x = tf.randomNormal([batch, ...perfModel.imageShape]);
  const y = tf.tensor1d(
    Array.from({ length: batch }, (_, i) => i % perfModel.classes),
    'int32',
  );
  const base = () => muSgd(1e-4, model.specs, { momentum: options.momentum ?? 0.9 });
  const registry = options.registry as RuleRegistry;
  if (options.rules.length > 0 && registry === undefined) {
    model.dispose();
    tf.dispose([x, y]);
    throw new InvalidOptionError(`perf: rules ${options.rules.join(', ')} need a rule registry (loadRules()).`);
  }
  const optimizers: Record<string, tf.Optimizer> = { sgd: base() };
  const stepsPerCall: Record<string, number> = { sgd: 1 };
  for (const rule of options.rules) {
    for (const scaling of scalings) {
      if (!PERTURBATION_SCALINGS.includes(scaling)) continue;
      optimizers[`${rule} ${scaling}`] = new SamOptimizer({
        base: base(),
        rule: registry.create(rule, { rho: 0.05, scaling }),
        params: model.specs,
      });
      stepsPerCall[`${rule} ${scaling}`] = registry.descriptor(rule).stepCycle?.({ rho: 0.05, scaling }) ?? 1;
    }
  }
  const loss = () => model.loss(x, y, { training: true });
  const steps = Object.fromEntries(
    Object.entries(optimizers).map(([name, optimizer]) => [
      name,
      () => {
        for (let step = 0; step < (stepsPerCall[name] ?? 1); step++) {
          const cost = optimizer.minimize(loss, true, model.trainableVariables);
          cost?.dataSync();
          cost?.dispose();
        }
      },
    ]),
  );
  const dispose = () => {
    for (const optimizer of Object.values(optimizers)) optimizer.dispose();
    model.dispose();
    tf.dispose([x, y]);
  };
  return { steps, stepsPerCall, dispose };
}

/**
 * Step times of SGD and of each rule × scaling on one model, in one process,
 * interleaved round by round after a warm-up, median of `rounds`.
 */
export function measureModelPerf(
  perfModel: PerfModel,
  options: PerfStepOptions & {
    rounds: number;
    warmup: number;
    /** Rounds done (warm-up and timed) of all rounds, after each round. */
    onRound?: (done: number, total: number) => void;
  },
): ModelPerf {
  const batch = options.batch ?? perfModel.batch;
  const before = tf.memory().numTensors;
  const { steps, stepsPerCall, dispose } = createPerfSteps(perfModel, options);
  const samples = sampleInterleaved(steps, {
    warmup: options.warmup,
    rounds: options.rounds,
    ...(options.onRound !== undefined && { onRound: options.onRound }),
  });
  const perStep = Object.fromEntries(
    Object.entries(samples).map(([name, values]) => [name, values.map((ms) => ms / (stepsPerCall[name] ?? 1))]),
  );
  const stepCount =
    (options.warmup + options.rounds) * Object.values(stepsPerCall).reduce((sum, count) => sum + count, 0);
  // The model, batch and optimizers (with their momentum buffers) are disposed before counting: what is left leaked.
  dispose();
  const tensorGrowthPerStep = (tf.memory().numTensors - before) / stepCount;
  const medians = Object.fromEntries(Object.entries(perStep).map(([name, rounds]) => [name, median(rounds)]));
  const sgd = medians.sgd as number;
  return {
    model: perfModel.model,
    label: perfModel.label,
    batch,
    tensorGrowthPerStep,
    steps: Object.entries(perStep).map(([step, rounds]) => ({
      step,
      milliseconds: medians[step] as number,
      stepsPerCall: stepsPerCall[step] ?? 1,
      overSgd: (medians[step] as number) / sgd,
      rounds,
    })),
  };
}
