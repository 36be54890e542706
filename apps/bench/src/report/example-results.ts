import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CellConfig } from '../sweep/grid.js';
import type { SweepRow } from '../sweep/results-log.js';

/**
 * A small made-up results folder (a sweep and a coordinate check) in the
 * formats `bench sweep` and `bench coord` write: for the report's tests and
 * for trying the report without training anything. The numbers are invented
 * (a smooth bump in log η and log ρ whose peak moves with width under SP), not results.
 */
export async function writeExampleResults(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const lrs = [0.03, 0.1, 0.3, 1];
  const rhos = [0.01, 0.03, 0.1, 0.3];
  const widths = [1, 4];
  const base = { model: 'mlp', dataset: 'mnist', epochs: 1, batch: 128 } as const;
  const rows: SweepRow[] = [];
  const accuracy = (preset: string, width: number, lr: number, rho: number, seed: number) => {
    // Under SP the best η shrinks like 1/width; under µP it stays put. ρ's best value moves unless scaled (µP²).
    const lrShift = preset.startsWith('sp') ? Math.log10(width) : 0;
    const rhoShift = preset === 'mup2' ? 0 : -0.5 * Math.log10(width);
    const dLr = Math.log10(lr) - (Math.log10(0.3) - lrShift);
    const dRho = Math.log10(rho) - (Math.log10(0.03) + rhoShift);
    if (dLr > 0.9) return 0;
    return 0.975 - 0.03 * dLr ** 2 - 0.012 * dRho ** 2 + (seed === 0 ? 0.002 : -0.002);
  };
  const push = (config: CellConfig, value: number) =>
    rows.push({
      cellId: `${config.rule}-${config.preset}-${config.widthMult}-${config.lr}-${config.rho}-${config.seed}`,
      config,
      seed: config.seed,
      finalTestAccuracy: value,
      bestTestAccuracy: value,
      trainLoss: value === 0 ? null : 1 - value,
      seconds: 1.5,
      backend: 'wasm',
      status: value === 0 ? 'diverged' : 'ok',
    });
  for (const seed of [0, 1]) {
    for (const widthMult of widths) {
      for (const preset of ['sp-naive', 'mup-global', 'mup2'] as const) {
        for (const lr of lrs) {
          for (const rho of rhos)
            push(
              { ...base, rule: 'sam', preset, widthMult, lr, rho, seed },
              accuracy(preset, widthMult, lr, rho, seed),
            );
        }
      }
      for (const preset of ['sp-naive', 'mup-naive'] as const) {
        for (const lr of lrs)
          push(
            { ...base, rule: 'sgd', preset, widthMult, lr, rho: 0, seed },
            // SGD: SAM's accuracy at its best ρ, less a little (a diverged run stays at 0).
            Math.max(0, accuracy(preset, widthMult, lr, 0.03, seed) - 0.006),
          );
      }
    }
  }
  rows.push({
    cellId: 'failed-cell',
    config: { ...base, rule: 'sam', preset: 'mup2', widthMult: 4, lr: 1, rho: 0.3, seed: 2 },
    seed: 2,
    finalTestAccuracy: null,
    bestTestAccuracy: null,
    trainLoss: null,
    seconds: 0,
    backend: null,
    status: 'failed',
    error: 'example failure: out of memory',
  });
  const grid = {
    models: ['mlp'],
    datasets: ['mnist'],
    rules: ['sgd', 'sam'],
    presets: ['sp-naive', 'mup-naive', 'mup-global', 'mup2'],
    widths,
    lrs,
    rhos,
    seeds: [0, 1],
    epochs: [1],
    batches: [128],
  };
  await writeFile(join(dir, 'grid.json'), `${JSON.stringify({ grid, hash: 'example0123456789abcdef' }, null, 2)}\n`);
  await writeFile(join(dir, 'results.jsonl'), rows.map((row) => `${JSON.stringify(row)}\n`).join(''));

  const coordWidths = [64, 128, 256, 512];
  const slopes = {
    'mup-global': { 'input W': -1.74, 'hidden W': -0.9, 'output W': 0 },
    mup2: { 'input W': 0.09, 'hidden W': -0.08, 'output W': -0.18 },
  } as const;
  const coordRows = Object.entries(slopes).flatMap(([preset, layers]) =>
    coordWidths.flatMap((width) =>
      Object.entries(layers).map(([layer, slope]) => ({ preset, width, layer, effect: 0.01 * (width / 64) ** slope })),
    ),
  );
  await writeFile(
    join(dir, 'coord.json'),
    `${JSON.stringify(
      {
        command: 'coord',
        config: {
          rule: 'sam',
          presets: Object.keys(slopes),
          widths: coordWidths,
          baseWidth: 64,
          steps: 3,
          learningRate: 0.1,
          rho: 0.1,
          seeds: 2,
          batch: 64,
        },
        backend: 'wasm',
        slopes: Object.entries(slopes).flatMap(([preset, layers]) =>
          Object.entries(layers).map(([layer, slope]) => ({ preset, layer, slope })),
        ),
        rows: coordRows,
      },
      null,
      2,
    )}\n`,
  );
}
