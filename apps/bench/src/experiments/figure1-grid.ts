import { existsSync } from 'node:fs';
import { DEFAULT_FASHION_MNIST_DIR } from '@mup2/model-zoo';
import type { SweepGridInput } from '../sweep/grid.js';

/**
 * The η × ρ × width grid of the paper's Figure 1 on an MLP, for the five
 * presets, with SGD in SP and µP as baselines; the paper's rule is SAM, `rule` any other.
 *
 * quick: MNIST (the embedded 8,000 training digits, 4,000 of them), widths 32,
 * 128 and 512, 5 × 4 (η, ρ), 1 epoch, 2 seeds: 640 cells, within 10
 * minutes on 2 cores. Full: Fashion-MNIST when installed (else MNIST), widths
 * 32…2048, 7 × 6 (η, ρ), 5 epochs, 3 seeds: hours to days, resumable.
 */
export function figure1Grid(quick: boolean, dataDir?: string, rule = 'sam'): SweepGridInput {
  const presets = ['sp-naive', 'sp-lp', 'mup-naive', 'mup-global', 'mup2'];
  if (quick) {
    return {
      models: ['mlp'],
      datasets: ['mnist'],
      rules: ['sgd', rule],
      presets,
      widths: [0.5, 2, 8],
      lrs: [0.01, 0.02, 0.05, 0.1, 0.2],
      rhos: [0.01, 0.03, 0.1, 0.3],
      seeds: [0, 1],
      epochs: [1],
      batches: [128],
      limit: 4000,
    };
  }
  const fashion = existsSync(dataDir ?? DEFAULT_FASHION_MNIST_DIR);
  return {
    models: ['mlp'],
    datasets: [fashion ? 'fashion-mnist' : 'mnist'],
    rules: ['sgd', rule],
    presets,
    widths: [0.5, 1, 2, 4, 8, 16, 32],
    lrs: [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1],
    rhos: [0.003, 0.01, 0.03, 0.1, 0.3, 1],
    seeds: [0, 1, 2],
    epochs: [5],
    batches: [128],
  };
}
