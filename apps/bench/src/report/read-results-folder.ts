import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { CoordRow, GroupSlope, LayerSlope } from '@mup2/coord';
import type { SweepRow } from '../sweep/results-log.js';
import { LOCK_FILE, readSweepLock } from '../sweep/sweep-lock.js';
import { ReportError } from './report-error.js';

/** What the report writes into a folder; never reported as unknown. */
export const REPORT_OUTPUTS = ['report.html', 'report-figures'];

/** Companions the commands write next to a file the report reads (their content is in that file). */
const COMPANIONS = ['coord.svg', 'coord.png', 'coord-slopes.md', 'perf.md', 'table2.md'];

/** Commands whose JSON the report shows as tables: `<name>.json`, with `<name>.md` beside it when there is one. */
export const TABLE_COMMANDS = ['table2', 'perf'] as const;

export interface SweepContents {
  /** grid.json's `grid`, or undefined when the folder has results.jsonl only. */
  readonly grid?: unknown;
  readonly gridHash?: string;
  readonly rows: SweepRow[];
  /** 1-based line numbers of results.jsonl that are not a result row (a sweep killed mid-write leaves one). */
  readonly skippedLines: number[];
  /** The sweep's lock (sweep.lock): a sweep was writing here when the report was read, if its process is alive. */
  readonly lock?: { pid: number; alive: boolean };
}

export interface CoordContents {
  readonly config?: unknown;
  readonly backend?: string;
  readonly presets: string[];
  readonly rows: CoordRow[];
  readonly slopes: LayerSlope[];
  readonly groups: GroupSlope[];
  readonly perf?: unknown;
}

export interface TableContents {
  readonly command: (typeof TABLE_COMMANDS)[number];
  readonly json: Record<string, unknown>;
  /** `<command>.md` beside the JSON, or the JSON's own `markdown` member. */
  readonly markdown?: string;
}

export interface ResultsFolder {
  readonly dir: string;
  readonly sweep?: SweepContents;
  readonly coord?: CoordContents;
  readonly tables: TableContents[];
  /** Files the report read, by name. */
  readonly read: string[];
  /** Entries it does not know (folders end in '/'): listed in the report, not fatal. */
  readonly unknown: string[];
  /** Known file names it could not read, with the reason. */
  readonly unreadable: { file: string; reason: string }[];
}

const LOOKED_FOR =
  'results.jsonl (with grid.json) from `bench sweep`, coord.json from `bench coord`, table2.json from `bench table2`, perf.json from `bench perf`';

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isResultRow(value: unknown): value is SweepRow {
  if (!isRecord(value) || !isRecord(value.config) || typeof value.status !== 'string') return false;
  const config = value.config;
  return (
    typeof config.rule === 'string' &&
    typeof config.preset === 'string' &&
    typeof config.widthMult === 'number' &&
    typeof config.lr === 'number' &&
    typeof config.rho === 'number'
  );
}

async function readJson(path: string): Promise<unknown> {
  return JSON.parse(await readFile(path, 'utf8'));
}

/**
 * What a results folder holds, recognised by file name: a sweep
 * (results.jsonl, grid.json), a coordinate check (coord.json), table2.json and
 * perf.json. Other entries are listed as unknown. A folder with nothing the
 * report can show is a ReportError naming the folder and what was looked for.
 */
export async function readResultsFolder(dir: string): Promise<ResultsFolder> {
  const info = await stat(dir).catch(() => undefined);
  if (!info) throw new ReportError(`bench report: no folder at ${dir}. Looked for ${LOOKED_FOR}.`);
  if (!info.isDirectory()) throw new ReportError(`bench report: ${dir} is a file, not a results folder.`);
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
  const names = new Set(entries.map((entry) => entry.name));
  const read: string[] = [];
  const unreadable: { file: string; reason: string }[] = [];
  const attempt = async <T>(file: string, load: () => Promise<T>): Promise<T | undefined> => {
    try {
      const value = await load();
      read.push(file);
      return value;
    } catch (error) {
      unreadable.push({ file, reason: error instanceof Error ? error.message : String(error) });
      return undefined;
    }
  };

  let sweep: SweepContents | undefined;
  if (names.has('results.jsonl') || names.has('grid.json')) {
    const grid = names.has('grid.json')
      ? await attempt('grid.json', async () => {
          const json = await readJson(join(dir, 'grid.json'));
          if (!isRecord(json) || !('grid' in json)) throw new Error('expected { grid, hash }');
          return json;
        })
      : undefined;
    const results = names.has('results.jsonl')
      ? await attempt('results.jsonl', async () => {
          const rows: SweepRow[] = [];
          const skippedLines: number[] = [];
          const lines = (await readFile(join(dir, 'results.jsonl'), 'utf8')).split('\n');
          lines.forEach((line, index) => {
            if (line.trim() === '') return;
            let parsed: unknown;
            try {
              parsed = JSON.parse(line);
            } catch {
              parsed = undefined;
            }
            if (isResultRow(parsed)) rows.push(parsed);
            else skippedLines.push(index + 1);
          });
          return { rows, skippedLines };
        })
      : undefined;
    const lock = names.has(LOCK_FILE) ? await readSweepLock(dir) : undefined;
    if (lock) read.push(LOCK_FILE);
    if (grid || results) {
      sweep = {
        ...(lock && { lock }),
        grid: grid?.grid,
        gridHash: typeof grid?.hash === 'string' ? grid.hash : undefined,
        rows: results?.rows ?? [],
        skippedLines: results?.skippedLines ?? [],
      };
    }
  }

  let coord: CoordContents | undefined;
  if (names.has('coord.json')) {
    coord = await attempt('coord.json', async () => {
      const json = await readJson(join(dir, 'coord.json'));
      if (!isRecord(json) || !Array.isArray(json.rows) || !Array.isArray(json.slopes)) {
        throw new Error('expected { rows: [...], slopes: [...] } as `bench coord` writes it');
      }
      return {
        config: json.config,
        backend: typeof json.backend === 'string' ? json.backend : undefined,
        presets: Array.isArray(json.presets)
          ? (json.presets as string[])
          : [...new Set((json.rows as CoordRow[]).map((row) => row.preset))],
        rows: json.rows as CoordRow[],
        slopes: json.slopes as LayerSlope[],
        groups: Array.isArray(json.groups) ? (json.groups as GroupSlope[]) : [],
        perf: json.perf,
      };
    });
  }

  const tables: TableContents[] = [];
  for (const command of TABLE_COMMANDS) {
    if (!names.has(`${command}.json`)) continue;
    const table = await attempt(`${command}.json`, async () => {
      const json = await readJson(join(dir, `${command}.json`));
      if (!isRecord(json)) throw new Error('expected a JSON object');
      const markdown = names.has(`${command}.md`)
        ? await readFile(join(dir, `${command}.md`), 'utf8')
        : typeof json.markdown === 'string'
          ? json.markdown
          : undefined;
      return { command, json, markdown };
    });
    if (table) tables.push(table);
  }

  const known = new Set([
    ...read,
    ...unreadable.map((entry) => entry.file),
    ...REPORT_OUTPUTS,
    ...COMPANIONS.filter((file) => read.includes(`${file.replace(/(-slopes)?\.\w+$/, '')}.json`)),
  ]);
  const unknown = entries
    .filter((entry) => !known.has(entry.name))
    .map((entry) => (entry.isDirectory() ? `${entry.name}/` : entry.name));

  if (!sweep && !coord && tables.length === 0) {
    const found = [
      ...(unreadable.length > 0
        ? [`could not read ${unreadable.map((entry) => `${entry.file} (${entry.reason})`).join(', ')}`]
        : []),
      ...(unknown.length > 0 ? [`it holds ${unknown.join(', ')}`] : []),
    ];
    const described = found.length > 0 ? `; ${found.join('; ')}` : '; it is empty';
    throw new ReportError(`bench report: nothing to report in ${dir}. Looked for ${LOOKED_FOR}${described}.`);
  }
  return { dir, sweep, coord, tables, read, unknown, unreadable };
}
