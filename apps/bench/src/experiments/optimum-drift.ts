import type { GridPoint } from '../plot/sweep-aggregate.js';

export interface OptimumDrift {
  readonly preset: string;
  /** The optimum (η, ρ) and its accuracy at each width, narrowest first. */
  readonly optima: Array<{ widthMult: number; lr: number; rho: number; accuracy: number }>;
  /** The largest move of the optimal η between any two widths, in factors of 2 (|log2 η*(a) − log2 η*(b)|). */
  readonly lrDriftOctaves: number;
  /** The same for the optimal ρ. */
  readonly rhoDriftOctaves: number;
}

const spread = (values: number[]) => Math.log2(Math.max(...values)) - Math.log2(Math.min(...values));

/** How far each preset's optimal (η, ρ) moves across widths: the transfer claim of Figure 1 as two numbers. */
export function optimumDrift(optima: readonly GridPoint[], rule: string): OptimumDrift[] {
  const presets = [...new Set(optima.filter((point) => point.rule === rule).map((point) => point.preset))];
  return presets.map((preset) => {
    const points = optima
      .filter((point) => point.rule === rule && point.preset === preset)
      .sort((a, b) => a.widthMult - b.widthMult);
    return {
      preset,
      optima: points.map((point) => ({
        widthMult: point.widthMult,
        lr: point.lr,
        rho: point.rho,
        accuracy: point.meanAccuracy,
      })),
      lrDriftOctaves: spread(points.map((point) => point.lr)),
      rhoDriftOctaves: spread(points.map((point) => point.rho)),
    };
  });
}
