import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { attachBaseShapes, BASE_SHAPES_METADATA_KEY, baseShapes, paramsFromBaseShapes } from './base-shapes.js';
import { describeParams } from './describe-params.js';
import { InvalidOptionError, ShapeMismatchError } from './errors.js';
import { type ParamSpec, paramSpecs } from './param-spec.js';

/** conv 3×3 → BN → dense(width) → dense(3): every role, a conv kernel whose window does not grow, norm parameters. */
function cnn(width: number): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [6, 6, 2], filters: width, kernelSize: 3, padding: 'same' }),
      tf.layers.batchNormalization(),
      tf.layers.flatten(),
      tf.layers.dense({ units: width }),
      tf.layers.dense({ units: 3 }),
    ],
  });
}

/** What a spec says, without its variable. */
const described = (specs: readonly ParamSpec[]) =>
  specs.map(({ role, fanInMult, fanOutMult, norm }) => ({ role, fanInMult, fanOutMult, norm }));

/** model.save and tf.loadLayersModel through memory: what a file or a browser store holds. */
async function saveAndLoad(model: tf.LayersModel): Promise<tf.LayersModel> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (saved) => {
      artifacts = saved;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  // What a file holds: model.json is JSON.
  const json = JSON.parse(JSON.stringify({ ...artifacts, weightData: undefined })) as tf.io.ModelArtifacts;
  return tf.loadLayersModel(tf.io.fromMemory({ ...json, weightData: artifacts?.weightData }));
}

describe('base shapes that travel with a model', () => {
  it('round-trip through model.save and loadLayersModel: the loaded model gets its params without the base model', async () => {
    const [model, base] = [cnn(16), cnn(4)];
    const params = describeParams(model, base);
    attachBaseShapes(model, params);
    const loaded = await saveAndLoad(model);
    expect((loaded.getUserDefinedMetadata() as Record<string, unknown>)[BASE_SHAPES_METADATA_KEY]).toBeDefined();
    const restored = paramsFromBaseShapes(loaded);
    expect(restored.map((spec) => spec.variable)).toEqual(loaded.trainableWeights.map((weight) => weight.read()));
    expect(described(restored)).toEqual(described(params));
    // And by hand, from the shapes: conv [3, 3, 2, 16] against [3, 3, 2, 4] is an input weight growing ×4, …
    expect(described(restored).slice(0, 1)).toEqual([{ role: 'input', fanInMult: 1, fanOutMult: 4, norm: false }]);
    for (const disposable of [model, base, loaded]) disposable.dispose();
  });

  it('give the params of the same architecture at any width, as describeParams with the base model does', () => {
    const [model, base, wider] = [cnn(8), cnn(4), cnn(32)];
    const saved = JSON.parse(JSON.stringify(baseShapes(describeParams(model, base))));
    expect(described(paramsFromBaseShapes(wider, saved))).toEqual(described(describeParams(wider, base)));
    for (const disposable of [model, base, wider]) disposable.dispose();
  });

  it('keep which dimensions grow when saved at the base width (with a delta), where every multiplier is 1', () => {
    const [atBase, base, delta, wider] = [cnn(4), cnn(4), cnn(8), cnn(12)];
    const saved = baseShapes(describeParams(atBase, base, delta));
    expect(saved.weights[0]?.baseShape).toEqual([null, null, null, 4]); // only the conv's filters grow
    expect(saved.weights.at(-1)?.baseShape).toEqual([null]); // the readout bias does not grow
    expect(described(paramsFromBaseShapes(wider, saved))).toEqual(described(describeParams(wider, base)));
    for (const disposable of [atBase, base, delta, wider]) disposable.dispose();
  });

  it("work for hand-built variables, as a JSON file like microsoft/mup's savefile", () => {
    const build = (width: number) => [
      tf.variable(tf.zeros([10, width]), true),
      tf.variable(tf.zeros([width, width]), true),
      tf.variable(tf.zeros([width]), true),
      tf.variable(tf.zeros([width, 3]), true),
    ];
    const [narrow, wide] = [build(8), build(24)];
    const specs = paramSpecs([
      { variable: narrow[0] as tf.Variable, baseShape: [10, 4] },
      { variable: narrow[1] as tf.Variable, baseShape: [4, 4] },
      { variable: narrow[2] as tf.Variable, baseShape: [4], norm: true },
      { variable: narrow[3] as tf.Variable, baseShape: [4, 3] },
    ]);
    const file = JSON.stringify(baseShapes(specs));
    const restored = paramsFromBaseShapes(wide, JSON.parse(file));
    expect(described(restored)).toEqual([
      { role: 'input', fanInMult: 1, fanOutMult: 6, norm: false },
      { role: 'hidden', fanInMult: 6, fanOutMult: 6, norm: false },
      { role: 'vector', fanInMult: 1, fanOutMult: 6, norm: true },
      { role: 'output', fanInMult: 6, fanOutMult: 1, norm: false },
    ]);
    // Specs given by role are saved from their role.
    const explicit = paramSpecs([{ variable: narrow[1] as tf.Variable, role: 'hidden', fanInMult: 2, fanOutMult: 2 }]);
    expect(baseShapes(explicit).weights[0]?.baseShape).toEqual([4, 4]);
    tf.dispose([...narrow, ...wide]);
  });

  it('refuse another architecture, naming the weight, and what is not base shapes', () => {
    const [model, base] = [cnn(8), cnn(4)];
    const saved = baseShapes(describeParams(model, base));
    const otherInput = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [6, 6, 3], filters: 8, kernelSize: 3, padding: 'same' }),
        tf.layers.batchNormalization(),
        tf.layers.flatten(),
        tf.layers.dense({ units: 8 }),
        tf.layers.dense({ units: 3 }),
      ],
    });
    expect(() => paramsFromBaseShapes(otherInput, saved)).toThrowError(ShapeMismatchError);
    expect(() => paramsFromBaseShapes(otherInput, saved)).toThrowError(/weight 0 .*\[3, 3, 3, 8\].*\[3, 3, 2, 8\]/);
    const shorter = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 8 })] });
    expect(() => paramsFromBaseShapes(shorter, saved)).toThrowError(/2 trainable weights here but 8/);
    expect(() => paramsFromBaseShapes(model, { format: 'something else' })).toThrowError(InvalidOptionError);
    expect(() => paramsFromBaseShapes(model)).toThrowError(/no 'mup2BaseShapes'.*attachBaseShapes/);
    for (const disposable of [model, base, otherInput, shorter]) disposable.dispose();
  });
});
