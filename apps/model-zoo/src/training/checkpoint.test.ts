import { spawn } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Mup2Error } from '@mup2/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CHECKPOINT_MANIFEST,
  type CheckpointManifest,
  type LoadedCheckpoint,
  PREVIOUS_CHECKPOINT_MANIFEST,
  readCheckpoint,
} from './checkpoint.js';
import { CheckpointError } from './checkpoint-error.js';
import type { TrainConfig } from './train-config.js';
import type { TrainResult } from './train-result.js';
import { trainRun } from './train-run.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'mup2-checkpoint-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Eight steps per epoch on 512 MNIST digits: enough for momentum and Adam moments to matter. */
const base: TrainConfig = {
  model: 'mlp',
  widthMult: 0.25,
  rule: 'sam',
  preset: 'mup2',
  lr: 0.05,
  rho: 0.05,
  epochs: 2,
  batch: 64,
  seed: 3,
  dataset: 'mnist',
  limit: 512,
};

const bytesOf = (values: Float32Array | Int32Array) => Buffer.from(values.buffer, values.byteOffset, values.byteLength);

function expectSameState(actual: LoadedCheckpoint, expected: LoadedCheckpoint): void {
  expect(actual.model.map(({ entry }) => entry.shape)).toEqual(expected.model.map(({ entry }) => entry.shape));
  actual.model.forEach(({ values }, index) => {
    expect(bytesOf(values).equals(bytesOf(expected.model[index]?.values as Float32Array))).toBe(true);
  });
  expect(actual.optimizer.map(({ entry }) => entry.name)).toEqual(expected.optimizer.map(({ entry }) => entry.name));
  actual.optimizer.forEach(({ values }, index) => {
    expect(bytesOf(values).equals(bytesOf(expected.optimizer[index]?.values as Float32Array))).toBe(true);
  });
  expect(actual.manifest.step).toBe(expected.manifest.step);
}

const withoutSeconds = (result: TrainResult) => result.epochs.map(({ seconds: _, ...rest }) => rest);

async function rejection(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(CheckpointError.isInstance(error)).toBe(true);
  expect(Mup2Error.isInstance(error)).toBe(true);
  return error as Error;
}

describe('checkpoints', () => {
  // SAM over SGD with momentum, ASAM over Adam (bias correction depends on the restored step count),
  // SAM with ε kept every 3 steps (epoch 2 starts on a reuse step: the kept ε must come back) and m-sharpness.
  it.each([
    { rule: 'sam', optimizer: 'sgd' },
    { rule: 'asam', optimizer: 'adam', lr: 0.003, rho: 0.5 },
    { rule: 'sam', optimizer: 'sgd', perturbationInterval: 3 },
    { rule: 'sam', optimizer: 'sgd', mSharpness: 16 },
  ] as const)('1 epoch + resume + 1 epoch = 2 epochs straight, bit for bit (%o)', async (change) => {
    const config = { ...base, ...change };
    const label = Object.values(change).join('-');
    const straightDir = join(root, `straight-${label}`);
    const splitDir = join(root, `split-${label}`);
    const straight = await trainRun({ ...config, checkpoint: { dir: straightDir } });
    const first = await trainRun({ ...config, epochs: 1, checkpoint: { dir: splitDir } });
    const resumed = await trainRun({ ...config, checkpoint: { dir: splitDir, resume: true } });

    expect(straight.diverged).toBe(false);
    expect(resumed.resumedFromEpoch).toBe(1);
    expect(resumed.epochs[0]).toEqual(first.epochs[0]);
    expect(withoutSeconds(resumed)).toEqual(withoutSeconds(straight));
    expect(resumed.finalTestAccuracy).toBe(straight.finalTestAccuracy);
    expect(resumed.trainLoss).toBe(straight.trainLoss);
    const straightState = (await readCheckpoint(straightDir)) as LoadedCheckpoint;
    const splitState = (await readCheckpoint(splitDir)) as LoadedCheckpoint;
    expect(splitState.manifest.epoch).toBe(2);
    expect(splitState.manifest.step).toBe(16);
    expectSameState(splitState, straightState);
    // The optimizer state is there, keyed by model variable index, not by the per-process variable name.
    const names = splitState.optimizer.map(({ entry }) => entry.name);
    if (change.optimizer === 'sgd') expect(names).toContain('@0/momentum');
    else expect(names).toEqual(expect.arrayContaining(['@0/m', '@0/v']));
    if ('perturbationInterval' in change)
      expect(names).toEqual(expect.arrayContaining(['sam/perturbation-step', '@0/sam-perturbation']));
  });

  it('resumes a cosine-schedule run stopped after epoch 1 bit for bit, and refuses to stretch its schedule', async () => {
    const config: TrainConfig = { ...base, lrSchedule: 'cosine' };
    const straightDir = join(root, 'cosine-straight');
    const stoppedDir = join(root, 'cosine-stopped');
    const straight = await trainRun({ ...config, checkpoint: { dir: straightDir } });
    // A run of 2 epochs that dies after epoch 1 is saved (the hook runs after the checkpoint is written).
    const died = await trainRun(
      { ...config, checkpoint: { dir: stoppedDir } },
      {
        onEpoch: () => {
          throw new Error('killed');
        },
      },
    ).catch((error: unknown) => error);
    expect((died as Error).message).toBe('killed');
    const resumed = await trainRun({ ...config, checkpoint: { dir: stoppedDir, resume: true } });
    expect(resumed.resumedFromEpoch).toBe(1);
    expect(withoutSeconds(resumed)).toEqual(withoutSeconds(straight));
    expectSameState(
      (await readCheckpoint(stoppedDir)) as LoadedCheckpoint,
      (await readCheckpoint(straightDir)) as LoadedCheckpoint,
    );
    // The schedule differs from the constant one: the runs part ways.
    const constant = await trainRun({ ...base, epochs: 2 });
    expect(constant.trainLoss).not.toBe(straight.trainLoss);
    const stretched = await rejection(
      trainRun({ ...config, epochs: 3, checkpoint: { dir: straightDir, resume: true } }),
    );
    expect(stretched.message).toContain('epochs 2 there, 3 now (the cosine schedule spans the run)');
  });

  it('keeps the last two checkpoints (manifests and data files), and leaves no temporary files', async () => {
    const dir = join(root, 'layout');
    await trainRun({ ...base, rule: 'sgd', limit: 128, epochs: 3, checkpoint: { dir } });
    expect((await readdir(dir)).sort()).toEqual([
      PREVIOUS_CHECKPOINT_MANIFEST,
      CHECKPOINT_MANIFEST,
      'epoch-0002.bin',
      'epoch-0003.bin',
    ]);
    const manifest = JSON.parse(await readFile(join(dir, CHECKPOINT_MANIFEST), 'utf8')) as CheckpointManifest;
    expect(manifest).toMatchObject({ format: 'mup2-checkpoint', version: 1, epoch: 3, step: 6, seed: 3 });
    expect(manifest.history.map((epoch) => epoch.epoch)).toEqual([1, 2, 3]);
    expect(manifest.config).toMatchObject({ rule: 'sgd', lr: 0.05, momentum: 0.9, limit: 128 });
    const previous = JSON.parse(await readFile(join(dir, PREVIOUS_CHECKPOINT_MANIFEST), 'utf8')) as CheckpointManifest;
    expect([previous.epoch, previous.step, previous.data.file]).toEqual([2, 4, 'epoch-0002.bin']);
    const last = manifest.model.at(-1);
    expect(manifest.data.bytes).toBe(
      Math.max(...[...manifest.model, ...manifest.optimizer.weights].map((entry) => entry.offset + entry.byteLength)),
    );
    expect(last?.dtype).toBe('float32');
    expect(await readCheckpoint(join(root, 'no-such-dir'))).toBeUndefined();
  });

  it('resumes from the previous checkpoint, with a warning, when the newest is damaged: as one straight run', async () => {
    const config: TrainConfig = { ...base, rule: 'sgd', limit: 128 };
    const straightDir = join(root, 'fallback-straight');
    const dir = join(root, 'fallback');
    await trainRun({ ...config, epochs: 4, checkpoint: { dir: straightDir } });
    await trainRun({ ...config, epochs: 3, checkpoint: { dir } });
    const newest = join(dir, 'epoch-0003.bin');
    const data = await readFile(newest);
    data[8] = (data[8] as number) ^ 0xff;
    await writeFile(newest, data);
    const notices: string[] = [];
    const resumed = await trainRun(
      { ...config, epochs: 4, checkpoint: { dir, resume: true } },
      { onNotice: (message) => notices.push(message) },
    );
    expect(notices).toEqual([
      `the newest checkpoint cannot be used (checkpoint ${newest} is corrupt: its SHA-256 does not match the one ` +
        `recorded in ${join(dir, CHECKPOINT_MANIFEST)}); resuming from the previous one, ` +
        `${join(dir, PREVIOUS_CHECKPOINT_MANIFEST)} (epoch 2).`,
    ]);
    expect(resumed.resumedFromEpoch).toBe(2);
    expectSameState(
      (await readCheckpoint(dir)) as LoadedCheckpoint,
      (await readCheckpoint(straightDir)) as LoadedCheckpoint,
    );
    // The damaged epoch 3 was trained again and saved over; epoch 3 is now the previous checkpoint.
    const previous = JSON.parse(await readFile(join(dir, PREVIOUS_CHECKPOINT_MANIFEST), 'utf8')) as CheckpointManifest;
    expect(previous.epoch).toBe(3);
    expect((await readdir(dir)).sort()).toEqual([
      PREVIOUS_CHECKPOINT_MANIFEST,
      CHECKPOINT_MANIFEST,
      'epoch-0003.bin',
      'epoch-0004.bin',
    ]);
  });

  it('removes the temporary files that writers killed mid-write left, and keeps those of running processes', async () => {
    const dir = join(root, 'leftovers');
    const config: TrainConfig = { ...base, rule: 'sgd', limit: 128, epochs: 1 };
    await trainRun({ ...config, checkpoint: { dir } });
    const child = spawn(process.execPath, ['-e', '']);
    const dead = await new Promise<number>((resolve) => child.on('exit', () => resolve(child.pid as number)));
    const stale = [`epoch-0002.bin.tmp-${dead}`, `${CHECKPOINT_MANIFEST}.tmp-${dead}`];
    const running = `epoch-0002.bin.tmp-${process.ppid}`;
    for (const name of [...stale, running]) await writeFile(join(dir, name), Buffer.alloc(1000));
    // A rerun of the finished run: nothing to train or save, and the leftovers go all the same.
    await trainRun({ ...config, checkpoint: { dir, resume: true } });
    const names = await readdir(dir);
    expect(names).toContain(running);
    for (const name of stale) expect(names).not.toContain(name);
  });

  describe('a damaged or foreign checkpoint', () => {
    const config: TrainConfig = { ...base, rule: 'sgd', epochs: 1, limit: 128 };
    let good: string;
    beforeAll(async () => {
      good = join(root, 'good');
      await trainRun({ ...config, checkpoint: { dir: good } });
    });
    const copy = async (name: string) => {
      const dir = join(root, name);
      await cp(good, dir, { recursive: true });
      return dir;
    };
    const resume = (dir: string, change: Partial<TrainConfig> = {}) =>
      trainRun({ ...config, epochs: 2, ...change, checkpoint: { dir, resume: true } });

    it('names a truncated data file', async () => {
      const dir = await copy('truncated');
      await truncate(join(dir, 'epoch-0001.bin'), 1000);
      const error = await rejection(resume(dir));
      expect(error.message).toMatch(
        new RegExp(`^checkpoint ${join(dir, 'epoch-0001.bin')} is truncated: 1000 bytes, expected \\d+\\.$`),
      );
      expect((error as CheckpointError).file).toBe(join(dir, 'epoch-0001.bin'));
    });

    it('names a data file whose bytes changed', async () => {
      const dir = await copy('flipped');
      const file = join(dir, 'epoch-0001.bin');
      const data = await readFile(file);
      data[100] = (data[100] as number) ^ 0xff;
      await writeFile(file, data);
      const error = await rejection(resume(dir));
      expect(error.message).toBe(
        `checkpoint ${file} is corrupt: its SHA-256 does not match the one recorded in ${join(dir, CHECKPOINT_MANIFEST)}.`,
      );
    });

    it('names a missing data file', async () => {
      const dir = await copy('missing');
      await rm(join(dir, 'epoch-0001.bin'));
      const error = await rejection(resume(dir));
      expect(error.message).toMatch(new RegExp(`^checkpoint ${join(dir, 'epoch-0001.bin')} cannot be read`));
    });

    it('names a truncated or malformed manifest', async () => {
      const dir = await copy('bad-manifest');
      const file = join(dir, CHECKPOINT_MANIFEST);
      const text = await readFile(file, 'utf8');
      await writeFile(file, text.slice(0, text.length / 2));
      expect((await rejection(resume(dir))).message).toMatch(
        new RegExp(`^checkpoint ${file} is corrupt or truncated: not valid JSON`),
      );
      const manifest = JSON.parse(text) as Record<string, unknown>;
      await writeFile(file, JSON.stringify({ ...manifest, version: 7 }));
      expect((await rejection(resume(dir))).message).toBe(
        `checkpoint ${file} is not a valid checkpoint manifest: 'version' is 7, this code reads version 1.`,
      );
      await writeFile(
        file,
        JSON.stringify({
          ...manifest,
          model: [{ name: 'x', shape: [1e9], dtype: 'float32', offset: 0, byteLength: 4e9 }],
        }),
      );
      expect((await rejection(resume(dir))).message).toMatch(/'model\[0\]' ends past the data file's \d+ bytes\.$/);
    });

    it('refuses to resume with another config, naming what differs', async () => {
      const error = await rejection(resume(good, { lr: 0.1, rule: 'sam' }));
      expect(error.message).toBe(
        `checkpoint ${join(good, CHECKPOINT_MANIFEST)} was written by a run with another config ` +
          '(rule "sgd" there, "sam" now; lr 0.05 there, 0.1 now); resume with the same config (only epochs may change, and not under a learning-rate schedule) ' +
          'or choose another checkpoint directory.',
      );
    });

    it('refuses to overwrite a checkpoint without resume, and to resume to fewer epochs than done', async () => {
      const overwrite = await rejection(trainRun({ ...config, checkpoint: { dir: good } }));
      expect(overwrite.message).toBe(
        `checkpoint ${join(good, CHECKPOINT_MANIFEST)} already exists (epoch 1); resume from it or choose another checkpoint directory.`,
      );
      const dir = join(root, 'two-epochs');
      await trainRun({ ...config, epochs: 2, checkpoint: { dir } });
      const fewer = await rejection(trainRun({ ...config, epochs: 1, checkpoint: { dir, resume: true } }));
      expect(fewer.message).toBe(
        `checkpoint ${join(dir, CHECKPOINT_MANIFEST)} has 2 epochs done, more than the 1 asked for.`,
      );
      // As many as done: nothing to train, the result is the checkpoint's.
      const done = await trainRun({ ...config, epochs: 2, checkpoint: { dir, resume: true } });
      expect([done.resumedFromEpoch, done.epochs.length, done.diverged]).toEqual([2, 2, false]);
      expect(done.finalTestAccuracy).toBe(done.epochs[1]?.testAccuracy);
    });

    it('starts fresh when asked to resume from a folder with no checkpoint', async () => {
      const result = await trainRun({ ...config, checkpoint: { dir: join(root, 'empty'), resume: true } });
      expect(result.resumedFromEpoch).toBe(0);
      expect(result.epochs).toHaveLength(1);
    });
  });
});
