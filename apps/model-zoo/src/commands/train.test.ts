import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCifar10 } from '../../fixtures/dataset-files.js';

const appDir = fileURLToPath(new URL('../..', import.meta.url));
const backend = process.env.MUP2_BACKEND || 'wasm';

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `zoo <args>` as a real process, the way `pnpm zoo` runs it (tsx, in the app's folder). */
function zoo(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', ...args],
      { cwd: appDir, env: { ...process.env, MUP2_BACKEND: '' } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const tiny = ['--width-mult', '0.25', '--limit', '256', '--batch', '64', '--lr', '0.05', '--backend', backend];

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'mup2-zoo-cli-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('zoo train', () => {
  it('trains, prints each epoch’s test accuracy, and resumes from its checkpoint', async () => {
    const checkpoint = join(root, 'run');
    const first = await zoo('train', ...tiny, '--epochs', '1', '--checkpoint', checkpoint);
    expect(first.stderr).toContain(`[mup2] backend: ${backend}`);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(
      /^train mlp \(width mult 0\.25, [\d,]+ parameters\) on mnist \(256 train \/ 256 test\)/,
    );
    expect(first.stdout).toMatch(
      /\nepoch 1\/1: train loss \d+\.\d{4}, train acc \d+\.\d\d%, test loss \d+\.\d{4}, test acc \d+\.\d\d% \(/,
    );
    expect(first.stdout).toContain(`checkpoint in ${checkpoint}`);

    const second = await zoo('train', ...tiny, '--epochs', '2', '--checkpoint', checkpoint, '--resume');
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`resuming from ${checkpoint} after epoch 1 of 2`);
    expect(second.stdout).toMatch(/\nepoch 2\/2: .* test acc \d+\.\d\d%/);
    expect(second.stdout).not.toContain('epoch 1/2');
  });

  it('exits non-zero naming an unknown option or a bad value', async () => {
    const [unknown, badValue, badModel, resumeAlone] = await Promise.all([
      zoo('train', '--bogus', '3'),
      zoo('train', '--lr=-1'),
      zoo('train', '--model', 'resnet50'),
      zoo('train', '--resume'),
    ]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain("error: unknown option '--bogus'");

    expect(badValue.code).not.toBe(0);
    expect(badValue.stderr).toContain("error: option '--lr <x>' argument '-1' is invalid. expected a positive number");

    expect(badModel.code).not.toBe(0);
    expect(badModel.stderr).toContain("argument 'resnet50' is invalid. Allowed choices are mlp");

    expect(resumeAlone.code).not.toBe(0);
    expect(resumeAlone.stderr).toContain('error: --resume needs --checkpoint <dir>');
  });

  it('trains on CIFAR-10 batches of the user’s own size with --cifar10-batch-records any (or their count); else names the first', async () => {
    const data = join(root, 'cifar-subset');
    await mkdir(data);
    await writeCifar10(data, 20, 20);
    const cifar = ['--dataset', 'cifar10', '--data-dir', data, '--epochs', '1', '--batch', '10', '--rule', 'sgd'];
    const [any, counted, official] = await Promise.all([
      zoo('train', ...cifar, '--backend', backend, '--cifar10-batch-records', 'any'),
      zoo('train', ...cifar, '--backend', backend, '--cifar10-batch-records', '20'),
      zoo('train', ...cifar, '--backend', backend),
    ]);
    for (const run of [any, counted]) {
      expect(run.stderr).not.toMatch(/^error:/m);
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('on cifar10 (100 train / 20 test)');
    }
    expect(official.code).toBe(2);
    expect(official.stderr).toContain(
      `error: ${join(data, 'data_batch_1.bin')}: 20 records, expected 10,000 per batch file`,
    );
  });

  it('prints a configuration error of trainRun as one line and exits with 2', async () => {
    const run = await zoo('train', '--optimizer', 'adam', '--momentum', '0.5');
    expect(run.code).toBe(2);
    expect(run.stderr).toBe("error: trainRun: momentum applies to optimizer 'sgd' only, got it with 'adam'.\n");
    expect(run.stdout).toBe('');
  });
});
