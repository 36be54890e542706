import { binomialDistribution } from 'simple-statistics';
import { median } from './median.js';

/** The confidence wanted of the intervals the in-process targets are judged by. */
export const RATIO_INTERVAL_LEVEL = 0.95;

/** A ratio of two steps' times over rounds that timed both, with a confidence interval. */
export interface PairedRatio {
  /** Median over the rounds of numerator / denominator in the same round. */
  readonly value: number;
  /** Order statistics of the rounds' ratios that hold the median with probability `level`. */
  readonly low: number;
  readonly high: number;
  /** The interval's coverage: the wanted level, or less when there are too few rounds for it (fewer than 6 for 95%). */
  readonly level: number;
  readonly rounds: number;
}

/**
 * The ratio of two steps' times, each round's pair divided first (both were timed in that round,
 * so the machine's drift between rounds cancels): the median of the rounds' ratios, and the
 * distribution-free interval for it, [r₍ⱼ₊₁₎, r₍ₙ₋ⱼ₎] with the most rounds j cut from each end
 * such that 2·P(Binomial(n, ½) ≤ j) ≤ 1 − level. A median, like the step times beside it: a
 * round that a collection or a wake-up hit moves it no more than any other round. Undefined
 * without two rounds that timed both.
 */
export function pairedRatio(
  numerator: readonly number[],
  denominator: readonly number[],
  level = RATIO_INTERVAL_LEVEL,
): PairedRatio | undefined {
  const ratios: number[] = [];
  for (let round = 0; round < Math.min(numerator.length, denominator.length); round++) {
    const ratio = (numerator[round] as number) / (denominator[round] as number);
    if (Number.isFinite(ratio) && ratio > 0) ratios.push(ratio);
  }
  const n = ratios.length;
  if (n < 2) return undefined;
  ratios.sort((a, b) => a - b);
  const below = binomialDistribution(n, 0.5) ?? [];
  let cut = 0;
  let tail = below[0] ?? 0;
  while (cut + 1 < n / 2 && 2 * (tail + (below[cut + 1] ?? 0)) <= 1 - level) {
    cut++;
    tail += below[cut] ?? 0;
  }
  return {
    value: median(ratios),
    low: ratios[cut] as number,
    high: ratios[n - 1 - cut] as number,
    level: 1 - 2 * tail,
    rounds: n,
  };
}
