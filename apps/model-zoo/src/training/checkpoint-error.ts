import { Mup2Error } from '@mup2/core';

/**
 * A checkpoint that cannot be used: a file that is missing, truncated or
 * corrupt, or one written by another run (another config or model). The
 * message names the file and the fault; `file` holds its path.
 */
export class CheckpointError extends Mup2Error {
  static override readonly errorName = 'CheckpointError';
  readonly file: string | undefined;

  constructor(message: string, options?: { file?: string; cause?: unknown }) {
    super(message, options);
    this.file = options?.file;
  }
}
