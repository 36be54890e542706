import { describe, expect, it } from 'vitest';
import { pairedRatio } from './paired-ratio.js';

/** Rounds whose ratios are `ratios` in the order given, over a denominator that drifts. */
function rounds(ratios: readonly number[]) {
  const denominator = ratios.map((_, round) => 10 + 3 * Math.sin(round));
  return { numerator: denominator.map((ms, round) => ms * (ratios[round] as number)), denominator };
}

describe('pairedRatio', () => {
  it("is the median of the rounds' ratios with the textbook order-statistic interval", () => {
    // n = 10: the 95% interval for a median is [r(2), r(9)], coverage 1 − 2·11/1024 (P(B ≤ 1) = 11/1024).
    const ten = [1.05, 0.97, 1.0, 1.2, 0.9, 1.01, 1.03, 0.99, 1.02, 1.04];
    const { numerator, denominator } = rounds(ten);
    const paired = pairedRatio(numerator, denominator);
    expect(paired?.value).toBeCloseTo((1.01 + 1.02) / 2, 12);
    expect(paired?.low).toBeCloseTo(0.97, 12);
    expect(paired?.high).toBeCloseTo(1.05, 12);
    expect(paired?.level).toBeCloseTo(1 - 22 / 1024, 12);
    expect(paired?.rounds).toBe(10);
  });

  it('cuts 13 rounds from each end of 40 (r(14) to r(27)), the whole range of 6, and says so below 95%', () => {
    const forty = Array.from({ length: 40 }, (_, index) => 1 + ((index * 17) % 40) / 1000); // 1.000 … 1.039, shuffled
    const fromForty = pairedRatio(rounds(forty).numerator, rounds(forty).denominator);
    expect(fromForty?.low).toBeCloseTo(1.013, 12);
    expect(fromForty?.high).toBeCloseTo(1.026, 12);
    expect(fromForty?.level).toBeGreaterThanOrEqual(0.95);
    const six = [1.1, 0.9, 1.0, 1.3, 1.05, 0.95];
    const fromSix = pairedRatio(rounds(six).numerator, rounds(six).denominator);
    expect([fromSix?.low, fromSix?.high, fromSix?.level]).toEqual([
      expect.closeTo(0.9, 12),
      expect.closeTo(1.3, 12),
      expect.closeTo(1 - 2 / 64, 12),
    ]);
    const five = six.slice(0, 5);
    expect(pairedRatio(rounds(five).numerator, rounds(five).denominator)?.level).toBeCloseTo(1 - 2 / 32, 12);
  });

  it('pairs within rounds, so drift between rounds does not widen the interval', () => {
    // The machine slows 3× over the rounds, both steps alike; each round's ratio is 2.
    const denominator = [1, 1.5, 2, 2.5, 3, 2, 1];
    const paired = pairedRatio(
      denominator.map((value) => 2 * value),
      denominator,
    );
    expect([paired?.value, paired?.low, paired?.high]).toEqual([2, 2, 2]);
  });

  it('needs two rounds that timed both steps', () => {
    expect(pairedRatio([2], [1])).toBeUndefined();
    expect(pairedRatio([2, 3, 4], [1])).toBeUndefined();
    expect(pairedRatio([2, Number.NaN], [1, 1])).toBeUndefined();
  });
});
