import { Mup2Error } from '@mup2/core';

/**
 * A data set that cannot be loaded: a file that is missing, truncated, corrupt
 * or of the wrong format. The message names the file and what was wrong with it;
 * `file` holds the path (or the directory, when no file was found).
 */
export class DatasetError extends Mup2Error {
  static override readonly errorName = 'DatasetError';
  readonly file: string | undefined;

  constructor(message: string, options?: { file?: string; cause?: unknown }) {
    super(message, options);
    this.file = options?.file;
  }
}
