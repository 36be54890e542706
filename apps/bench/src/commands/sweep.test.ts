import { type ChildProcess, spawn } from 'node:child_process';
import { appendFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { temporaryFolder } from '../../fixtures/temporary-folder.js';

const CLI = new URL('../cli.ts', import.meta.url).pathname;
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const backend = process.env.MUP2_BACKEND || 'wasm';

/** The bench CLI as its own process (node + tsx's loader, no tsx wrapper process, so a kill reaches it). */
function startCli(args: readonly string[], cwd: string): ChildProcess {
  return spawn(process.execPath, ['--import', TSX, CLI, ...args], {
    cwd,
    env: { ...process.env, INIT_CWD: cwd, MUP2_BACKEND: backend },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function runCli(args: readonly string[], cwd: string) {
  const child = startCli(args, cwd);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('close', (exitCode, exitSignal) => resolve([exitCode, exitSignal])),
  );
  return { code, signal, stdout, stderr };
}

const folder = () => temporaryFolder('mup2-sweep-cli-');
const TINY = ['--widths', '0.125', '--rules', 'sgd,sam', '--limit', '256'];

describe('bench sweep: bad input', () => {
  it.each([
    ['an unknown flag', ['--lrz', '0.1'], 1, /unknown option '--lrz'/],
    ['an empty list', ['--lrs', ''], 2, /error: grid: lrs is empty/],
    ['a value that is not a number', ['--rhos', '0.1,big'], 2, /error: grid: rhos must hold numbers, got 'big'/],
    ['an unknown name', ['--presets', 'mup2,mup3'], 2, /error: grid: unknown presets name 'mup3'/],
    ['a setting that is not a number', ['--limit', 'all'], 2, /error: grid: limit must hold numbers, got 'all'/],
    [
      'a cell too large for the memory',
      ['--widths', '100000'],
      2,
      /error: grid: cell \{.*\} is too large: mlp at width multiplier 100000 on mnist, batch 64: [\d,]+ parameters, an estimated .* more than the limit of/,
    ],
    [
      'a memory limit that is not one',
      ['--memory-limit', 'lots'],
      1,
      /--memory-limit <size>' argument 'lots' is invalid/,
    ],
  ])('%s: a clear error, nothing written', async (_case, args, code, message) => {
    const cwd = await folder();
    const result = await runCli(['sweep', ...TINY, ...args], cwd);
    expect(result.stderr).toMatch(message);
    expect(result.code).toBe(code);
    expect(await readdir(cwd)).toEqual([]);
  });

  it('a grid file with an empty list: a clear error, nothing written', async () => {
    const cwd = await folder();
    await writeFile(join(cwd, 'grid.yaml'), 'rules: [sgd]\nwidths: [0.125]\nlrs: []\n');
    const result = await runCli(['sweep', '--config', 'grid.yaml', '--out', 'out'], cwd);
    expect(result.stderr).toMatch(/error: grid: lrs is empty/);
    expect(result.code).toBe(2);
    expect(await readdir(cwd)).toEqual(['grid.yaml']);
  });

  it('a data dir without the data set: a clear error naming it, nothing written', async () => {
    const cwd = await folder();
    await mkdir(join(cwd, 'empty'));
    const result = await runCli(['sweep', ...TINY, '--datasets', 'fashion-mnist', '--data-dir', 'empty'], cwd);
    expect(result.stderr).toMatch(/error: data set 'fashion-mnist' cannot be loaded from .*empty/);
    expect(result.code).toBe(2);
    expect(await readdir(cwd)).toEqual(['empty']);
  });
});

describe('bench sweep: resume', () => {
  it('after a SIGKILL in the middle, a rerun ends with every cell exactly once and no corrupt line', async () => {
    const cwd = await folder();
    // 16 cells; seeds from 1 (TF.js reads a seed of 0 as unseeded).
    const args = ['sweep', '--config', 'grid.yaml', '--workers', '2', '--out', 'out'];
    await writeFile(
      join(cwd, 'grid.yaml'),
      'widths: [0.125, 0.25]\nrules: [sgd, sam]\nlrs: [0.05, 0.1]\nseeds: [1, 2]\nlimit: 512\nbatches: [32]\n',
    );
    const results = join(cwd, 'out', 'results.jsonl');
    const lineCount = async () => (await readFile(results, 'utf8').catch(() => '')).split('\n').length - 1;
    const child = startCli(args, cwd);
    const exited = new Promise((resolve) => child.on('exit', resolve));
    while ((await lineCount()) < 3) await new Promise((resolve) => setTimeout(resolve, 20));
    child.kill('SIGKILL');
    await exited;
    const linesAtKill = await lineCount();
    expect(linesAtKill).toBeLessThan(16);
    // What a kill in the middle of a write leaves: part of a line, no newline.
    await appendFile(results, '{"cellId":"0123456789abcdef","config":{"mod');

    const rerun = await runCli(args, cwd);
    expect(rerun.code, `signal ${rerun.signal}; stderr:\n${rerun.stderr.slice(-3000)}`).toBe(0);
    expect(rerun.stdout).toMatch(new RegExp(`16 cells, ${linesAtKill} done before`));
    expect(rerun.stderr).toContain(`resuming ${join(cwd, 'out')}: ${linesAtKill} of 16 cells already done`);
    // The killed sweep's lock, taken over in one line.
    expect(rerun.stderr).toMatch(
      new RegExp(
        `sweep\\.lock: taking over the lock of pid ${child.pid}, since .*: that process is no longer running\\.`,
      ),
    );
    const lines = (await readFile(results, 'utf8')).split('\n');
    expect(lines.pop()).toBe('');
    const rows = lines.map((line) => JSON.parse(line));
    expect(rows).toHaveLength(16);
    expect(new Set(rows.map((row) => row.cellId)).size).toBe(16);
    expect(rows.every((row) => row.status === 'ok')).toBe(true);

    const third = await runCli(args, cwd);
    expect(third.stdout).toMatch(/16 cells, 16 done before, 0 ok/);
    // Nothing to run: one line saying so, and no progress of zero cells.
    expect(third.stderr).toContain(`${join(cwd, 'out')}: all 16 cells already done, nothing to run`);
    expect(third.stdout).not.toContain('0/0 cells');
    expect((await readFile(results, 'utf8')).split('\n')).toHaveLength(17);
  }, 180_000);

  it('refuses a folder that holds another grid, naming both hashes', async () => {
    const cwd = await folder();
    const first = await runCli(['sweep', ...TINY, '--rules', 'sgd', '--seeds', '1', '--out', 'out'], cwd);
    expect(first.code).toBe(0);
    const stored = JSON.parse(await readFile(join(cwd, 'out', 'grid.json'), 'utf8')).hash;
    const other = await runCli(['sweep', ...TINY, '--rules', 'sgd', '--seeds', '2', '--out', 'out'], cwd);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(
      new RegExp(`error: .*another grid \\(hash ${stored}\\); this grid has hash [0-9a-f]{64}`),
    );
  }, 120_000);
});
