// zoo train against what users do to it: an absurd size, Ctrl-C in a terminal, a disk that fills up.
// The command as a user runs it (`pnpm zoo train`, or node with tsx's loader in the app's folder).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountSmallTmpfs, type SmallTmpfs } from '../../fixtures/small-tmpfs.js';
import { readCheckpoint } from '../training/checkpoint.js';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));
const APP = fileURLToPath(new URL('../..', import.meta.url));
const backend = process.env.MUP2_BACKEND || 'wasm';
// Launchers, signals, files and the size check do not depend on the TF.js backend: the wasm pass runs these.
const wasmPass = backend === 'wasm';

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

const env = { ...process.env, MUP2_BACKEND: backend };
/** `zoo …` on its own: node with tsx's loader in the app's folder, as its script runs it. */
const zoo = (args: readonly string[]) =>
  watch(spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: APP, env, stdio: 'pipe' }));

const tiny = ['--width-mult', '0.25', '--limit', '256', '--batch', '64', '--rule', 'sgd', '--lr', '0.05'];

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'mup2-zoo-faults-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function until(what: string, probe: () => boolean, seconds = 200): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe.skipIf(!wasmPass)('zoo train: faults', () => {
  it('refuses absurd sizes in one line naming the estimate and the limit, before loading anything (exit 2)', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--width-mult', '100000'], /^error: mlp at width multiplier 100000 on mnist, batch 128: [\d,]+ parameters/],
      // 64,000 units: 784·n + n² + 10·n + n parameters.
      [['--width-mult', '1000'], /^error: mlp at width multiplier 1000 on mnist, batch 128: 4,146,880,000 parameters/],
      [['--model', 'resnet18', '--width-mult', '64'], /^error: resnet18 at width multiplier 64 on mnist, batch 128: /],
    ];
    const runs = cases.map(([args]) => zoo(['train', ...args, '--memory-limit', '16G']));
    for (const [index, run] of runs.entries()) {
      expect(await run.exited).toBe(2);
      const { stdout, stderr } = run.output();
      expect(stdout).toBe('');
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(stderr).toMatch(cases[index]?.[1] as RegExp);
      expect(stderr).toContain('more than the limit of 16.0 GB (the limit given)');
    }
  }, 120_000);

  it('Ctrl-C (SIGINT to the process group of pnpm zoo train): stops after the step, keeps the last checkpoint, exit 130', async () => {
    const dir = join(root, 'interrupted');
    const run = watch(
      spawn(
        'pnpm',
        // lr 0.02: at the default 0.1 this run diverges 133 steps into epoch 2, which a slow Ctrl-C could miss.
        [
          'zoo',
          'train',
          '--width-mult',
          '2',
          '--limit',
          '4096',
          '--batch',
          '32',
          '--epochs',
          '3',
          '--lr',
          '0.02',
        ].concat(['--checkpoint', dir]),
        { cwd: REPO, env, stdio: 'pipe', detached: true },
      ),
    );
    try {
      await until('epoch 1 to end', () => run.output().stdout.includes('epoch 1/3:'));
      process.kill(-(run.child.pid as number), 'SIGINT');
      expect(await run.exited).toBe(130);
    } finally {
      if (run.child.exitCode === null) process.kill(-(run.child.pid as number), 'SIGKILL');
    }
    const { stdout, stderr } = run.output();
    expect(stderr.match(/stopping after this step/g)).toHaveLength(1);
    expect(stdout).toMatch(
      new RegExp(
        `stopped in epoch 2 of 3: 1 epoch done, last test acc \\d+\\.\\d\\d%; checkpoint of epoch 1 in ${dir} ` +
          '\\(rerun with --resume to continue\\)',
      ),
    );
    expect((await readdir(dir)).sort()).toEqual(['checkpoint.json', 'epoch-0001.bin']);
    expect((await readCheckpoint(dir))?.manifest.epoch).toBe(1);
  }, 300_000);

  it('a checkpoint folder that cannot be made: one line naming it and the system’s error, exit 1, before any epoch', async () => {
    await writeFile(join(root, 'a-file'), '');
    const dir = join(root, 'a-file', 'run');
    const run = zoo(['train', ...tiny, '--epochs', '1', '--checkpoint', dir]);
    expect(await run.exited).toBe(1);
    const { stdout, stderr } = run.output();
    expect(stdout).not.toContain('epoch 1/1');
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(stderr.split('\n').filter((line) => line.startsWith('error:'))).toEqual([
      `error: cannot write ${dir} (ENOTDIR: not a directory); nothing was trained`,
    ]);
  }, 120_000);

  describe('a full disk (a 1 MiB tmpfs)', () => {
    let disk: SmallTmpfs | { readonly reason: string };
    beforeAll(async () => {
      disk = await mountSmallTmpfs(1 << 20);
    });
    afterAll(async () => {
      if ('unmount' in disk) await disk.unmount();
    });

    it('a checkpoint that does not fit: one line naming the file and the checkpoint kept, exit 1, no temporary file', async (context) => {
      if ('reason' in disk) return context.skip(disk.reason);
      // How large one epoch's data file is: a first run on a disk with room.
      const sized = zoo(['train', ...tiny, '--epochs', '1', '--checkpoint', join(root, 'sized')]);
      expect(await sized.exited).toBe(0);
      const dataBytes = (await stat(join(root, 'sized', 'epoch-0001.bin'))).size;
      const dir = join(disk.dir, 'run');
      // Room for epoch 1's data file and manifest, not for epoch 2's data file besides it.
      await disk.fillLeaving(dataBytes + 16 * 1024);
      try {
        const run = zoo(['train', ...tiny, '--epochs', '3', '--checkpoint', dir]);
        expect(await run.exited).toBe(1);
        const { stdout, stderr } = run.output();
        expect(stdout).toContain('epoch 1/3:');
        expect(stderr).not.toMatch(/\n\s+at /);
        expect(stderr.split('\n').filter((line) => line.startsWith('error:'))).toEqual([
          `error: cannot write ${join(dir, 'epoch-0002.bin')} (ENOSPC: no space left on device); ` +
            `the checkpoint of epoch 1 in ${dir} is kept`,
        ]);
        expect((await readdir(dir)).sort()).toEqual(['checkpoint.json', 'epoch-0001.bin']);
        expect((await readCheckpoint(dir))?.manifest.epoch).toBe(1);
      } finally {
        await disk.free();
      }
    }, 300_000);
  });
});
