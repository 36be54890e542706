import { type PerturbationScaling, paramSpecs } from '@mup2/core';
import { seededNormal } from '@mup2/core/testing';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { coordChart } from './coord-chart.js';
import { coordCheck } from './coord-check.js';
import type { CoordBatch, CoordModel } from './coord-model.js';
import { slopeTable } from './slope-table.js';
import { samRule } from './test-fixtures/sam-rule.js';
import { gaussianBatches, tinyMlpCoordModel as tinyMlpModel } from './tiny-mlp-model.js';

const rule = (scaling: PerturbationScaling) => samRule(0.1, scaling);

// A one-layer model z = x·W, W [inputs, width], softmax cross-entropy over `width` classes: small
// enough to follow every number by hand in float64.
const INPUTS = 5;
const BATCH = 6;
const weightsAt = (width: number) => Array.from({ length: INPUTS * width }, seededNormal(width));
const batchAt = (index: number) => ({
  x: Array.from({ length: BATCH * INPUTS }, seededNormal(100 + index)),
  labels: Array.from({ length: BATCH }, (_, row) => (row * 3 + index) % 4),
});

function linearModel(width: number): CoordModel {
  // tidy frees the initial value; the variable keeps its own copy.
  const weights = tf.tidy(() =>
    tf.variable(tf.tensor2d(weightsAt(width), [INPUTS, width]), true, `linear_w${width}/kernel`),
  );
  return {
    specs: paramSpecs([{ variable: weights, baseShape: [INPUTS, 4], deltaShape: [INPUTS, 8] }]),
    loss: (x, labels) =>
      tf.tidy(() =>
        tf.losses.softmaxCrossEntropy(tf.oneHot(labels as tf.Tensor1D, width), tf.matMul(x as tf.Tensor2D, weights)),
      ),
    measuredLayers: (x) => [{ variableName: weights.name, kind: 'matmul', input: tf.clone(x) }],
    dispose: () => weights.dispose(),
  };
}

/** ∂L/∂W of the mean softmax cross-entropy of x·W, in float64. */
function gradient(w: number[], width: number, x: number[], labels: number[]): number[] {
  const g = new Array<number>(INPUTS * width).fill(0);
  for (let b = 0; b < BATCH; b++) {
    const z = Array.from({ length: width }, (_, j) => {
      let sum = 0;
      for (let i = 0; i < INPUTS; i++) sum += (x[b * INPUTS + i] as number) * (w[i * width + j] as number);
      return sum;
    });
    const top = Math.max(...z);
    const e = z.map((value) => Math.exp(value - top));
    const total = e.reduce((sum, value) => sum + value, 0);
    for (let j = 0; j < width; j++) {
      const delta = (e[j] as number) / total - (j === labels[b] ? 1 : 0);
      for (let i = 0; i < INPUTS; i++)
        g[i * width + j] = (g[i * width + j] as number) + ((x[b * INPUTS + i] as number) * delta) / BATCH;
    }
  }
  return g;
}

/** RMS over the batch and outputs of x·M. */
function rmsOfProduct(x: number[], m: number[], width: number): number {
  let sum = 0;
  for (let b = 0; b < BATCH; b++)
    for (let j = 0; j < width; j++) {
      let value = 0;
      for (let i = 0; i < INPUTS; i++) value += (x[b * INPUTS + i] as number) * (m[i * width + j] as number);
      sum += value * value;
    }
  return Math.sqrt(sum / (BATCH * width));
}

const samPerturbation = (g: number[], rho: number) => {
  const norm = Math.sqrt(g.reduce((sum, value) => sum + value * value, 0));
  return g.map((value) => (rho * value) / (norm + 1e-12));
};

describe('coordCheck', () => {
  it('measures ε·x, Δw·x and w·x after a SAM step as a float64 computation by hand does (sp-naive, plain SGD)', async () => {
    const data = (index: number): CoordBatch => {
      const { x, labels } = batchAt(index);
      return { x: tf.tensor2d(x, [BATCH, INPUTS]), y: tf.tensor1d(labels, 'int32') };
    };
    const before = tf.memory().numTensors;
    const result = await coordCheck({
      model: (width) => linearModel(width),
      widths: [4, 8],
      rule,
      presets: ['sp-naive'],
      data,
      steps: 1,
      seeds: 1,
      learningRate: 0.5,
    });
    expect(tf.memory().numTensors).toBe(before);
    for (const width of [4, 8]) {
      const w0 = weightsAt(width);
      const first = batchAt(0);
      const second = batchAt(1);
      // SAM: ε at w0, the gradient at w0 + ε, one SGD step.
      const epsilon0 = samPerturbation(gradient(w0, width, first.x, first.labels), 0.1);
      const perturbed = w0.map((value, index) => value + (epsilon0[index] as number));
      const g = gradient(perturbed, width, first.x, first.labels);
      const w1 = w0.map((value, index) => value - 0.5 * (g[index] as number));
      const epsilon1 = samPerturbation(gradient(w1, width, second.x, second.labels), 0.1);
      const update = w1.map((value, index) => value - (w0[index] as number));
      const value = (quantity: string) =>
        result.rows.find((row) => row.width === width && row.quantity === quantity)?.value ?? Number.NaN;
      expect(value('perturbation')).toBeCloseTo(rmsOfProduct(second.x, epsilon1, width), 5);
      expect(value('update')).toBeCloseTo(rmsOfProduct(second.x, update, width), 5);
      expect(value('activation')).toBeCloseTo(rmsOfProduct(second.x, w1, width), 5);
      // b = 1 under 'naive': the normaliser term is ‖g‖² at w1.
      const g1 = gradient(w1, width, second.x, second.labels);
      expect(value('normTerm')).toBeCloseTo(
        g1.reduce((sum, entry) => sum + entry * entry, 0),
        5,
      );
    }
    const slope = result.slopes.find((entry) => entry.quantity === 'perturbation');
    expect(slope?.layer).toBe('kernel');
    expect(slope?.group).toBe('input W');
    expect(slope?.slope).toBeCloseTo(
      Math.log(
        (result.rows.find((row) => row.width === 8 && row.quantity === 'perturbation')?.value as number) /
          (result.rows.find((row) => row.width === 4 && row.quantity === 'perturbation')?.value as number),
      ) / Math.log(2),
      10,
    );
  });

  it("gives the paper's Table 1 on the tiny µP MLP: mup-global's input and hidden layers fade, mup2 is flat", async () => {
    const progress: string[] = [];
    const result = await coordCheck({
      model: tinyMlpModel(32, 64),
      widths: [64, 128, 256, 512],
      rule,
      data: gaussianBatches(32, 64),
      onProgress: (done, total, label) => progress.push(`${done}/${total} ${label}`),
    });
    expect(progress).toHaveLength(2 * 4 * 2);
    expect(progress.at(-1)).toBe('16/16 mup2 width 512 seed 2');
    const slope = (preset: string, layer: string) =>
      result.slopes.find(
        (entry) => entry.preset === preset && entry.layer === layer && entry.quantity === 'perturbation',
      );
    // µP-global: input and hidden slopes ≈ −2 and −1, readout ≈ 0 (docs/adding-a-rule.md, section 5, by hand).
    expect(slope('mup-global', 'W1')?.slope).toBeLessThan(-1.4);
    expect(slope('mup-global', 'W1')?.verdict).toBe('fading');
    expect(slope('mup-global', 'W2')?.slope).toBeLessThan(-0.6);
    expect(Math.abs(slope('mup-global', 'W3')?.slope ?? Number.NaN)).toBeLessThan(0.35);
    for (const layer of ['W1', 'gamma', 'W2', 'b2', 'W3']) {
      expect(Math.abs(slope('mup2', layer)?.slope ?? Number.NaN), layer).toBeLessThan(0.3);
      expect(slope('mup2', layer)?.verdict).toBe('flat');
    }
    const table = slopeTable(result);
    expect(table.split('\n')[0]).toBe('| preset | input W | hidden W | output W | norm gain | bias |');
    expect(table).toMatch(/^\| mup2 \| -?0\.\d\d\*? \|/m);
  });

  it('charts one line per layer and preset, leaving out a layer whose quantity is round-off', () => {
    const row = (layer: string, width: number, value: number) => ({
      preset: 'mup2',
      width,
      layer,
      group: 'bias',
      role: 'vector' as const,
      quantity: 'perturbation' as const,
      value,
    });
    const spec = coordChart(
      {
        presets: ['mup2'],
        rows: [row('a', 8, 1), row('a', 16, 1), row('key/bias', 8, 1e-17), row('key/bias', 16, 1e-18)],
        slopes: [{ preset: 'mup2', layer: 'key/bias', quantity: 'perturbation', negligible: true }],
      },
      { title: 't' },
    ) as { title: string; data: { values: Array<{ layer: string }> } };
    expect(spec.title).toBe('t');
    expect(spec.data.values.map((value) => value.layer)).toEqual(['a', 'a']);
  });

  it('names a bad argument', async () => {
    const base = { model: tinyMlpModel(32, 64), rule, data: gaussianBatches(32) };
    await expect(coordCheck({ ...base, widths: [64, 64] })).rejects.toThrowError(/widths must differ, got \[64,64\]/);
    await expect(coordCheck({ ...base, widths: [64, 128], presets: ['mup3' as 'mup2'] })).rejects.toThrowError(
      /unknown preset "mup3"/,
    );
    await expect(coordCheck({ ...base, widths: [64, 128], seeds: 0 })).rejects.toThrowError(
      /seeds must be a positive integer, got 0/,
    );
  });
});
