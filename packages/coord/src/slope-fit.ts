import { logLogSlope } from '@mup2/core';

/** The width exponent of one quantity, with what tells whether it has settled. */
export interface SlopeFit {
  /** Least-squares slope of log(mean over seeds) against log(width), over every width. */
  readonly slope: number;
  /** The slope over the narrower half of the widths, and over the wider half (three widths or more). */
  readonly narrowSlope?: number;
  readonly wideSlope?: number;
  /** The slope of each seed's own series. */
  readonly seedSlopes: readonly number[];
  /** Standard error of the slope across seeds (two seeds or more). */
  readonly standardError?: number;
  /**
   * False when the exponent has not settled: the halves' slopes differ by more than the settle
   * tolerance (pre-asymptotic widths), or the seeds disagree (standard error above half of it).
   */
  readonly settled: boolean;
  /** Why it has not settled, in a sentence; undefined when it has. */
  readonly unsettledBecause?: string;
}

const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

/**
 * Fits the width exponent of a quantity measured at `widths` for each seed
 * (`values[seed][width index]`), and says whether it has settled within `settleTolerance`.
 */
export function fitSlope(
  widths: readonly number[],
  values: readonly (readonly number[])[],
  settleTolerance: number,
): SlopeFit {
  const means = widths.map((_, index) => mean(values.map((series) => series[index] as number)));
  const slope = logLogSlope(widths, means);
  const seedSlopes = values.map((series) => logLogSlope(widths, series));
  const reasons: string[] = [];
  let narrowSlope: number | undefined;
  let wideSlope: number | undefined;
  if (widths.length >= 3) {
    const half = Math.ceil(widths.length / 2);
    const wideFrom = Math.floor(widths.length / 2);
    narrowSlope = logLogSlope(widths.slice(0, half), means.slice(0, half));
    wideSlope = logLogSlope(widths.slice(wideFrom), means.slice(wideFrom));
    if (Math.abs(wideSlope - narrowSlope) > settleTolerance) {
      reasons.push(
        `the slope changes with width (${narrowSlope.toFixed(2)} over the narrower widths, ${wideSlope.toFixed(2)} over the wider ones): the widths are not asymptotic yet`,
      );
    }
  }
  let standardError: number | undefined;
  if (seedSlopes.length >= 2) {
    const center = mean(seedSlopes);
    const variance = seedSlopes.reduce((sum, value) => sum + (value - center) ** 2, 0) / (seedSlopes.length - 1);
    standardError = Math.sqrt(variance / seedSlopes.length);
    if (standardError > settleTolerance / 2) {
      reasons.push(
        `the seeds disagree (slopes ${seedSlopes.map((value) => value.toFixed(2)).join(', ')}, standard error ${standardError.toFixed(2)}): more seeds or a larger batch`,
      );
    }
  }
  return {
    slope,
    ...(narrowSlope !== undefined && { narrowSlope }),
    ...(wideSlope !== undefined && { wideSlope }),
    seedSlopes,
    ...(standardError !== undefined && { standardError }),
    settled: reasons.length === 0,
    ...(reasons.length > 0 && { unsettledBecause: reasons.join('; ') }),
  };
}

/** 'flat' within ±tolerance of 0, else 'fading' (negative) or 'growing'. */
export type SlopeVerdict = 'flat' | 'fading' | 'growing';

export function slopeVerdict(slope: number, tolerance: number): SlopeVerdict {
  if (Math.abs(slope) <= tolerance) return 'flat';
  return slope < 0 ? 'fading' : 'growing';
}
