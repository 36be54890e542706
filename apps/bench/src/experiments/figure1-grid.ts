import { existsSync } from 'node:fs';
import { DEFAULT_FASHION_MNIST_DIR } from '@mup2/model-zoo';
import type { SweepGridInput } from '../sweep/grid.js';

/**
 * The η × ρ × width grid of the paper's Figure 1 on an MLP (784→n→n→10, SGD with momentum
 * 0.9 and a cosine learning-rate decay), for the five presets, with SGD in SP and µP, which
 * are also each preset's ρ = 0 column. Trained long enough on a small training subset that
 * the wide models fit it (train accuracy ≥ 97%), where SAM's flat-minimum effect can show;
 * docs/bench.md has the pilot runs these numbers were chosen from. The paper's rule is SAM; `rule`
 * sweeps another installed rule on the same grid.
 *
 * Full: Fashion-MNIST when installed (else MNIST), its first 4,000 training images and all
 * 10,000 test images, widths ×0.5…×8 (32…512 units), η ∈ 0.0125…0.2 and ρ ∈ 0.0125…0.2 in
 * factors of 2, 40 epochs, 2 seeds: 1,350 cells, about 4 hours on a quiet 2-core machine with
 * the native backend (10.6 s of wall time per cell, two at a time, in the committed run; three
 * times that on a shared machine). Quick: 1,000 of the embedded MNIST digits and all 2,000 test
 * digits, widths ×0.5 and ×4, 3 × 3 (η, ρ) in factors of 2 and 4, 15 epochs, 2 seeds: 204 cells,
 * minutes.
 */
/**
 * The presets the paper's claim rests on (SP as people use it, µP with a global radius, and
 * µP²) and the SGD runs (every preset's ρ = 0) are handed out before sp-lp and mup-naive, so a
 * run cut short holds whole seeds of those first.
 */
export const FIGURE1_KEY_PRESETS: readonly string[] = ['sp-naive', 'mup-global', 'mup2'];
export function figure1Rank(config: { rule: string; preset: string }): number {
  return config.rule === 'sgd' || FIGURE1_KEY_PRESETS.includes(config.preset) ? 0 : 1;
}

export function figure1Grid(quick: boolean, dataDir?: string, rule = 'sam'): SweepGridInput {
  const presets = ['sp-naive', 'sp-lp', 'mup-naive', 'mup-global', 'mup2'];
  const common = {
    models: ['mlp'],
    rules: ['sgd', rule],
    presets,
    seeds: [0, 1],
    batches: [128],
    lrSchedule: 'cosine',
  } as const;
  if (quick) {
    return {
      ...common,
      datasets: ['mnist'],
      widths: [0.5, 4],
      lrs: [0.025, 0.05, 0.1],
      rhos: [0.0125, 0.05, 0.2],
      epochs: [15],
      evalEvery: 15,
      limit: 1000,
      testLimit: 2000,
    };
  }
  const fashion = existsSync(dataDir ?? DEFAULT_FASHION_MNIST_DIR);
  return {
    ...common,
    datasets: [fashion ? 'fashion-mnist' : 'mnist'],
    widths: [0.5, 1, 2, 4, 8],
    lrs: [0.0125, 0.025, 0.05, 0.1, 0.2],
    rhos: [0.0125, 0.025, 0.05, 0.1, 0.2],
    epochs: [40],
    evalEvery: 40,
    limit: 4000,
    testLimit: 10000,
  };
}
