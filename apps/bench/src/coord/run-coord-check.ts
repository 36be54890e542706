import {
  effectivePerturbations,
  logLogSlope,
  muSgd,
  type ParamSpec,
  type PresetName,
  parsePreset,
  SamOptimizer,
} from '@mup2/core';
import { createMlp, type ImageDataset, type RuleRegistry } from '@mup2/model-zoo';
import * as tf from '@tensorflow/tfjs';
import { takeBatch } from './mnist-batches.js';

export interface CoordCheckConfig {
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

export interface CoordRow {
  readonly preset: PresetName;
  readonly width: number;
  readonly layer: string;
  /** Mean over seeds of the RMS change of the layer's pre-activation caused by ε. */
  readonly effect: number;
}

export interface CoordSlope {
  readonly preset: PresetName;
  readonly layer: string;
  readonly slope: number;
}

/** 'input W', 'hidden W', 'output W', 'norm gain', 'vector': how the tables name a parameter. */
export function layerLabel(spec: ParamSpec): string {
  if (spec.norm) return 'norm gain';
  return spec.role === 'vector' ? 'bias' : `${spec.role} W`;
}

/**
 * The perturbation coordinate check of DESIGN.md §5 on the zoo's MLP
 * (784→n→n→10 with a norm gain after the first layer) on MNIST: for each preset
 * and width, `steps` SAM steps with the preset's initialisation, learning rates
 * and perturbation scaling, then each layer's effective perturbation on the
 * next batch; the slope of log(effect) against log(width) per layer.
 */
export function runCoordCheck(
  config: CoordCheckConfig,
  rules: RuleRegistry,
  dataset: ImageDataset,
  onProgress?: (done: number, total: number, label: string) => void,
): { rows: CoordRow[]; slopes: CoordSlope[] } {
  const rows: CoordRow[] = [];
  const total = config.presets.length * config.widths.length * config.seeds;
  let done = 0;
  const inputSize = dataset.imageShape.reduce((product, size) => product * size, 1);
  for (const presetName of config.presets) {
    const preset = parsePreset(presetName);
    for (const width of config.widths) {
      const sums = new Map<string, number>();
      for (let seed = 0; seed < config.seeds; seed++) {
        const model = createMlp({
          inputSize,
          width,
          baseWidth: config.baseWidth,
          classes: dataset.classes,
          parameterization: preset.parameterization,
          seed: seed + 1,
        });
        const optimizer = new SamOptimizer({
          base: muSgd(config.learningRate, preset.parameterization === 'mup' ? model.specs : undefined),
          rule: rules.create(config.rule, { rho: config.rho, scaling: preset.scaling }),
          params: model.specs,
        });
        const firstBatch = seed * (config.steps + 1);
        for (let step = 0; step < config.steps; step++) {
          const { x, y } = takeBatch(dataset, firstBatch + step, config.batch);
          optimizer.minimize(() => model.loss(x, y), false, model.trainableVariables);
          tf.dispose([x, y]);
        }
        const { x, y } = takeBatch(dataset, firstBatch + config.steps, config.batch);
        const perturbations = optimizer.computePerturbation(() => model.loss(x, y), model.trainableVariables);
        const layers = model.measuredLayers(x);
        const effects = effectivePerturbations(perturbations, layers);
        for (const spec of model.specs) {
          const effect = effects[spec.variable.name];
          if (effect === undefined) continue;
          const label = layerLabel(spec);
          sums.set(label, (sums.get(label) ?? 0) + effect / config.seeds);
        }
        tf.dispose([x, y, perturbations, ...layers.flatMap((layer) => (layer.input ? [layer.input] : []))]);
        optimizer.dispose();
        model.dispose();
        onProgress?.(++done, total, `${presetName} width ${width} seed ${seed + 1}`);
      }
      for (const [layer, effect] of sums) rows.push({ preset: presetName, width, layer, effect });
    }
  }
  const slopes: CoordSlope[] = [];
  for (const preset of config.presets) {
    const layers = [...new Set(rows.filter((row) => row.preset === preset).map((row) => row.layer))];
    for (const layer of layers) {
      const series = rows.filter((row) => row.preset === preset && row.layer === layer);
      slopes.push({
        preset,
        layer,
        slope: logLogSlope(
          series.map((row) => row.width),
          series.map((row) => row.effect),
        ),
      });
    }
  }
  return { rows, slopes };
}
