import { parameterizationOf } from './parameterization.js';
import type { AccuracyBaseline } from './rho-profile-chart.js';
import type { GridPoint } from './sweep-aggregate.js';

/**
 * SGD's best mean accuracy over η in SP and in µP, at `widthMult` (or, when
 * SGD did not run at that width, its widest width, named in the label).
 * `points` are one experiment's; the SGD ones are those with rule 'sgd'.
 * A preset's perturbation scaling means nothing to SGD, so every preset of a
 * parameterization is a run of the same SGD.
 */
export function sgdBaselines(points: readonly GridPoint[], widthMult: number): AccuracyBaseline[] {
  const sgd = points.filter((point) => point.rule === 'sgd');
  const baselines: AccuracyBaseline[] = [];
  for (const [parameterization, name] of [
    ['sp', 'SP'],
    ['mup', 'µP'],
  ] as const) {
    const runs = sgd.filter((point) => parameterizationOf(point.preset) === parameterization);
    if (runs.length === 0) continue;
    const width = runs.some((point) => point.widthMult === widthMult)
      ? widthMult
      : Math.max(...runs.map((point) => point.widthMult));
    const accuracy = Math.max(...runs.filter((point) => point.widthMult === width).map((point) => point.meanAccuracy));
    baselines.push({ label: `SGD in ${name}${width === widthMult ? '' : ` (width ×${width})`}`, accuracy });
  }
  return baselines;
}
