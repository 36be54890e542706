import { InvalidOptionError } from '@mup2/core';

export interface DatasetLoadOptions {
  /** Where the data set's files are; each loader documents its default. */
  readonly dataDir?: string;
  /** Keep at most this many examples of each split (train and test), the first ones of each. */
  readonly limit?: number;
}

/** The number of examples to keep of a split of `available`, after checking `limit`. */
export function limitedCount(available: number, limit: number | undefined): number {
  if (limit === undefined) return available;
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new InvalidOptionError(`limit must be a positive integer, got ${limit}`);
  }
  return Math.min(available, limit);
}
