import { describe, expect, it } from 'vitest';
import { cellId } from '../sweep/cell-id.js';
import type { CellConfig } from '../sweep/grid.js';
import { cellJobData, cellJobId, isCellOutcome, parseCellJob } from './cell-job.js';

const CONFIG: CellConfig = {
  model: 'mlp',
  dataset: 'mnist',
  widthMult: 0.125,
  rule: 'sam',
  preset: 'mup2',
  lr: 0.1,
  rho: 0.1,
  epochs: 1,
  batch: 64,
  seed: 1,
  limit: 256,
};
const ID = cellJobId(cellId(CONFIG));

describe('parseCellJob', () => {
  it('returns the config of a job made by cellJobData under its cellJobId', () => {
    expect(parseCellJob(ID, cellJobData(CONFIG))).toEqual(CONFIG);
    expect(ID).toMatch(/^cell-[0-9a-f]{16}$/);
  });

  it.each([
    ['not an object', 'hello', /the payload is not an object: 'hello'/],
    ['of an unknown version', { payloadVersion: 2, config: CONFIG }, /payload version 2 is not known to this worker/],
    ['without a config', { payloadVersion: 1 }, /config is not an object/],
    [
      'with a config member a job may not set',
      { payloadVersion: 1, config: { ...CONFIG, dataDir: '/etc' } },
      /unknown config member 'dataDir'/,
    ],
    [
      'with a value the trainer refuses',
      { payloadVersion: 1, config: { ...CONFIG, lr: 'fast' } },
      /the trainer rejects its config: .*lr/,
    ],
    [
      'with an unknown model',
      { payloadVersion: 1, config: { ...CONFIG, model: 'gpt' } },
      /the trainer rejects its config: .*'gpt'/,
    ],
  ])('refuses a payload %s, naming what is wrong', (_case, data, message) => {
    expect(() => parseCellJob(ID, data)).toThrow(message);
  });

  it('refuses a config filed under another cell’s id', () => {
    expect(() => parseCellJob(ID, cellJobData({ ...CONFIG, seed: 2 }))).toThrow(
      new RegExp(`job ${ID}: the id is not that of its config \\(cell-[0-9a-f]{16}\\)`),
    );
  });
});

describe('isCellOutcome', () => {
  it('accepts what trainCell returns and refuses anything else', () => {
    const outcome = {
      status: 'ok',
      finalTestAccuracy: 0.5,
      bestTestAccuracy: 0.5,
      finalTrainAccuracy: 0.75,
      trainLoss: 1,
      seconds: 1,
      backend: 'wasm',
    };
    expect(isCellOutcome(outcome)).toBe(true);
    expect(isCellOutcome({ ...outcome, finalTrainAccuracy: 'high' })).toBe(false);
    expect(isCellOutcome({ ...outcome, status: 'failed', finalTestAccuracy: null, error: 'x' })).toBe(true);
    expect(isCellOutcome({ ...outcome, status: 'done' })).toBe(false);
    expect(isCellOutcome('ok')).toBe(false);
  });
});
