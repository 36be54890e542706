import type { DatasetLoader } from '../datasets/last-dataset-kept.js';
import type { MemoryLimit } from './memory-limit.js';
import type { ResolvedTrainConfig } from './train-config.js';

/** One finished epoch. Accuracies are fractions in [0, 1]. */
export interface EpochSummary {
  /** 1-based. */
  readonly epoch: number;
  /** Mean training loss over the epoch's batches (at the weights before each step). */
  readonly trainLoss: number;
  /** Fraction of the epoch's training examples classified correctly (at the weights before each step). */
  readonly trainAccuracy: number;
  /** Null for an epoch that was not evaluated (`evalEvery` > 1); the last epoch always is. */
  readonly testAccuracy: number | null;
  readonly testLoss: number | null;
  /** Wall time of the epoch, training and evaluation. */
  readonly seconds: number;
}

/** After each training step. */
export interface BatchProgress {
  /** 1-based epoch and batch within it. */
  readonly epoch: number;
  readonly epochs: number;
  readonly batch: number;
  readonly batches: number;
  /** This batch's loss, and the mean loss and accuracy of the epoch so far. */
  readonly loss: number;
  readonly meanLoss: number;
  readonly trainAccuracy: number;
}

/** Once the data is loaded, the model built and any checkpoint restored, before the first step. */
export interface TrainStart {
  readonly config: ResolvedTrainConfig;
  readonly backend: string;
  /** Epochs already done (restored from a checkpoint), 0 for a fresh run. */
  readonly startEpoch: number;
  readonly batchesPerEpoch: number;
  readonly trainExamples: number;
  readonly testExamples: number;
  /** Number of trainable scalars. */
  readonly parameters: number;
}

export interface TrainHooks {
  onStart?(start: TrainStart): void;
  onBatch?(progress: BatchProgress): void;
  /** After each epoch this call trains (not those restored from a checkpoint), its evaluation and checkpoint done. */
  onEpoch?(summary: EpochSummary): void;
  /** Something to tell the user that does not stop the run: a damaged newest checkpoint passed over for the previous one. */
  onNotice?(message: string): void;
}

/** What trainRun takes besides the config: progress hooks, a way to stop it, and its memory limit. */
export interface TrainRunOptions extends TrainHooks {
  /**
   * Stops the run after the step that is running when it aborts (a Ctrl-C): the epoch in progress is
   * abandoned (a checkpoint keeps the last finished one) and the result says `interruptedInEpoch`.
   */
  readonly signal?: AbortSignal;
  /** Refuse a run whose estimated memory is beyond this (checkTrainingMemory). Default: 75% of the available memory. */
  readonly memoryLimit?: MemoryLimit;
  /** Where the data set comes from (default `loadDataset`); a sweep's worker passes `lastDatasetKept()`, its cells sharing one. */
  readonly loadDataset?: DatasetLoader;
}

export interface TrainResult {
  /** Test accuracy after the last epoch; 0 when the run diverged (its weights are NaN). */
  readonly finalTestAccuracy: number;
  /** Best test accuracy over the evaluated epochs (0 if none finished). */
  readonly bestTestAccuracy: number;
  /**
   * Accuracy on the training split at the final weights, in inference mode (whether the model
   * fits its training set); NaN when the run diverged.
   */
  readonly finalTrainAccuracy: number;
  /** Mean training loss of the last epoch; NaN when the run diverged. */
  readonly trainLoss: number;
  /** Every finished epoch, including those restored from a checkpoint. */
  readonly epochs: EpochSummary[];
  /** Wall time of this call (a resumed run counts only its own part). */
  readonly seconds: number;
  readonly backend: string;
  /** The loss (or a weight) became NaN or infinite; training stopped there and the epoch was not saved. */
  readonly diverged: boolean;
  /** The epoch in which it diverged (1-based), if it did. */
  readonly divergedAtEpoch?: number;
  /**
   * The epoch (1-based) in which `signal` stopped the run, if it did: that epoch is not in `epochs`,
   * and the accuracies are those of the last finished epoch (finalTrainAccuracy NaN: not measured).
   */
  readonly interruptedInEpoch?: number;
  /** Epochs restored from a checkpoint (0 for a fresh run). */
  readonly resumedFromEpoch: number;
  readonly config: ResolvedTrainConfig;
}
