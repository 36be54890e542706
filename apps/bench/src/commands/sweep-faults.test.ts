// What a sweep does when a user presses Ctrl-C in a terminal, and when the disk fills up: the
// command as a user runs it (`pnpm bench sweep`, or node with tsx's loader), real signals, a real
// full file system.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { mountSmallTmpfs, type SmallTmpfs } from '@mup2/model-zoo/fixtures/small-tmpfs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
const CLI = new URL('../cli.ts', import.meta.url).pathname;
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const backend = process.env.MUP2_BACKEND || 'wasm';

interface Run {
  readonly child: ChildProcess;
  readonly output: () => { stdout: string; stderr: string };
  readonly exited: Promise<number | null>;
}

function watch(child: ChildProcess): Run {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  return { child, output: () => ({ stdout, stderr }), exited };
}

/** `pnpm bench …` from the repository, in a process group of its own, as a terminal starts it. */
const pnpmBench = (args: readonly string[]) =>
  watch(
    spawn('pnpm', ['bench', ...args], {
      cwd: REPO,
      detached: true,
      env: { ...process.env, MUP2_BACKEND: backend },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );

/** The bench CLI on its own (node with tsx's loader): quicker to start, for what does not involve launchers. */
const bench = (args: readonly string[]) =>
  watch(
    spawn(process.execPath, ['--import', TSX, CLI, ...args], {
      cwd: REPO,
      env: { ...process.env, MUP2_BACKEND: backend },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );

/** Ctrl-C in the terminal: SIGINT to every process of the foreground group. */
const ctrlC = (run: Run) => process.kill(-(run.child.pid as number), 'SIGINT');

const groupAlive = (run: Run) => {
  try {
    process.kill(-(run.child.pid as number), 0);
    return true;
  } catch {
    return false;
  }
};

async function rowsOf(out: string): Promise<Array<{ cellId: string; status: string }>> {
  const text = await readFile(join(out, 'results.jsonl'), 'utf8').catch(() => '');
  if (text !== '') expect(text.endsWith('\n')).toBe(true);
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line));
}

/** Nothing a sweep leaves only while it runs: its lock, temporary files. */
async function expectNoLeftovers(out: string): Promise<void> {
  const names = await readdir(out);
  expect(names.filter((name) => name === 'sweep.lock' || name.includes('.tmp-'))).toEqual([]);
}

async function until(what: string, probe: () => boolean | Promise<boolean>, seconds = 200): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const folders: string[] = [];
const folder = async () => {
  const path = await mkdtemp(join(tmpdir(), 'mup2-sweep-faults-'));
  folders.push(path);
  return path;
};
const running = new Set<Run>();
afterAll(async () => {
  for (const run of running) if (groupAlive(run)) process.kill(-(run.child.pid as number), 'SIGKILL');
  await Promise.all(folders.map((path) => rm(path, { recursive: true, force: true })));
});

// Launchers, signals and files do not depend on the TF.js backend: these run on the wasm pass only.
const wasmPass = backend === 'wasm';

describe.skipIf(!wasmPass)('Ctrl-C in a terminal: SIGINT to the process group of pnpm bench sweep', () => {
  it('the running cell finishes and is written, then pnpm exits 130, no lock and no process left', async () => {
    const out = join(await folder(), 'out');
    // Six cells of a fraction of a second each, one at a time.
    const run = pnpmBench([
      'sweep',
      ...['--widths', '0.125', '--rules', 'sgd', '--lrs', '0.05,0.1', '--seeds', '1,2,3'],
      ...['--epochs', '6', '--limit', '512', '--batches', '32', '--out', out],
    ]);
    running.add(run);
    await until('the first row', async () => (await rowsOf(out)).length >= 1);
    await sleep(150);
    const rowsAtCtrlC = (await rowsOf(out)).length;
    ctrlC(run);
    expect(await run.exited).toBe(130);
    const { stdout, stderr } = run.output();
    // pnpm's and tsx's copies of the signal are not a second Ctrl-C.
    expect(stderr.match(/stopping after the running cells/g)).toHaveLength(1);
    expect(stderr).not.toContain('quitting now');
    const rows = await rowsOf(out);
    expect(rows).toHaveLength(rowsAtCtrlC + 1);
    expect(rows.length).toBeLessThan(6);
    expect(new Set(rows.map((row) => row.cellId)).size).toBe(rows.length);
    expect(rows.every((row) => row.status === 'ok')).toBe(true);
    expect(stdout).toContain(`6 cells, 0 done before, ${rows.length} ok`);
    expect(stdout).toContain(`${6 - rows.length} cells left, rerun the same command to resume`);
    await expectNoLeftovers(out);
    await until('the process group to be gone', () => !groupAlive(run), 10);
  }, 300_000);

  it('before the command listens for it (a rule module still loading): exit 130, not 0, and nothing written', async () => {
    const dir = await folder();
    const out = join(dir, 'out');
    // A rule module that takes a minute to load: the sweep reads its --rule-module before it runs anything.
    const slowRule = join(dir, 'slow-rule.mjs');
    await writeFile(
      slowRule,
      "process.stderr.write('LOADING\\n');\nawait new Promise((resolve) => setTimeout(resolve, 60_000));\n",
    );
    const run = pnpmBench(['sweep', '--rule-module', slowRule, '--rules', 'sgd', '--epochs', '1', '--out', out]);
    running.add(run);
    await until('the rule module to load', () => run.output().stderr.includes('LOADING'));
    ctrlC(run);
    // pnpm exits 0 when its script dies of SIGINT: the script must exit 130 itself.
    expect(await run.exited).toBe(130);
    const { stderr } = run.output();
    expect(stderr).toContain('\nstopped (Ctrl-C)\n');
    expect(stderr).not.toContain('stopping after the running cells');
    expect(existsSync(out)).toBe(false);
    await until('the process group to be gone', () => !groupAlive(run), 10);
  }, 120_000);

  it('a second Ctrl-C quits at once: the running cell abandoned, exit 130, the lock released', async () => {
    const out = join(await folder(), 'out');
    // One cell that takes far longer than the test.
    const run = pnpmBench([
      'sweep',
      ...['--widths', '8', '--rules', 'sam', '--rhos', '0.05', '--lrs', '0.05', '--seeds', '1'],
      ...['--epochs', '40', '--limit', '2048', '--batches', '32', '--out', out],
    ]);
    running.add(run);
    // Off a terminal the progress starts with one line once the workers are ready.
    await until('the cell to start', () => run.output().stdout.includes('sweep 0/1 cells')).catch((error) => {
      throw new Error(`${error.message}: ${JSON.stringify(run.output())}`);
    });
    await sleep(500);
    ctrlC(run);
    await sleep(1500);
    expect(existsSync(join(out, 'sweep.lock'))).toBe(true);
    const second = performance.now();
    ctrlC(run);
    expect(await run.exited).toBe(130);
    expect(performance.now() - second).toBeLessThan(10_000);
    const { stderr } = run.output();
    expect(stderr.match(/stopping after the running cells/g)).toHaveLength(1);
    expect(stderr.match(/quitting now: the running cells are abandoned/g)).toHaveLength(1);
    expect(await rowsOf(out)).toEqual([]);
    await expectNoLeftovers(out);
    await until('the process group to be gone', () => !groupAlive(run), 10);
  }, 300_000);
});

describe.skipIf(!wasmPass)('a full disk (a 1 MiB tmpfs)', () => {
  let disk: SmallTmpfs | { readonly reason: string };
  beforeAll(async () => {
    disk = await mountSmallTmpfs(1 << 20);
  });
  afterAll(async () => {
    if ('unmount' in disk) await disk.unmount();
  });
  const GRID = [
    ...['--widths', '0.125', '--rules', 'sgd', '--lrs', '0.05,0.1', '--seeds', '1,2,3,4,5,6,7,8'],
    ...['--epochs', '1', '--limit', '64', '--batches', '32'],
  ];
  const errorLines = (stderr: string) => stderr.split('\n').filter((line) => line.startsWith('error:'));

  it('when it is full from the start: one line naming the file, exit 1, no 0-byte lock', async (context) => {
    if ('reason' in disk) return context.skip(disk.reason);
    const out = join(disk.dir, 'start');
    await disk.fillLeaving(0);
    try {
      const run = bench(['sweep', ...GRID, '--out', out]);
      expect(await run.exited).toBe(1);
      const { stderr } = run.output();
      expect(stderr).not.toMatch(/\n\s+at /);
      expect(errorLines(stderr)).toEqual([
        `error: cannot write ${join(out, 'sweep.lock')} (ENOSPC: no space left on device); ` +
          'nothing was written and no cell has run; the folder is as it was',
      ]);
      expect(await readdir(out)).toEqual([]);
    } finally {
      await disk.free();
    }
  }, 300_000);

  it('when it fills up mid-run: one line with the rows kept, the file cut at the last whole row; a rerun with room finishes', async (context) => {
    if ('reason' in disk) return context.skip(disk.reason);
    const out = join(disk.dir, 'mid-run');
    // Three pages: the lock, grid.json, and one page of results.jsonl (about 11 of the 16 rows).
    await disk.fillLeaving(3 * 4096);
    let kept: number;
    try {
      const run = bench(['sweep', ...GRID, '--out', out]);
      expect(await run.exited).toBe(1);
      const { stderr } = run.output();
      expect(stderr).not.toMatch(/\n\s+at /);
      const lines = errorLines(stderr);
      expect(lines).toHaveLength(1);
      const match = new RegExp(
        `^error: cannot write ${join(out, 'results.jsonl')} \\(ENOSPC: no space left on device\\); ` +
          'the (\\d+) rows written before are kept; rerun the same command to run the rest$',
      ).exec(lines[0] as string);
      expect(match).not.toBeNull();
      kept = Number(match?.[1]);
      expect(kept).toBeGreaterThan(0);
      expect(kept).toBeLessThan(16);
      expect(await rowsOf(out)).toHaveLength(kept);
      await expectNoLeftovers(out);
    } finally {
      await disk.free();
    }
    const rerun = bench(['sweep', ...GRID, '--out', out]);
    expect(await rerun.exited).toBe(0);
    expect(rerun.output().stderr).toContain(`resuming ${out}: ${kept} of 16 cells already done`);
    const rows = await rowsOf(out);
    expect(rows).toHaveLength(16);
    expect(new Set(rows.map((row) => row.cellId)).size).toBe(16);
    await expectNoLeftovers(out);
  }, 300_000);
});
