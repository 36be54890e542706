import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountSmallTmpfs, type SmallTmpfs } from '../../fixtures/small-tmpfs.js';
import { FileWriteError } from './file-write-error.js';
import { makeDirectory } from './make-directory.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'mup2-make-directory-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const failure = (path: string) =>
  makeDirectory(path, 'KEPT').then(
    () => undefined,
    (error: unknown) => error,
  );

describe('makeDirectory', () => {
  it('creates a folder and its parents, and leaves one that exists', async () => {
    const path = join(root, 'a', 'b', 'c');
    await makeDirectory(path, 'KEPT');
    await makeDirectory(path, 'KEPT');
    expect((await stat(path)).isDirectory()).toBe(true);
  });

  it('names a file in the way: one line with the path, the errno and what was kept', async () => {
    await writeFile(join(root, 'file'), '');
    const path = join(root, 'file', 'sub', 'dir');
    const error = await failure(path);
    expect(FileWriteError.isInstance(error)).toBe(true);
    expect((error as FileWriteError).message).toBe(`cannot write ${path} (ENOTDIR: not a directory); KEPT`);
  });

  describe('on a read-only disk', () => {
    let disk: SmallTmpfs | { readonly reason: string };
    beforeAll(async () => {
      disk = await mountSmallTmpfs(1 << 20);
      if ('unmount' in disk) await promisify(execFile)('mount', ['-o', 'remount,ro', disk.dir]);
    });
    afterAll(async () => {
      if ('unmount' in disk) await disk.unmount();
    });

    it('names EROFS, where Node’s recursive mkdir says ENOENT of a folder whose parent exists', async (context) => {
      if ('reason' in disk) return context.skip(disk.reason);
      const path = join(disk.dir, 'results', 'run');
      const error = await failure(path);
      expect((error as FileWriteError).message).toBe(`cannot write ${path} (EROFS: read-only file system); KEPT`);
      expect((error as FileWriteError).code).toBe('EROFS');
    });
  });
});
