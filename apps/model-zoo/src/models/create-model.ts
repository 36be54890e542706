import { InvalidOptionError, type Parameterization } from '@mup2/core';
import * as tf from '@tensorflow/tfjs';
import { registerTensorflowKernels } from '../layers/tensorflow-kernels.js';
import { createMlp } from './mlp.js';
import { createResnet18 } from './resnet.js';
import { createVit } from './vit.js';
import type { ZooModel } from './zoo-model.js';

/** The zoo's architectures, by CLI name. */
export const MODEL_NAMES = ['mlp', 'resnet18', 'vit'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

export interface CreateModelOptions {
  readonly model: string;
  /**
   * Width relative to the architecture's reference width: MLP 64 units per layer at 1;
   * ResNet-18 64·k … 512·k channels; ViT 64·k embedding width (4 heads).
   */
  readonly widthMult: number;
  /**
   * Base width multiplier of µP: the model equals SP at this width. Default: the
   * architecture's own (MLP 1, ResNet-18 0.5 as in the paper, ViT 6, i.e. width 384 as ViT-S).
   */
  readonly baseWidthMult?: number;
  readonly parameterization: Parameterization;
  /** [height, width, channels] of the input images. */
  readonly imageShape: readonly [number, number, number];
  readonly classes: number;
  readonly seed: number;
}

/** MLP hidden units at width multiplier 1. */
export const MLP_REFERENCE_WIDTH = 64;

/**
 * ViT embedding width at width multiplier 1: small enough that a depth-6 ViT
 * trains on two cores (about 1–2 s per batch of 128 CIFAR images on wasm).
 * Its µP base width is ViT-S's 384 (base width multiplier 6).
 */
export const VIT_REFERENCE_WIDTH = 64;
export const VIT_DEFAULT_BASE_WIDTH_MULT = 6;
export const VIT_HEADS = 4;

/** The multiple of `heads` nearest to reference·multiplier (at least one per head). */
function headsMultiple(reference: number, multiplier: number, heads: number): number {
  return heads * Math.max(1, Math.round((reference * multiplier) / heads));
}

export function createModel(options: CreateModelOptions): ZooModel {
  if (!Number.isFinite(options.widthMult) || options.widthMult <= 0) {
    throw new InvalidOptionError(`widthMult must be a positive number, got ${options.widthMult}.`);
  }
  // Before the first step, so the optimizer finds the fused kernels from its first update on.
  if (tf.getBackend() === 'tensorflow') registerTensorflowKernels();
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
    case 'resnet18':
      return createResnet18({
        imageShape: options.imageShape,
        classes: options.classes,
        widthMult: options.widthMult,
        baseWidthMult: options.baseWidthMult,
        parameterization: options.parameterization,
        seed: options.seed,
      });
    case 'vit':
      return createVit({
        imageShape: options.imageShape,
        classes: options.classes,
        width: headsMultiple(VIT_REFERENCE_WIDTH, options.widthMult, VIT_HEADS),
        baseWidth: headsMultiple(VIT_REFERENCE_WIDTH, options.baseWidthMult ?? VIT_DEFAULT_BASE_WIDTH_MULT, VIT_HEADS),
        heads: VIT_HEADS,
        parameterization: options.parameterization,
        seed: options.seed,
      });
    default:
      throw new InvalidOptionError(
        `unknown model ${JSON.stringify(options.model)}; expected one of ${MODEL_NAMES.join(', ')}.`,
      );
  }
}
