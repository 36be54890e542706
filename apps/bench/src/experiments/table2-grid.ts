import { Mup2Error } from '@mup2/core';
import { RESNET18_BASE_WIDTH_MULT } from '@mup2/model-zoo';
import type { SweepGridInput } from '../sweep/grid.js';

/** The quick run: µP's base width, where SP and µP² start from the same model. */
export const TABLE2_QUICK = {
  widthMult: RESNET18_BASE_WIDTH_MULT,
  limit: 1000,
  epochs: 2,
  batch: 64,
  seeds: 2,
} as const;
/** The full run's defaults (the paper: ResNet-18 ×4, every image; our seeds and epochs). */
export const TABLE2_FULL = { widthMult: 4, limit: undefined, epochs: 10, batch: 128, seeds: 4 } as const;

/** The flags of `bench table2` that shape its grid. */
export interface Table2GridOptions {
  readonly quick: boolean;
  readonly widthMult?: number;
  readonly seeds?: number;
  readonly epochs?: number;
  readonly limit?: number;
  readonly testLimit?: number;
  readonly batch?: number;
  readonly lr: number;
}

/** A table2 flag outside what the table means (the CLI prints its message). */
export class Table2OptionsError extends Mup2Error {
  static override readonly errorName = 'Table2OptionsError';
}

/**
 * The grid every rule of Table 2 shares (the rule and its radius are added per rule): ResNet-18
 * in SP and µP², SGD with momentum 0.9 and weight decay 5e-4, one evaluation at the end.
 */
export function table2BaseGrid(options: Table2GridOptions, dataset: string) {
  const defaults = options.quick ? TABLE2_QUICK : TABLE2_FULL;
  const widthMult = options.widthMult ?? defaults.widthMult;
  if (widthMult < RESNET18_BASE_WIDTH_MULT) {
    throw new Table2OptionsError(
      `--width-mult ${widthMult} is below µP's base width multiplier ${RESNET18_BASE_WIDTH_MULT}: µP² there is a ` +
        'narrower-than-base model, not the paper’s comparison. Use a width multiplier of ' +
        `${RESNET18_BASE_WIDTH_MULT} or more (bench sweep runs any width).`,
    );
  }
  const epochs = options.epochs ?? defaults.epochs;
  const limit = options.limit ?? defaults.limit;
  return {
    models: ['resnet18'],
    datasets: [dataset],
    presets: ['sp-naive', 'mup2'],
    widths: [widthMult],
    lrs: [options.lr],
    seeds: Array.from({ length: options.seeds ?? defaults.seeds }, (_, seed) => seed),
    epochs: [epochs],
    // Table 2 is the final test accuracy: one evaluation, at the end.
    evalEvery: epochs,
    batches: [options.batch ?? defaults.batch],
    momentum: 0.9,
    weightDecay: 5e-4,
    ...(limit !== undefined && { limit }),
    ...(options.testLimit !== undefined && { testLimit: options.testLimit }),
  } satisfies SweepGridInput;
}
