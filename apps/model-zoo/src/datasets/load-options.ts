import { InvalidOptionError } from '@mup2/core';

export interface DatasetLoadOptions {
  /** Where the data set's files are; each loader documents its default. */
  readonly dataDir?: string;
  /** Keep at most this many examples of each split (train and test), the first ones of each. */
  readonly limit?: number;
  /** Keep at most this many test examples instead (default: `limit`): a small training subset can keep a large test set. */
  readonly testLimit?: number;
  /**
   * Records every CIFAR-10 batch file must hold: default CIFAR10_BATCH_RECORDS (10,000, the official
   * batches), another count for batches of your own, or null for any count above zero.
   */
  readonly cifar10BatchRecords?: number | null;
}

/** The limits of the two splits: `testLimit` overrides `limit` for the test split. */
export function splitLimits(options: DatasetLoadOptions): { train: number | undefined; test: number | undefined } {
  return { train: options.limit, test: options.testLimit ?? options.limit };
}

/** The number of examples to keep of a split of `available`, after checking `limit`. */
export function limitedCount(available: number, limit: number | undefined): number {
  if (limit === undefined) return available;
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new InvalidOptionError(`limit must be a positive integer, got ${limit}`);
  }
  return Math.min(available, limit);
}
