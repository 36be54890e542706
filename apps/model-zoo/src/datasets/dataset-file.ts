import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { DatasetError } from './dataset-error.js';

const gunzipAsync = promisify(gunzip);

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The first of `names` that exists in one of `directories`, searched in that
 * order. A missing file is an error that lists every name and directory searched,
 * since the usual cause is a data dir one level too high or too low.
 */
export async function findDatasetFile(
  directories: readonly string[],
  names: readonly string[],
  datasetLabel: string,
): Promise<string> {
  for (const directory of directories) {
    for (const name of names) {
      const path = join(directory, name);
      if (await exists(path)) return path;
    }
  }
  const missingDirectories: string[] = [];
  for (const directory of directories) {
    if (!(await exists(directory))) missingDirectories.push(directory);
  }
  const note = missingDirectories.length > 0 ? ` (${missingDirectories.join(', ')}: no such directory)` : '';
  throw new DatasetError(`${datasetLabel}: none of ${names.join(', ')} found in ${directories.join(' or ')}${note}`, {
    file: directories[0],
  });
}

/**
 * A file's bytes, gunzipped when they start with the gzip magic (0x1f 0x8b), so
 * `x.gz` and a plain file both work whatever the name says.
 */
export async function readDatasetFile(path: string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    throw new DatasetError(`cannot read ${path}: ${(cause as Error).message}`, { file: path, cause });
  }
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      return await gunzipAsync(bytes);
    } catch (cause) {
      throw new DatasetError(`${path} is not a valid gzip file: ${(cause as Error).message}`, { file: path, cause });
    }
  }
  return bytes;
}
