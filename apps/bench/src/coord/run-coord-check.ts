import { type CoordCheckResult, coordCheck } from '@mup2/coord';
import type { PresetName } from '@mup2/core';
import { createModel, type ImageDataset, indexedBatch, type RuleRegistry } from '@mup2/model-zoo';

/** The zoo's models the check runs: each one's width parameter is 64 at width multiplier 1. */
export const COORD_MODELS = ['mlp', 'resnet18', 'vit'] as const;
export type CoordModelName = (typeof COORD_MODELS)[number];

/** What each model's width is: MLP hidden units, ResNet-18 first-stage channels (64k), ViT embedding width. */
export const COORD_WIDTH_MEANING: Record<CoordModelName, string> = {
  mlp: 'MLP 784→n→n→10 with a norm gain',
  resnet18: 'ResNet-18 with n, 2n, 4n, 8n channels',
  vit: 'ViT (depth 6, 4 heads, patches 4×4) of embedding width n',
};

export interface CoordCheckConfig {
  readonly model: CoordModelName;
  readonly rule: string;
  readonly presets: readonly PresetName[];
  readonly widths: readonly number[];
  readonly baseWidth: number;
  /** SAM steps before the perturbation is measured. */
  readonly steps: number;
  readonly learningRate: number;
  readonly rho: number;
  readonly seeds: number;
  readonly batch: number;
}

/**
 * The perturbation coordinate check (@mup2/coord) on a zoo model and the dataset's training
 * images: for each preset, width and seed, `steps` SAM steps with the preset's initialisation,
 * learning rates and scaling, then every layer measured on the next batch.
 */
export function runCoordCheck(
  config: CoordCheckConfig,
  rules: RuleRegistry,
  dataset: ImageDataset,
  onProgress?: (done: number, total: number, label: string) => void,
): Promise<CoordCheckResult> {
  return coordCheck({
    model: (width, { seed, parameterization }) =>
      createModel({
        model: config.model,
        // Every zoo model's reference width (multiplier 1) is 64.
        widthMult: width / 64,
        baseWidthMult: config.baseWidth / 64,
        parameterization,
        imageShape: dataset.imageShape,
        classes: dataset.classes,
        seed,
      }),
    widths: config.widths,
    rule: (scaling) => rules.create(config.rule, { rho: config.rho, scaling }),
    presets: config.presets,
    data: (index) => indexedBatch(dataset, index, config.batch),
    steps: config.steps,
    seeds: config.seeds,
    learningRate: config.learningRate,
    ...(onProgress && { onProgress }),
  });
}
