import { muAdam, muSgd } from '@mup2/core';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createMlp } from './mlp.js';
import { createResnet18 } from './resnet.js';
import { createVit } from './vit.js';
import type { ZooModel } from './zoo-model.js';

/**
 * microsoft/mup's coordinate check: train copies of a model at several widths
 * for a few steps from the same data, and record the mean |coordinate| of
 * each layer's input activation and of the logits after every step. In µP
 * none of them may drift with width.
 */
interface CoordCheck {
  /** quantity name → mean |coordinate| after step t (index t − 1). */
  readonly sizes: Map<string, number[]>;
}

function coordinateCheck(
  model: ZooModel,
  optimizer: tf.Optimizer,
  x: tf.Tensor,
  labels: tf.Tensor1D,
  steps: number,
): CoordCheck {
  const sizes = new Map<string, number[]>();
  const record = (name: string, value: number) => sizes.set(name, [...(sizes.get(name) ?? []), value]);
  const meanAbs = (t: tf.Tensor) => tf.tidy(() => tf.mean(tf.abs(t)).dataSync()[0] as number);
  for (let step = 0; step <= steps; step++) {
    if (step > 0) optimizer.minimize(() => model.loss(x, labels, { training: true }), false, model.trainableVariables);
    const layers = model.measuredLayers(x);
    // Layer names differ between widths only in the model prefix; the position in the list identifies the layer.
    layers.forEach((layer, index) => {
      if ((layer.kind === 'matmul' || layer.kind === 'conv2d') && layer.input)
        record(`${index}:${layer.variableName.replace(/^[^/]*\//, '')}`, meanAbs(layer.input));
    });
    tf.dispose(layers.map((layer) => layer.input ?? []));
    const logits = model.apply(x, { training: true });
    record('logits', meanAbs(logits));
    logits.dispose();
  }
  return { sizes };
}

/** The largest ratio (≥ 1) between neighbouring widths over every quantity and step, and where it occurs. */
function worstRatio(checks: CoordCheck[]): { ratio: number; where: string } {
  let worst = { ratio: 1, where: '' };
  checks.slice(1).forEach((check, i) => {
    const previous = checks[i] as CoordCheck;
    for (const [name, values] of check.sizes) {
      values.forEach((value, step) => {
        const before = previous.sizes.get(name)?.[step] as number;
        const ratio = Math.max(value / before, before / value);
        if (ratio > worst.ratio)
          worst = { ratio, where: `${name} step ${step + 1}, widths ${i}→${i + 1}: ${before} → ${value}` };
      });
    }
  });
  return worst;
}

/**
 * ResNet and ViT at test size (8 channels, width 32) have few units per layer, so one
 * initialisation moves the logits' mean |value| by ±20%: six seeds keep that noise under the
 * 1.2 margin, which a µP error (a factor of 2 per doubling of width) exceeds by far.
 */
const SIX_SEEDS = [1, 2, 3, 4, 5, 6];

/** Mean over seeds of each quantity at each step. */
function averaged(checks: CoordCheck[]): CoordCheck {
  const sizes = new Map<string, number[]>();
  for (const name of checks[0]?.sizes.keys() ?? []) {
    const series = checks.map((check) => check.sizes.get(name) as number[]);
    sizes.set(
      name,
      (series[0] as number[]).map(
        (_, step) => series.reduce((sum, values) => sum + (values[step] as number), 0) / series.length,
      ),
    );
  }
  return { sizes };
}

/**
 * The check at each width, averaged over seeds: at the few channels of a test-sized model one
 * initialisation moves a layer's mean |activation| by ±15%, which would hide a width trend.
 */
function runCheck(
  build: (width: number, seed: number) => ZooModel,
  widths: number[],
  optimizerFor: (model: ZooModel) => tf.Optimizer,
  data: { x: tf.Tensor; labels: tf.Tensor1D },
  seeds = [1, 2, 3],
  steps = 3,
): { ratio: number; where: string } {
  const checks = widths.map((width) =>
    averaged(
      seeds.map((seed) => {
        const model = build(width, seed);
        const optimizer = optimizerFor(model);
        const check = coordinateCheck(model, optimizer, data.x, data.labels, steps);
        optimizer.dispose();
        model.dispose();
        return check;
      }),
    ),
  );
  if (process.env.COORD_DEBUG) {
    for (const name of checks[0]?.sizes.keys() ?? []) {
      console.log(
        name.padEnd(50),
        checks
          .map((check) =>
            check.sizes
              .get(name)
              ?.map((v) => v.toFixed(3))
              .join(' '),
          )
          .join(' | '),
      );
    }
  }
  return worstRatio(checks);
}

function fixedBatch(shape: number[], classes: number, seed: number) {
  const batch = shape[0] as number;
  return {
    x: tf.randomNormal(shape, 0, 1, 'float32', seed),
    labels: tf.tensor1d(
      Array.from({ length: batch }, (_, i) => (i * 7 + seed) % classes),
      'int32',
    ),
  };
}

describe('µP activation coordinate check (mean |activation| within ×1.2 between neighbouring widths)', () => {
  it('MLP 16→n→n→10, widths 64/128/256, µP-SGD', () => {
    const data = fixedBatch([32, 16], 10, 1);
    const result = runCheck(
      (width, seed) => createMlp({ inputSize: 16, width, baseWidth: 64, classes: 10, readout: 'zero', seed }),
      [64, 128, 256],
      (model) => muSgd(0.5, model.specs),
      data,
    );
    tf.dispose(data);
    expect(result.ratio, result.where).toBeLessThan(1.2);
  });

  it('detects SP: the same MLP with one global SGD learning rate drifts by more than ×1.2', () => {
    const data = fixedBatch([32, 16], 10, 1);
    const result = runCheck(
      (width, seed) => createMlp({ inputSize: 16, width, baseWidth: 64, classes: 10, parameterization: 'sp', seed }),
      [64, 128, 256],
      () => tf.train.sgd(0.5),
      data,
    );
    tf.dispose(data);
    expect(result.ratio, result.where).toBeGreaterThan(1.3);
  });

  it('ResNet-18 width multipliers 0.125/0.25/0.5 on 8×8 images, µP-SGD', () => {
    const data = fixedBatch([8, 8, 8, 3], 10, 2);
    const result = runCheck(
      (widthMult, seed) =>
        createResnet18({ imageShape: [8, 8, 3], classes: 10, widthMult, baseWidthMult: 0.125, seed }),
      [0.125, 0.25, 0.5],
      (model) => muSgd(0.2, model.specs),
      data,
      SIX_SEEDS,
    );
    tf.dispose(data);
    expect(result.ratio, result.where).toBeLessThan(1.2);
    // About 4 s on wasm; the cpu backend's convolutions are plain JavaScript loops, ten times slower.
  }, 180_000);

  // Widths from 64: at width 32 (d_head 8) the logits still sit ~20% above their wide-width value, a
  // finite-width gap that shrinks with width (×1.23, then ×1.09 per doubling), unlike a µP error.
  it('ViT widths 64/128/256 (4 heads, depth 2) on 8×8 images, µP-Adam', () => {
    const data = fixedBatch([16, 8, 8, 3], 10, 3);
    const result = runCheck(
      (width, seed) => createVit({ imageShape: [8, 8, 3], classes: 10, width, baseWidth: 64, depth: 2, seed }),
      [64, 128, 256],
      (model) => muAdam(0.01, model.specs),
      data,
      SIX_SEEDS,
    );
    tf.dispose(data);
    expect(result.ratio, result.where).toBeLessThan(1.2);
  });
});
