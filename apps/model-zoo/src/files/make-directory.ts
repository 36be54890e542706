import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { FileWriteError } from './file-write-error.js';

/**
 * The error that creating `path` really meets. Node's recursive mkdir reports ENOENT for a folder it
 * cannot create in an existing one that is read-only (EROFS) or not writable (EACCES): a non-recursive
 * mkdir of the first missing folder, below the nearest one that exists, names the cause.
 */
async function realCause(path: string, reported: unknown): Promise<unknown> {
  if ((reported as NodeJS.ErrnoException).code !== 'ENOENT') return reported;
  let missing = path;
  for (let parent = dirname(missing); parent !== missing; missing = parent, parent = dirname(parent)) {
    const exists = await stat(parent).then(
      () => true,
      () => false,
    );
    if (!exists) continue;
    try {
      await mkdir(missing);
    } catch (error) {
      return error;
    }
    // Created after all (a race with another process): the reported error stands.
    return reported;
  }
  return reported;
}

/**
 * Creates folder `path` and its missing parents (nothing if it exists). A folder that cannot be
 * created (a read-only disk, no permission, a file in the way) throws a FileWriteError naming
 * `path`, the system's real error and `kept`, what the caller still has.
 */
export async function makeDirectory(path: string, kept: string): Promise<void> {
  try {
    await mkdir(path, { recursive: true });
  } catch (error) {
    throw FileWriteError.of(path, await realCause(path, error), kept);
  }
}
