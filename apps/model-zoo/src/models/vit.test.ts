import type { ParamSpec } from '@mup2/core';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createModel, VIT_HEADS, VIT_REFERENCE_WIDTH } from './create-model.js';
import { createVit } from './vit.js';

const imageShape = [8, 8, 3] as const;

function specOf(specs: readonly ParamSpec[], suffix: string): ParamSpec {
  const spec = specs.find((candidate) => candidate.variable.name.endsWith(`/${suffix}`));
  if (!spec) throw new Error(`no variable ending in ${suffix}`);
  return spec;
}

describe('createVit', () => {
  it('maps images to [batch, classes] logits with 4×4 patches, depth 2, width 16', () => {
    const model = createVit({ imageShape, classes: 7, width: 16, baseWidth: 16, depth: 2 });
    const shape = tf.tidy(() => model.apply(tf.randomNormal([3, 8, 8, 3])).shape);
    expect(shape).toEqual([3, 7]);
    // Patch embedding + bias, position, 2 × (2 LN × 2 + 4 × 2 attention + 2 × 2 MLP), final LN × 2, readout × 2.
    expect(model.trainableVariables).toHaveLength(2 + 1 + 2 * 16 + 2 + 2);
    expect(model.allVariables).toEqual(model.trainableVariables);
    model.dispose();
  });

  it.each([32, 64])('assigns µP roles from base width 32 at width %s', (width) => {
    const model = createVit({ imageShape, classes: 10, width, baseWidth: 32, depth: 1 });
    const r = width / 32;
    const expectSpec = (suffix: string, role: string, fanInMult: number, fanOutMult: number, norm = false) =>
      expect(specOf(model.specs, suffix)).toMatchObject({ role, fanInMult, fanOutMult, norm });
    expectSpec('patch/kernel', 'input', 1, r);
    expectSpec('position', 'input', 1, r);
    for (const projection of ['query', 'key', 'value', 'output']) {
      expectSpec(`block1/attention/${projection}/kernel`, 'hidden', r, r);
      expectSpec(`block1/attention/${projection}/bias`, 'vector', 1, r);
    }
    expectSpec('block1/mlp/fc1/kernel', 'hidden', r, r);
    expectSpec('block1/mlp/fc2/kernel', 'hidden', r, r);
    expectSpec('block1/mlp/fc1/bias', 'vector', 1, r);
    expectSpec('block1/ln1/gamma', 'vector', 1, r, true);
    expectSpec('final_ln/beta', 'vector', 1, r, true);
    expectSpec('readout/kernel', 'output', r, 1);
    expectSpec('readout/bias', 'vector', 1, 1);
    model.dispose();
  });

  it('µP starts the readout and the query weights at zero; SP does not', () => {
    const absMax = (spec: ParamSpec) => tf.tidy(() => tf.max(tf.abs(spec.variable)).dataSync()[0] as number);
    const mup = createVit({ imageShape, classes: 10, width: 32, depth: 1 });
    const sp = createVit({ imageShape, classes: 10, width: 32, depth: 1, parameterization: 'sp' });
    for (const suffix of ['readout/kernel', 'block1/attention/query/kernel']) {
      expect(absMax(specOf(mup.specs, suffix))).toBe(0);
      expect(absMax(specOf(sp.specs, suffix))).toBeGreaterThan(0);
    }
    expect(absMax(specOf(mup.specs, 'block1/attention/key/kernel'))).toBeGreaterThan(0);
    mup.dispose();
    sp.dispose();
  });

  it('µP scales attention logits by √(d_base)/d_head: equal to SP at the base width', () => {
    // With equal weights, SP and µP differ only in the attention scale; at the base width they coincide.
    const logits = (parameterization: 'mup' | 'sp', width: number, baseWidth: number) => {
      const model = createVit({
        imageShape,
        classes: 10,
        width,
        baseWidth,
        depth: 1,
        parameterization,
        readout: 'scaled',
        seed: 5,
      });
      const reference = createVit({
        imageShape,
        classes: 10,
        width,
        baseWidth,
        depth: 1,
        parameterization: 'sp',
        seed: 5,
      });
      model.trainableVariables.forEach((variable, i) =>
        variable.assign(reference.trainableVariables[i] as tf.Variable),
      );
      const values = tf.tidy(() =>
        Array.from(model.apply(tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 9)).dataSync()),
      );
      model.dispose();
      reference.dispose();
      return values;
    };
    expect(logits('mup', 32, 32)).toEqual(logits('sp', 32, 32));
    expect(logits('mup', 64, 32)).not.toEqual(logits('sp', 64, 32));
  });

  it('measures every trainable variable once, with inputs of the right widths', () => {
    const model = createVit({ imageShape, classes: 10, width: 16, depth: 2, seed: 1 });
    const x = tf.randomNormal([2, 8, 8, 3]);
    const before = tf.memory().numTensors;
    const layers = model.measuredLayers(x);
    expect(layers.map((layer) => layer.variableName).sort()).toEqual(
      model.trainableVariables.map((variable) => variable.name).sort(),
    );
    for (const layer of layers) {
      const variable = model.trainableVariables.find((candidate) => candidate.name === layer.variableName);
      if (layer.kind === 'matmul') expect(layer.input?.shape[1]).toBe(variable?.shape[0]);
      if (layer.kind === 'scale') expect(layer.input?.shape.at(-1)).toBe(variable?.shape[0]);
      if (layer.kind === 'shift') expect(layer.input).toBeUndefined();
    }
    const patchLayer = layers.find((layer) => layer.variableName.endsWith('/patch/kernel'));
    expect(patchLayer?.input?.shape).toEqual([2 * 4, 4 * 4 * 3]);
    tf.dispose(layers.map((layer) => layer.input ?? []));
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    model.dispose();
  });

  it('is registered in createModel: width 64·k in multiples of the heads, base width 384 by default', () => {
    const options = { model: 'vit', parameterization: 'mup', imageShape, classes: 10, seed: 0 } as const;
    const model = createModel({ ...options, widthMult: 0.5 });
    const patch = specOf(model.specs, 'patch/kernel');
    expect(patch.variable.shape).toEqual([48, VIT_REFERENCE_WIDTH / 2]);
    expect(patch.fanOutMult).toBeCloseTo(32 / 384, 10);
    model.dispose();
    const odd = createModel({ ...options, widthMult: 0.3, baseWidthMult: 0.5 });
    const width = specOf(odd.specs, 'patch/kernel').variable.shape[1] as number;
    expect(width % VIT_HEADS).toBe(0);
    expect(width).toBe(20);
    odd.dispose();
  });

  it('rejects images that do not split into patches and widths that do not split into heads', () => {
    expect(() => createVit({ imageShape: [10, 8, 3], classes: 10, width: 16 })).toThrow(/patches/);
    expect(() => createVit({ imageShape, classes: 10, width: 18 })).toThrow(/heads/);
  });
});
