import { Mup2Error } from '@mup2/core';

/** A queue that cannot be reached or used: a bad --queue address, a refused password, a job that is not a sweep cell. */
export class QueueError extends Mup2Error {
  static override readonly errorName = 'QueueError';
}
