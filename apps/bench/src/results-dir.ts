import { isAbsolute, join, resolve } from 'node:path';
import { makeDirectory } from '@mup2/model-zoo';

/** The user's working directory: pnpm runs package scripts in the package folder but keeps the caller's in INIT_CWD. */
export function userDirectory(): string {
  return process.env.INIT_CWD ?? process.cwd();
}

/**
 * `requested` (relative to where the user ran the command), or
 * results/<kind>-<timestamp>; with `stamped: false`, results/<kind>, so that a
 * resumable command finds its folder again when rerun.
 */
export async function createResultsDir(
  kind: string,
  requested?: string,
  options: { stamped?: boolean } = {},
): Promise<string> {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const name = options.stamped === false ? kind : `${kind}-${stamp}`;
  const path = requested
    ? isAbsolute(requested)
      ? requested
      : resolve(userDirectory(), requested)
    : join(userDirectory(), 'results', name);
  await makeDirectory(path, 'nothing was written');
  return path;
}
