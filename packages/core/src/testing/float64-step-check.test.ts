import { describe, expect, it } from 'vitest';
import type { Float64MlpParams } from './float64-mlp.js';
import { float64Batch, updateErrors } from './float64-step-check.js';

const params = (W1: number[], rest = 0): Float64MlpParams => ({
  W1: Float64Array.from(W1),
  gamma: Float64Array.from([rest]),
  W2: Float64Array.from([rest]),
  b2: Float64Array.from([rest]),
  W3: Float64Array.from([rest]),
});

describe('updateErrors', () => {
  it('is the largest update error relative to the largest reference update, per parameter', () => {
    const errors = updateErrors(params([1, 2]), params([1.5, 1.9]), params([1.4, 2.2]));
    // updates: actual (0.5, −0.1), expected (0.4, 0.2): errors 0.1 and 0.3, largest expected 0.4
    expect(errors.W1.scale).toBeCloseTo(0.4, 12);
    expect(errors.W1.relativeError).toBeCloseTo(0.3 / 0.4, 12);
    expect(errors.W2.scale).toBe(0);
  });
});

describe('float64Batch', () => {
  it('is seeded, in range, and labels are classes', () => {
    const a = float64Batch(3, { batch: 5, inputSize: 4, classes: 3 });
    expect(a).toEqual(float64Batch(3, { batch: 5, inputSize: 4, classes: 3 }));
    expect(a.x).toHaveLength(20);
    expect(Math.max(...a.x)).toBeLessThan(1);
    expect(Math.min(...a.x)).toBeGreaterThanOrEqual(-1);
    expect(a.labels.every((label) => Number.isInteger(label) && label >= 0 && label < 3)).toBe(true);
    expect(float64Batch(4, { batch: 5, inputSize: 4, classes: 3 }).x).not.toEqual(a.x);
  });
});
