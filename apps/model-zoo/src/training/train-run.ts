import { InvalidOptionError, parsePreset } from '@mup2/core';
import * as tf from '@tensorflow/tfjs';
import { trainBatchCount, trainBatches } from '../datasets/batches.js';
import type { ImageDataset } from '../datasets/image-dataset.js';
import { withLabelNoise } from '../datasets/label-noise.js';
import { loadDataset } from '../datasets/load-dataset.js';
import { removeStaleTemporaryFiles } from '../files/atomic-file.js';
import { makeDirectory } from '../files/make-directory.js';
import { createModel } from '../models/create-model.js';
import { loadRules } from '../rules/load-rules.js';
import { type LoadedCheckpoint, readCheckpoint, restoreCheckpoint, saveCheckpoint } from './checkpoint.js';
import { CheckpointError } from './checkpoint-error.js';
import { createOptimizer } from './create-optimizer.js';
import { evaluateAccuracy } from './evaluate-accuracy.js';
import { scheduledLearningRate, setLearningRate } from './learning-rate-schedule.js';
import { checkTrainingMemory } from './memory-limit.js';
import { type ResolvedTrainConfig, RUN_IDENTITY_KEYS, resolveTrainConfig, type TrainConfig } from './train-config.js';
import type { EpochSummary, TrainResult, TrainRunOptions } from './train-result.js';
import { type StepOutcome, trainStep } from './train-step.js';

function allFinite(variables: readonly tf.Variable[]): boolean {
  return tf.tidy(() => variables.every((variable) => tf.all(tf.isFinite(variable)).dataSync()[0] === 1));
}

/** What a checkpoint written before a field existed meant by its absence. */
const ABSENT_MEANS: Partial<Record<keyof ResolvedTrainConfig, unknown>> = {
  lrSchedule: 'constant',
  ruleOptions: {},
  mSharpness: null,
  perturbationInterval: 1,
  labelNoise: 0,
};

/** The differences between a checkpoint's config and this run's, in the fields that identify a run. */
function configDifferences(stored: Record<string, unknown>, current: ResolvedTrainConfig): string[] {
  const show = (value: unknown) => (value === undefined || value === null ? 'unset' : JSON.stringify(value));
  const storedValue = (key: keyof ResolvedTrainConfig) => stored[key] ?? ABSENT_MEANS[key] ?? null;
  const differences = RUN_IDENTITY_KEYS.filter(
    (key) => JSON.stringify(storedValue(key)) !== JSON.stringify(current[key]),
  ).map((key) => `${key} ${show(storedValue(key))} there, ${show(current[key])} now`);
  // A schedule that ends with the run is another schedule when the run gets longer.
  if (current.lrSchedule !== 'constant' && stored.epochs !== current.epochs) {
    differences.push(
      `epochs ${show(stored.epochs)} there, ${show(current.epochs)} now (the ${current.lrSchedule} schedule spans the run)`,
    );
  }
  return differences;
}

/** The checkpoint to continue from, after checking that it belongs to this run; undefined to start fresh. */
async function checkpointToResume(
  config: TrainConfig,
  resolved: ResolvedTrainConfig,
  notice: (message: string) => void,
): Promise<LoadedCheckpoint | undefined> {
  if (config.checkpoint === undefined) return undefined;
  const { dir, resume = false } = config.checkpoint;
  const checkpoint = await readCheckpoint(dir);
  if (checkpoint === undefined) return undefined;
  const file = checkpoint.file;
  if (!resume) {
    throw new CheckpointError(
      `checkpoint ${file} already exists (epoch ${checkpoint.manifest.epoch}); resume from it or choose another checkpoint directory.`,
      { file },
    );
  }
  const differences = configDifferences(checkpoint.manifest.config as unknown as Record<string, unknown>, resolved);
  if (differences.length > 0) {
    throw new CheckpointError(
      `checkpoint ${file} was written by a run with another config (${differences.join('; ')}); ` +
        'resume with the same config (only epochs may change, and not under a learning-rate schedule) or choose another checkpoint directory.',
      { file },
    );
  }
  if (checkpoint.manifest.epoch > resolved.epochs) {
    throw new CheckpointError(
      `checkpoint ${file} has ${checkpoint.manifest.epoch} epochs done, more than the ${resolved.epochs} asked for.`,
      { file },
    );
  }
  if (checkpoint.newestProblem !== undefined) {
    notice(
      `the newest checkpoint cannot be used (${checkpoint.newestProblem.replace(/\.$/, '')}); resuming from the previous one, ` +
        `${file} (epoch ${checkpoint.manifest.epoch}).`,
    );
  }
  return checkpoint;
}

function summarize(
  history: readonly EpochSummary[],
  partial: Omit<TrainResult, 'finalTestAccuracy' | 'bestTestAccuracy' | 'trainLoss' | 'epochs' | 'finalTrainAccuracy'>,
  finalTrainAccuracy = Number.NaN,
): TrainResult {
  const last = history[history.length - 1];
  return {
    finalTestAccuracy: partial.diverged ? 0 : (last?.testAccuracy ?? 0),
    bestTestAccuracy: history.reduce((best, epoch) => Math.max(best, epoch.testAccuracy ?? 0), 0),
    trainLoss: partial.diverged ? Number.NaN : (last?.trainLoss ?? Number.NaN),
    finalTrainAccuracy,
    epochs: [...history],
    ...partial,
  };
}

/**
 * Trains one model of the zoo on one data set (DESIGN.md §5, §6, §8): builds
 * the model in the preset's parameterization, its base optimizer (SGD with
 * momentum or Adam(W), µP per-layer rates under a µP preset) wrapped in a
 * SamOptimizer with the rule and the preset's perturbation scaling, and runs
 * `epochs` seeded epochs, evaluating test accuracy after each.
 *
 * With `checkpoint`, saves the run after every epoch, and with `resume`
 * continues from a checkpoint of the same config: the result is bit-for-bit
 * that of one uninterrupted run on the same backend. A run whose loss turns NaN
 * stops and reports `diverged` instead of throwing; one whose `signal` aborts
 * stops after the running step and reports `interruptedInEpoch`. A run whose
 * estimated memory is beyond `memoryLimit` is refused (ModelTooLargeError)
 * before anything is loaded.
 *
 * The caller chooses the TF.js backend first (initBackend); everything the run
 * allocates is disposed before it returns.
 */
export async function trainRun(config: TrainConfig, hooks: TrainRunOptions = {}): Promise<TrainResult> {
  const started = performance.now();
  const rules = await loadRules({ modules: config.ruleModules });
  const resolved = resolveTrainConfig(config, rules);
  // Before the data and the model take any memory.
  checkTrainingMemory(resolved, hooks.memoryLimit);
  const checkpoint = await checkpointToResume(config, resolved, (message) => hooks.onNotice?.(message));
  if (config.checkpoint !== undefined) {
    // A checkpoint folder that cannot be made (a read-only disk) is found now, not after the first epoch;
    // what writers killed mid-write left there goes now, not when the first epoch is saved.
    await makeDirectory(config.checkpoint.dir, 'nothing was trained');
    await removeStaleTemporaryFiles(config.checkpoint.dir);
  }
  const dataset: ImageDataset = withLabelNoise(
    await (hooks.loadDataset ?? loadDataset)({
      name: resolved.dataset,
      dataDir: resolved.dataDir ?? undefined,
      limit: resolved.limit ?? undefined,
      testLimit: resolved.testLimit ?? undefined,
      ...(config.cifar10BatchRecords !== undefined && { cifar10BatchRecords: config.cifar10BatchRecords }),
    }),
    resolved.labelNoise,
    resolved.seed,
  );
  const batches = trainBatchCount(dataset, resolved.batch);
  if (batches === 0) {
    throw new InvalidOptionError(
      `trainRun: batch ${resolved.batch} is larger than the ${dataset.train.count} training examples of ${dataset.name}.`,
    );
  }
  const backend = tf.getBackend();
  const model = createModel({
    model: resolved.model,
    widthMult: resolved.widthMult,
    baseWidthMult: resolved.baseWidthMult ?? undefined,
    parameterization: parsePreset(resolved.preset).parameterization,
    imageShape: dataset.imageShape,
    classes: dataset.classes,
    seed: resolved.seed,
  });
  let optimizer: tf.Optimizer | undefined;
  try {
    optimizer = createOptimizer(resolved, model, rules);
    const history: EpochSummary[] = [];
    let step = 0;
    if (checkpoint !== undefined) {
      await restoreCheckpoint(checkpoint, model, optimizer);
      history.push(...checkpoint.manifest.history);
      step = checkpoint.manifest.step;
    }
    const startEpoch = checkpoint?.manifest.epoch ?? 0;
    const totalSteps = resolved.epochs * batches;
    hooks.onStart?.({
      config: resolved,
      backend,
      startEpoch,
      batchesPerEpoch: batches,
      trainExamples: dataset.train.count,
      testExamples: dataset.test.count,
      parameters: model.trainableVariables.reduce((sum, variable) => sum + variable.size, 0),
    });
    const interrupted = (epoch: number) =>
      summarize(history, {
        seconds: (performance.now() - started) / 1000,
        backend,
        diverged: false,
        interruptedInEpoch: epoch,
        resumedFromEpoch: startEpoch,
        config: resolved,
      });
    for (let epoch = startEpoch + 1; epoch <= resolved.epochs; epoch++) {
      if (hooks.signal?.aborted) return interrupted(epoch);
      const epochStarted = performance.now();
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      let batch = 0;
      let diverged = false;
      const generator = trainBatches(dataset, {
        batchSize: resolved.batch,
        seed: resolved.seed,
        epoch: epoch - 1,
        augment: resolved.augment,
      });
      for (const current of generator) {
        if (resolved.lrSchedule !== 'constant') {
          setLearningRate(optimizer, scheduledLearningRate(resolved.lrSchedule, resolved.lr, step, totalSteps));
        }
        let outcome: StepOutcome;
        try {
          outcome = await trainStep(model, optimizer, current);
        } finally {
          tf.dispose([current.x, current.y]);
        }
        step += 1;
        batch += 1;
        seen += current.y.shape[0];
        lossSum += outcome.loss;
        correct += outcome.correct;
        if (!Number.isFinite(outcome.loss)) {
          diverged = true;
          break;
        }
        hooks.onBatch?.({
          epoch,
          epochs: resolved.epochs,
          batch,
          batches,
          loss: outcome.loss,
          meanLoss: lossSum / batch,
          trainAccuracy: correct / seen,
        });
        if (hooks.signal !== undefined) {
          // Each step awaits only promises that are already settled, so without a turn of the event loop
          // here a signal handler (Ctrl-C) would not run before the training ends.
          await new Promise((resolve) => setImmediate(resolve));
          // The epoch's last step finishes the epoch (its evaluation and checkpoint); any other is abandoned with it.
          if (hooks.signal.aborted && batch < batches) return interrupted(epoch);
        }
      }
      // A last step with a NaN gradient leaves a finite loss but NaN weights.
      if (diverged || !allFinite(model.trainableVariables)) {
        return summarize(history, {
          seconds: (performance.now() - started) / 1000,
          backend,
          diverged: true,
          divergedAtEpoch: epoch,
          resumedFromEpoch: startEpoch,
          config: resolved,
        });
      }
      const evaluated = epoch === resolved.epochs || epoch % resolved.evalEvery === 0;
      const test = evaluated ? await evaluateAccuracy(model, dataset, { batchSize: resolved.batch }) : undefined;
      const summary: EpochSummary = {
        epoch,
        trainLoss: lossSum / batch,
        trainAccuracy: correct / seen,
        testAccuracy: test?.accuracy ?? null,
        testLoss: test?.loss ?? null,
        seconds: (performance.now() - epochStarted) / 1000,
      };
      history.push(summary);
      if (config.checkpoint !== undefined) {
        await saveCheckpoint(config.checkpoint.dir, {
          epoch,
          step,
          config: resolved,
          history,
          backend,
          model,
          optimizer,
        });
      }
      hooks.onEpoch?.(summary);
    }
    const fit = await evaluateAccuracy(model, dataset, { batchSize: resolved.batch, split: 'train' });
    return summarize(
      history,
      {
        seconds: (performance.now() - started) / 1000,
        backend,
        diverged: false,
        resumedFromEpoch: startEpoch,
        config: resolved,
      },
      fit.accuracy,
    );
  } finally {
    optimizer?.dispose();
    model.dispose();
  }
}
