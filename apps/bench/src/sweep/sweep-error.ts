import { Mup2Error } from '@mup2/core';

/** A sweep that cannot start or continue: a bad grid, a folder holding another grid, a damaged results file. */
export class SweepError extends Mup2Error {
  static override readonly errorName = 'SweepError';
}
