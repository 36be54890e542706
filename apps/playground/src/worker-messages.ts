import type { CoordCheckResult } from '@mup2/coord';
import type { PresetName } from '@mup2/core';

/** 'auto': initBackend's choice (the first registered of webgpu, webgl, wasm, cpu that works). */
export type BackendChoice = 'auto' | 'webgl' | 'wasm' | 'cpu';

/** Train the zoo's MLP 784→width→width→10 on the digits, as `pnpm zoo train` would (SGD, momentum 0.9). */
export interface TrainJob {
  readonly kind: 'train';
  readonly backend: BackendChoice;
  /** 'sgd' or an installed rule's name. */
  readonly rule: string;
  readonly preset: PresetName;
  readonly width: number;
  readonly lr: number;
  readonly rho: number;
  readonly epochs: number;
  readonly batch: number;
  readonly seed: number;
  /** Evaluate on the 2,000 test digits every this many steps (and after the last). */
  readonly evaluateEvery: number;
}

/**
 * The perturbation coordinate check (@mup2/coord) of the zoo's MLP on the digits, as
 * `pnpm bench coord` runs it; the base width is the smallest.
 */
export interface CoordJob {
  readonly kind: 'coord';
  readonly backend: BackendChoice;
  readonly rule: string;
  readonly presets: readonly PresetName[];
  readonly widths: readonly number[];
  /** SAM steps before the perturbation is measured. */
  readonly steps: number;
  readonly learningRate: number;
  readonly rho: number;
  readonly seeds: number;
  readonly batch: number;
}

export type Job = TrainJob | CoordJob;

export type WorkerEvent =
  | { readonly type: 'ready'; readonly backend: string; readonly trainCount: number; readonly testCount: number }
  | {
      readonly type: 'step';
      readonly step: number;
      readonly steps: number;
      readonly loss: number;
      readonly accuracy: number;
      readonly milliseconds: number;
    }
  | { readonly type: 'evaluation'; readonly step: number; readonly accuracy: number; readonly loss: number }
  | { readonly type: 'done'; readonly seconds: number; readonly diverged: boolean }
  | { readonly type: 'coord-progress'; readonly done: number; readonly total: number; readonly label: string }
  | { readonly type: 'coord-done'; readonly result: CoordCheckResult; readonly seconds: number }
  | { readonly type: 'error'; readonly message: string };
