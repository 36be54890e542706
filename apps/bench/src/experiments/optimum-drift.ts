import type { GridPoint } from '../plot/sweep-aggregate.js';

export interface OptimumDrift {
  readonly preset: string;
  /**
   * The optimum (η, ρ) at each width, narrowest first, with its mean test accuracy (and its spread
   * over seeds) and its mean accuracy on the training split (null where the rows did not record it).
   */
  readonly optima: Array<{
    widthMult: number;
    lr: number;
    rho: number;
    accuracy: number;
    stdAccuracy: number;
    trainAccuracy: number | null;
  }>;
  /** How far the optimal η moves across widths, in steps of the η grid (largest index − smallest index). */
  readonly lrDriftSteps: number;
  /** The same for the optimal ρ, in steps of the ρ grid (ρ = 0, when in the grid, is its first step). */
  readonly rhoDriftSteps: number;
  /** Whether the optimal ρ is above the smallest and below the largest radius of the grid at every width. */
  readonly rhoInterior: boolean;
}

/** A drift as words: "1 step", "3 steps". */
export const gridSteps = (count: number) => `${count} step${count === 1 ? '' : 's'}`;

const sortedUnique = (values: readonly number[]) => [...new Set(values)].sort((a, b) => a - b);
const range = (indices: readonly number[]) => Math.max(...indices) - Math.min(...indices);

/**
 * How far each preset's optimal (η, ρ) moves across widths, in grid steps: the transfer claim
 * of Figure 1 as two numbers. `points` are every point of the rule's panels (their η and ρ
 * values are the grid), `optima` the panels' optima.
 */
export function optimumDrift(points: readonly GridPoint[], optima: readonly GridPoint[], rule: string): OptimumDrift[] {
  const rulePoints = points.filter((point) => point.rule === rule);
  const lrs = sortedUnique(rulePoints.map((point) => point.lr));
  const rhos = sortedUnique(rulePoints.map((point) => point.rho));
  const presets = [...new Set(optima.filter((point) => point.rule === rule).map((point) => point.preset))];
  return presets.map((preset) => {
    const best = optima
      .filter((point) => point.rule === rule && point.preset === preset)
      .sort((a, b) => a.widthMult - b.widthMult);
    const rhoIndices = best.map((point) => rhos.indexOf(point.rho));
    return {
      preset,
      optima: best.map((point) => ({
        widthMult: point.widthMult,
        lr: point.lr,
        rho: point.rho,
        accuracy: point.meanAccuracy,
        stdAccuracy: point.stdAccuracy,
        trainAccuracy: point.meanTrainAccuracy,
      })),
      lrDriftSteps: range(best.map((point) => lrs.indexOf(point.lr))),
      rhoDriftSteps: range(rhoIndices),
      rhoInterior: rhoIndices.every((index) => index > 0 && index < rhos.length - 1),
    };
  });
}
