import type { Figure1Optima } from './figure1-optima.js';
import type { Drift, Interval, PanelOptimum, SeriesStatistics } from './optimum-statistics.js';

/** A grid value from its log2, to 2 significant digits: 0.05, 0.1, 0.0125 → 0.013. */
const value = (log2: number) => Number((2 ** log2).toPrecision(2)).toString();
// Rounded first, so that −0.001 reads +0.00, not −0.00.
const signed = (number: number) => {
  const rounded = Number(number.toFixed(2));
  return `${rounded >= 0 ? '+' : '−'}${Math.abs(rounded).toFixed(2)}`;
};
const range = (interval: Interval) =>
  Number.isFinite(interval.low) ? `[${value(interval.low)}, ${value(interval.high)}]` : '[–]';

/** "+0.05 [−0.20, +0.31]": a drift per doubling of width with its 90% interval. */
export function driftText(drift: Drift | null | undefined): string {
  if (!drift || !Number.isFinite(drift.perDoubling)) return '–';
  const { low, high } = drift.interval;
  return `${signed(drift.perDoubling)} [${Number.isFinite(low) ? `${signed(low)}, ${signed(high)}` : '–'}]`;
}

/** Whether an interval contains 0. */
export const containsZero = (interval: Interval) => interval.low <= 0 && interval.high >= 0;

const edge = (flag: boolean) => (flag ? ' (edge)' : '');

function optimumCell(optimum: PanelOptimum | undefined, quantity: 'lr' | 'rho'): string {
  if (optimum === undefined) return '–';
  if (quantity === 'lr') return `${value(optimum.log2Lr)} ${range(optimum.log2LrInterval)}${edge(optimum.lrEdge)}`;
  if (optimum.log2Rho === null || optimum.log2RhoInterval === null) return '–';
  return `${value(optimum.log2Rho)} ${range(optimum.log2RhoInterval)}${edge(optimum.rhoEdge)}`;
}

/**
 * The optima of one quantity (η* or ρ*) per series and width with their 90% intervals, and the
 * drift of its log2 per doubling of width with its interval, as a Markdown table. Series without
 * that quantity (SGD has no ρ) are left out.
 */
export function optimaTable(series: readonly SeriesStatistics[], quantity: 'lr' | 'rho'): string {
  const widths = [...new Set(series.flatMap((entry) => entry.optima.map((optimum) => optimum.widthMult)))].sort(
    (a, b) => a - b,
  );
  const symbol = quantity === 'lr' ? 'η*' : 'ρ*';
  const rows = series.filter((entry) => quantity === 'lr' || entry.optima.some((optimum) => optimum.log2Rho !== null));
  return [
    `| | ${widths.map((width) => `×${width}`).join(' | ')} | log2 ${symbol} per doubling |`,
    `|---|${widths.map(() => '---').join('|')}|---|`,
    ...rows.map((entry) => {
      const cells = widths.map((width) =>
        optimumCell(
          entry.optima.find((optimum) => optimum.widthMult === width),
          quantity,
        ),
      );
      return `| ${entry.name} | ${cells.join(' | ')} | ${driftText(quantity === 'lr' ? entry.lrDrift : entry.rhoDrift)} |`;
    }),
  ].join('\n');
}

/**
 * The transfer claim in sentences: per preset whether its ρ* drift interval contains 0, and whether
 * µP²'s drift differs from each other preset's (the paired interval of the difference excludes 0).
 */
export function transferVerdict(optima: Figure1Optima): string[] {
  const lines: string[] = [];
  for (const entry of optima.series) {
    if (!entry.rhoDrift) continue;
    const { interval } = entry.rhoDrift;
    if (!Number.isFinite(interval.low)) continue;
    lines.push(
      `- ${entry.name}: log2 ρ* moves ${driftText(entry.rhoDrift)} per doubling of width; its 90% interval ` +
        `${containsZero(interval) ? 'contains 0 (no drift shown)' : 'excludes 0 (ρ* drifts)'}; ` +
        `log2 η* ${driftText(entry.lrDrift)}.`,
    );
  }
  const driftOf = (name: string) => optima.series.find((entry) => entry.name === name)?.rhoDrift;
  for (const difference of optima.differences) {
    if (!difference.rho || !Number.isFinite(difference.rho.interval.low)) continue;
    lines.push(
      `- mup2 − ${difference.preset}, drift of log2 ρ*: ${driftText(difference.rho)}: ` +
        (containsZero(difference.rho.interval)
          ? 'the interval contains 0: this run cannot tell their drifts apart.'
          : `the interval excludes 0: their drifts differ (mup2 ${driftText(driftOf('mup2'))}, ` +
            `${difference.preset} ${driftText(driftOf(difference.preset))}).`),
    );
  }
  return lines;
}
