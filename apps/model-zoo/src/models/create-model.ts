import { InvalidOptionError, type Parameterization } from '@mup2/core';
import { createMlp } from './mlp.js';
import type { ZooModel } from './zoo-model.js';

/** The zoo's architectures, by CLI name. */
export const MODEL_NAMES = ['mlp'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

export interface CreateModelOptions {
  readonly model: string;
  /** Width relative to the architecture's reference width (MLP: 64 units per layer at 1). */
  readonly widthMult: number;
  /** Base width multiplier of µP: the model equals SP at this width. Default: the architecture's own (MLP 1). */
  readonly baseWidthMult?: number;
  readonly parameterization: Parameterization;
  /** [height, width, channels] of the input images. */
  readonly imageShape: readonly [number, number, number];
  readonly classes: number;
  readonly seed: number;
}

/** MLP hidden units at width multiplier 1. */
export const MLP_REFERENCE_WIDTH = 64;

export function createModel(options: CreateModelOptions): ZooModel {
  if (!Number.isFinite(options.widthMult) || options.widthMult <= 0) {
    throw new InvalidOptionError(`widthMult must be a positive number, got ${options.widthMult}.`);
  }
  switch (options.model) {
    case 'mlp':
      return createMlp({
        inputSize: options.imageShape.reduce((product, size) => product * size, 1),
        width: Math.max(1, Math.round(MLP_REFERENCE_WIDTH * options.widthMult)),
        baseWidth: Math.max(1, Math.round(MLP_REFERENCE_WIDTH * (options.baseWidthMult ?? 1))),
        classes: options.classes,
        parameterization: options.parameterization,
        seed: options.seed,
      });
    default:
      throw new InvalidOptionError(
        `unknown model ${JSON.stringify(options.model)}; expected one of ${MODEL_NAMES.join(', ')}.`,
      );
  }
}
