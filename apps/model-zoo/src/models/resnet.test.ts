import type { ParamSpec } from '@mup2/core';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createModel } from './create-model.js';
import { createResnet18 } from './resnet.js';

const imageShape = [8, 8, 3] as const;

/** The spec of the variable whose name ends with `suffix`. */
function specOf(specs: readonly ParamSpec[], suffix: string): ParamSpec {
  const spec = specs.find((candidate) => candidate.variable.name.endsWith(`/${suffix}`));
  if (!spec) throw new Error(`no variable ending in ${suffix}`);
  return spec;
}

describe('createResnet18', () => {
  it('maps [batch, 8, 8, 3] images (and flat ones) to [batch, classes] logits', () => {
    const model = createResnet18({ imageShape, classes: 10, widthMult: 0.0625, baseWidthMult: 0.0625 });
    const shapes = tf.tidy(() => [
      model.apply(tf.randomNormal([3, 8, 8, 3])).shape,
      model.apply(tf.randomNormal([2, 8 * 8 * 3]), { training: true }).shape,
    ]);
    expect(shapes).toEqual([
      [3, 10],
      [2, 10],
    ]);
    model.dispose();
  });

  it('has ResNet-18 structure: 20 convs (17 3×3 + 3 projections), 64k…512k channels, BN on each', () => {
    const model = createResnet18({ imageShape, classes: 10, widthMult: 0.125, baseWidthMult: 0.125 });
    const kernels = model.specs.filter((spec) => spec.variable.shape.length === 4).map((spec) => spec.variable.shape);
    expect(kernels).toHaveLength(20);
    expect(kernels.filter((shape) => shape[0] === 1)).toHaveLength(3);
    expect(kernels[0]).toEqual([3, 3, 3, 8]);
    expect(kernels.at(-1)).toEqual([3, 3, 64, 64]);
    expect(model.specs.filter((spec) => spec.norm)).toHaveLength(40);
    // Trainable: 20 kernels, 40 BN gains/offsets, readout kernel and bias; state: 40 moving statistics.
    expect(model.trainableVariables).toHaveLength(62);
    expect(model.allVariables).toHaveLength(102);
    expect(model.allVariables.filter((variable) => !variable.trainable)).toHaveLength(40);
    model.dispose();
  });

  it.each([0.0625, 0.125])('assigns µP roles from the base width 0.0625 at width multiplier %s', (widthMult) => {
    const model = createResnet18({ imageShape, classes: 10, widthMult, baseWidthMult: 0.0625 });
    const r = widthMult / 0.0625;
    const expectSpec = (suffix: string, role: string, fanInMult: number, fanOutMult: number, norm = false) =>
      expect(specOf(model.specs, suffix)).toMatchObject({ role, fanInMult, fanOutMult, norm });
    expectSpec('stem/kernel', 'input', 1, r);
    expectSpec('stage1/block1/conv1/kernel', 'hidden', r, r);
    expectSpec('stage2/block1/shortcut/kernel', 'hidden', r, r);
    expectSpec('stage4/block2/conv2/kernel', 'hidden', r, r);
    expectSpec('readout/kernel', 'output', r, 1);
    expectSpec('stem/bn/gamma', 'vector', 1, r, true);
    expectSpec('stage3/block1/conv1/bn/beta', 'vector', 1, r, true);
    expectSpec('readout/bias', 'vector', 1, 1);
    const roles = new Set(model.specs.map((spec) => spec.role));
    expect([...roles].sort()).toEqual(['hidden', 'input', 'output', 'vector']);
    model.dispose();
  });

  it('starts the µP readout at zero and the SP one Glorot-uniform; convs He-normal', () => {
    const mup = createResnet18({ imageShape, classes: 10, widthMult: 0.125, parameterization: 'mup', seed: 3 });
    const sp = createResnet18({ imageShape, classes: 10, widthMult: 0.125, parameterization: 'sp', seed: 3 });
    const readoutAbsMax = (model: typeof mup) =>
      tf.tidy(() => tf.max(tf.abs(specOf(model.specs, 'readout/kernel').variable)).dataSync()[0] as number);
    expect(readoutAbsMax(mup)).toBe(0);
    const limit = Math.sqrt(6 / (64 + 10));
    expect(readoutAbsMax(sp)).toBeGreaterThan(0.5 * limit);
    expect(readoutAbsMax(sp)).toBeLessThanOrEqual(limit);
    const kernel = specOf(sp.specs, 'stage2/block1/conv2/kernel').variable;
    const std = tf.tidy(() => Math.sqrt(tf.moments(kernel).variance.dataSync()[0] as number));
    expect(std / Math.sqrt(2 / (9 * 16))).toBeCloseTo(1, 1);
    mup.dispose();
    sp.dispose();
  });

  it('updates BN moving statistics in training mode only, and infers with them', () => {
    const model = createResnet18({ imageShape, classes: 10, widthMult: 0.0625, parameterization: 'sp', seed: 1 });
    const statistics = () => model.allVariables.filter((variable) => !variable.trainable);
    const snapshot = () => statistics().map((variable) => Array.from(variable.dataSync()));
    const x = tf.randomNormal([4, 8, 8, 3], 1, 2, 'float32', 7);
    const initial = snapshot();
    tf.dispose(model.apply(x));
    tf.dispose(model.measuredLayers(x).map((layer) => layer.input ?? []));
    expect(snapshot()).toEqual(initial);
    tf.dispose(model.apply(x, { training: true }));
    expect(snapshot()).not.toEqual(initial);
    // Inference no longer matches training mode's batch normalisation, but is deterministic.
    const [first, second] = [model.apply(x), model.apply(x)];
    expect(Array.from(first.dataSync())).toEqual(Array.from(second.dataSync()));
    tf.dispose([first, second, x]);
    model.dispose();
  });

  it('measures every trainable variable once: convs on their image input, BN gains on x̂, offsets as shifts', () => {
    const model = createResnet18({ imageShape, classes: 10, widthMult: 0.0625, seed: 2 });
    const x = tf.randomNormal([2, 8, 8, 3]);
    const before = tf.memory().numTensors;
    const layers = model.measuredLayers(x);
    expect(layers.map((layer) => layer.variableName).sort()).toEqual(
      model.trainableVariables.map((variable) => variable.name).sort(),
    );
    for (const layer of layers) {
      const variable = model.trainableVariables.find((candidate) => candidate.name === layer.variableName);
      const shape = variable?.shape ?? [];
      if (layer.kind === 'conv2d') {
        expect(layer.input?.shape.at(-1)).toBe(shape[2]);
        expect(layer.conv?.padding).toBe('same');
      } else if (layer.kind === 'matmul') {
        expect(layer.input?.shape[1]).toBe(shape[0]);
      } else if (layer.kind === 'scale') {
        expect(layer.input?.shape.at(-1)).toBe(shape[0]);
      } else {
        expect(layer.input).toBeUndefined();
      }
    }
    // The stem sees the images; stage 2 starts with a stride-2 conv on stage 1's 8×8 maps of 4 channels.
    expect(layers[0]?.input?.shape).toEqual([2, 8, 8, 3]);
    const stage2 = layers.find((layer) => layer.variableName.endsWith('stage2/block1/conv1/kernel'));
    expect(stage2?.input?.shape).toEqual([2, 8, 8, 4]);
    expect(stage2?.conv?.strides).toBe(2);
    tf.dispose(layers.map((layer) => layer.input ?? []));
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    model.dispose();
  });

  it('is registered in createModel with widthMult and baseWidthMult (default 0.5)', () => {
    const options = { model: 'resnet18', parameterization: 'mup', imageShape, classes: 10, seed: 0 } as const;
    const model = createModel({ ...options, widthMult: 0.0625 });
    expect(specOf(model.specs, 'stem/kernel')).toMatchObject({ role: 'input', fanOutMult: 0.125 });
    model.dispose();
    const atBase = createModel({ ...options, widthMult: 0.0625, baseWidthMult: 0.0625 });
    expect(specOf(atBase.specs, 'stage1/block1/conv1/kernel')).toMatchObject({ role: 'hidden', fanInMult: 1 });
    atBase.dispose();
  });

  it('leaves no tensors behind after dispose', () => {
    const before = tf.memory().numTensors;
    createResnet18({ imageShape, classes: 10, widthMult: 0.0625 }).dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
