import * as tf from '@tensorflow/tfjs-core';
import { chunkRanges } from './batch-chunks.js';
import { ChunkAccumulator } from './chunk-accumulator.js';
import { InvalidOptionError } from './errors.js';
import type { RuleStateStore, StateMap } from './rule-state.js';
import type { PassLoss, RejectedPass, StepContext } from './step-context.js';
import { takePasses } from './step-passes.js';
import type { StepPlan } from './step-plan.js';

/** What a chunked step needs of its optimizer. */
export interface ChunkedStepHost {
  readonly ruleState: RuleStateStore;
  planFor(varList: tf.Variable[] | undefined): StepPlan;
  context(plan: StepPlan): StepContext;
  /** The base step along `gradients` (disposed), or where it found a non-finite gradient. */
  descend(gradients: tf.NamedTensorMap, states: StateMap | undefined, plan: StepPlan): RejectedPass | undefined;
}

/**
 * One m-sharpness step (SamOptimizer's `mSharpness`): each chunk of the batch takes its own passes
 * (its own ε from its own gradient), the chunks' descent directions are averaged, weighted by
 * their share of the batch, and the optimizer descends once. BatchNorm statistics: every chunk's
 * pass at w starts from the statistics before the step, and they end as the weighted mean of what
 * those passes left (see ChunkStatistics). Made before the first chunk, which it snapshots.
 */
export class ChunkedStep {
  private readonly accumulator: ChunkAccumulator;
  private context: StepContext | undefined;
  private weight = 0;
  /** The first rejection of a chunk's passes; the step stops there. */
  rejected: RejectedPass | undefined;
  /** Which chunk was rejected, for the error message (', chunk 2 of 4'). */
  rejectedChunk = '';

  constructor(private readonly host: ChunkedStepHost) {
    this.accumulator = new ChunkAccumulator(host.ruleState);
  }

  /** The share of the batch of the chunk under way. */
  get chunkWeight(): number {
    return this.weight;
  }

  /**
   * Calls `each` with each chunk of `inputs` (slices along axis 0, `chunkSize` examples, disposed
   * after), which calls `chunk` once, until a chunk is rejected. On an error everything is left
   * as before the step.
   */
  forEachChunk<T extends tf.Tensor | null>(
    inputs: readonly T[],
    size: number,
    chunkSize: number,
    each: (slices: T[], chunk: number, chunks: number) => void,
  ): void {
    const ranges = chunkRanges(size, chunkSize);
    try {
      for (const [chunk, { start, count }] of ranges.entries()) {
        // null entries (absent sample weights) stay null.
        const slices = inputs.map((tensor) => (tensor === null ? tensor : tf.slice(tensor, start, count))) as T[];
        this.weight = count / size;
        try {
          each(slices, chunk, ranges.length);
        } finally {
          tf.dispose(slices.filter((slice): slice is NonNullable<T> => slice !== null));
        }
        if (this.rejected !== undefined) {
          this.rejectedChunk = `, chunk ${chunk + 1} of ${ranges.length}`;
          return;
        }
      }
    } catch (error) {
      this.abort();
      throw error;
    }
  }

  /**
   * The passes of the chunk under way, its direction added to the step's with its share of the
   * batch. With `sumCost` its loss at w is added up too (and disposed); else it is returned. A
   * rejection is kept in `rejected` and returns the chunk's loss.
   */
  chunk(loss: PassLoss, varList: tf.Variable[] | undefined, sumCost: boolean): tf.Scalar | undefined {
    const weight = this.weight;
    const plan = this.host.planFor(varList);
    if (this.context !== undefined && this.context.plan !== plan) {
      throw new InvalidOptionError(
        'SamOptimizer: the chunks of one m-sharpness step minimized different variables; expected the same varList.',
      );
    }
    this.context ??= this.host.context(plan);
    const { statistics } = this.accumulator;
    statistics.reset();
    const outcome = takePasses(this.context, loss, () => statistics.record(weight));
    if (outcome.kind === 'rejected') {
      this.rejected = outcome;
      return outcome.cost;
    }
    this.accumulator.add(sumCost ? outcome.cost : undefined, outcome.gradients, weight, outcome.states);
    return sumCost ? undefined : outcome.cost;
  }

  /**
   * Ends the step: the descent along the mean direction, with the BatchNorm statistics settled;
   * or, after a rejected chunk, nothing (statistics as before the step). Returns the summed cost
   * (when chunks added theirs) and the rejection, if any.
   */
  end(): { cost: tf.Scalar | undefined; rejected: RejectedPass | undefined } {
    if (this.rejected !== undefined || this.context === undefined) {
      this.abort();
      if (this.rejected === undefined) {
        throw new InvalidOptionError('SamOptimizer: an m-sharpness step ended before any chunk called minimize.');
      }
      return { cost: undefined, rejected: this.rejected };
    }
    this.accumulator.statistics.settle();
    const { cost, gradients, states } = this.accumulator.take();
    try {
      return { cost, rejected: this.host.descend(gradients, states, this.context.plan) };
    } catch (error) {
      cost?.dispose();
      throw error;
    }
  }

  /** Leaves everything as before the step and drops what the chunks added. */
  abort(): void {
    this.accumulator.statistics.restore();
    this.accumulator.discard();
  }
}

/** The weighted mean of each position's scalar across the chunks' outputs (as many as the shortest has); disposes the outputs. */
export function weightedMeans(outputs: ReadonlyArray<{ weight: number; values: tf.Scalar[] }>): tf.Scalar[] {
  if (outputs.length === 0) return [];
  const length = Math.min(...outputs.map((output) => output.values.length));
  const total = outputs.reduce((sum, output) => sum + output.weight, 0);
  const means = tf.tidy(() =>
    Array.from(
      { length },
      (_, index) =>
        tf.addN(outputs.map((output) => tf.mul(output.values[index] as tf.Scalar, output.weight / total))) as tf.Scalar,
    ),
  );
  tf.dispose(outputs.flatMap((output) => output.values));
  return means;
}
