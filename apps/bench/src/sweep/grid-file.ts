import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { SweepGridInput } from './grid.js';
import { SweepError } from './sweep-error.js';

/** A grid file's content: the grid's members, and optionally where the data sets are. */
export interface GridFile {
  readonly grid: SweepGridInput;
  readonly dataDir?: string;
}

/**
 * Reads a grid from JSON or YAML (by extension; anything else is read as YAML,
 * of which JSON is a subset). Members are checked later by parseGrid.
 */
export async function readGridFile(path: string): Promise<GridFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new SweepError(`cannot read grid file ${path}: ${(error as Error).message}`);
  }
  let content: unknown;
  try {
    content = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new SweepError(
      `grid file ${path} is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(error as Error).message}`,
    );
  }
  if (typeof content !== 'object' || content === null || Array.isArray(content)) {
    throw new SweepError(`grid file ${path} must hold a mapping of grid members (models, lrs, rhos, …).`);
  }
  const { dataDir, ...grid } = content as Record<string, unknown>;
  if (dataDir !== undefined && (typeof dataDir !== 'string' || dataDir === '')) {
    throw new SweepError(`grid file ${path}: dataDir must be a path, got ${JSON.stringify(dataDir)}.`);
  }
  return { grid: grid as SweepGridInput, ...(dataDir !== undefined && { dataDir }) };
}
