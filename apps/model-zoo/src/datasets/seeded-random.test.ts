import { InvalidOptionError } from '@mup2/core';
import { describe, expect, it } from 'vitest';
import { mixSeeds, seededRandom, shuffledIndices } from './seeded-random.js';

describe('seededRandom', () => {
  it('gives the same stream for the same seed and different streams for different seeds', () => {
    const draw = (seed: number) => Array.from({ length: 20 }, seededRandom(seed));
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
    expect(draw(0)).not.toEqual(draw(2 ** 32));
  });

  it('is uniform on [0, 1): mean 1/2 and variance 1/12 within sampling error', () => {
    const random = seededRandom(123);
    const n = 100_000;
    let sum = 0;
    let sumSquares = 0;
    let lowest = 1;
    let highest = 0;
    for (let i = 0; i < n; i++) {
      const u = random();
      lowest = Math.min(lowest, u);
      highest = Math.max(highest, u);
      sum += u;
      sumSquares += u * u;
    }
    expect(lowest).toBeGreaterThanOrEqual(0);
    expect(highest).toBeLessThan(1);
    const mean = sum / n;
    // Standard errors: 0.289/√n ≈ 0.0009 for the mean; allow 5 of them.
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.0046);
    expect(Math.abs(sumSquares / n - mean * mean - 1 / 12)).toBeLessThan(0.002);
  });

  it('rejects a seed that is not an integer', () => {
    expect(() => seededRandom(1.5)).toThrow(InvalidOptionError);
    expect(() => seededRandom(Number.NaN)).toThrow(/seed must be an integer/);
  });
});

describe('mixSeeds', () => {
  it('depends on every part and on their order', () => {
    const values = new Set([mixSeeds(1, 2), mixSeeds(2, 1), mixSeeds(1, 3), mixSeeds(1, 2, 0), mixSeeds(1)]);
    expect(values.size).toBe(5);
    expect(mixSeeds(5, 9)).toBe(mixSeeds(5, 9));
  });
});

describe('shuffledIndices', () => {
  it('is a permutation of 0…n−1, repeatable by seed', () => {
    const order = shuffledIndices(1000, seededRandom(3));
    expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(shuffledIndices(1000, seededRandom(3))).toEqual(order);
    expect(shuffledIndices(1000, seededRandom(4))).not.toEqual(order);
  });

  it('puts each element in each position about equally often', () => {
    // 3 elements, 6000 shuffles: each of the 9 (element, position) cells expects 2000.
    const counts = Array.from({ length: 3 }, () => [0, 0, 0]);
    const random = seededRandom(11);
    for (let trial = 0; trial < 6000; trial++) {
      shuffledIndices(3, random).forEach((element, position) => {
        counts[element]![position]!++;
      });
    }
    for (const row of counts) for (const count of row) expect(Math.abs(count - 2000)).toBeLessThan(150);
  });
});
