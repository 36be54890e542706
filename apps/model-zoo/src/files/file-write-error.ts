import { Mup2Error } from '@mup2/core';

/** "ENOSPC: no space left on device" from a Node system error, or the message of anything else thrown. */
function describeCause(cause: unknown): string {
  if (cause instanceof Error) {
    const { code } = cause as NodeJS.ErrnoException;
    // Node's message is "CODE: description, syscall 'path'": the path is named by the error itself.
    const message = cause.message.replace(/, \w+( '[^']*')?$/, '');
    return code !== undefined && !message.startsWith(code) ? `${code}: ${message}` : message;
  }
  return String(cause);
}

/**
 * A file that could not be written (a full disk, a read-only or vanished folder, no permission).
 * The message names the file, the system's error and what was kept: one line a user can act on.
 */
export class FileWriteError extends Mup2Error {
  static override readonly errorName = 'FileWriteError';
  readonly file: string | undefined;
  /** The system error code (ENOSPC, EACCES, …), if the cause had one. */
  readonly code: string | undefined;

  constructor(message: string, options?: { file?: string; cause?: unknown }) {
    super(message, options);
    this.file = options?.file;
    this.code = (options?.cause as NodeJS.ErrnoException | undefined)?.code;
  }

  /** "cannot write FILE (ENOSPC: no space left on device); KEPT". */
  static of(file: string, cause: unknown, kept: string): FileWriteError {
    return new FileWriteError(`cannot write ${file} (${describeCause(cause)}); ${kept}`, { file, cause });
  }
}
