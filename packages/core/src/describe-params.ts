import type { Tensor, Variable } from '@tensorflow/tfjs-core';
import { InvalidOptionError, ShapeMismatchError } from './errors.js';
import { assertUsableVariable, type ParamSpec, roleFromShapes } from './param-spec.js';
import { recordGrowth } from './spec-growth.js';

/**
 * What describeParams reads of a tfjs-layers weight (a LayerVariable). Its
 * `read()` is typed as returning a Tensor, as LayerVariable's is; describeParams
 * checks that it is a tf.Variable at run time.
 */
export interface LayerWeightLike {
  read(): Tensor;
  readonly shape: readonly (number | null)[];
  readonly trainable: boolean;
}

/** What describeParams reads of a tfjs-layers layer or model. */
export interface LayerLike {
  getClassName(): string;
  readonly trainableWeights: readonly LayerWeightLike[];
  readonly layers?: readonly LayerLike[];
}

/** Layers whose weights are normalisation gains and offsets (SAM-ON's parameters). */
const NORM_LAYERS = new Set(['BatchNormalization', 'LayerNormalization']);

function normWeights(layer: LayerLike, found: Set<Tensor>): void {
  if (layer.layers && layer.layers.length > 0) {
    for (const inner of layer.layers) normWeights(inner, found);
    return;
  }
  if (NORM_LAYERS.has(layer.getClassName())) {
    for (const weight of layer.trainableWeights) found.add(weight.read());
  }
}

/**
 * ParamSpecs of every trainable weight of a tfjs-layers model, found as
 * microsoft/mup's `set_base_shapes` does: `baseModel` is the same architecture
 * at the base width, and a dimension that differs between the two grows with
 * width. Pass `deltaModel` (the architecture at a third width) when `model`
 * may be at the base width itself: then no dimension differs from the base,
 * and the delta tells which ones grow (mup's `delta` argument). Gains and
 * offsets of BatchNormalization / LayerNormalization layers are marked `norm`.
 * Weights are matched by position.
 */
export function describeParams(model: LayerLike, baseModel: LayerLike, deltaModel?: LayerLike): ParamSpec[] {
  const weights = model.trainableWeights;
  const baseWeights = baseModel.trainableWeights;
  if (weights.length === 0) {
    // An unbuilt model (no inputShape) has no weights yet; an empty list would make every later step fail far from here.
    throw new InvalidOptionError(
      'describeParams: the model has no trainable weights; expected a built model ' +
        '(give the first layer an inputShape, or call model.build(shape) or predict once).',
    );
  }
  if (weights.length !== baseWeights.length) {
    throw new ShapeMismatchError(
      `describeParams: the model has ${weights.length} trainable weights but the base model has ${baseWeights.length}; ` +
        'expected the same architecture at another width.',
    );
  }
  const deltaWeights = deltaModel?.trainableWeights;
  if (deltaWeights && deltaWeights.length !== weights.length) {
    throw new ShapeMismatchError(
      `describeParams: the model has ${weights.length} trainable weights but the delta model has ${deltaWeights.length}; ` +
        'expected the same architecture at another width.',
    );
  }
  if (baseModel === model || deltaModel === baseModel) {
    throw new InvalidOptionError(
      `describeParams: the ${baseModel === model ? 'base model is the model' : 'delta model is the base model'} itself, ` +
        'so no dimension can grow and every role would be wrong (the readout would come out as an input weight). ' +
        'Expected separate copies of the architecture: describeParams(model, build(baseWidth)), and when the model is ' +
        'at the base width, a delta at another width: describeParams(model, build(baseWidth), build(2 * baseWidth)).',
    );
  }
  const reference = deltaWeights ?? weights;
  const grows = reference.some((weight, index) =>
    weight.shape.some((size, axis) => size !== baseWeights[index]?.shape[axis]),
  );
  if (!grows) {
    throw new InvalidOptionError(
      `describeParams: every weight of the ${deltaWeights ? 'delta ' : ''}model has the shape of its base copy, so no ` +
        'dimension grows and every role would be wrong (the readout would come out as an input weight). Expected ' +
        'a base model at another width, or, when the model is at the base width, a delta model at another width: ' +
        "describeParams(model, build(baseWidth), build(2 * baseWidth)) (as mup's set_base_shapes with delta).",
    );
  }
  const norms = new Set<Tensor>();
  normWeights(model, norms);
  return weights.map((weight, index) => {
    const variable = weight.read() as Variable;
    assertUsableVariable(variable, 'describeParams');
    const base = baseWeights[index] as LayerWeightLike;
    const shape = weight.shape;
    const baseShape = base.shape;
    const deltaShape: readonly (number | null)[] | undefined = deltaWeights?.[index]?.shape;
    if ([shape, baseShape, deltaShape ?? []].some((dims) => dims.some((size) => size === null))) {
      throw new InvalidOptionError(
        `describeParams: weight '${variable.name}' has an unknown dimension; build the model first.`,
      );
    }
    const spec = {
      variable,
      norm: norms.has(variable),
      ...roleFromShapes(shape as number[], baseShape as number[], variable.name, deltaShape as number[] | undefined),
    };
    return recordGrowth(spec, shape as number[], baseShape as number[], deltaShape as number[] | undefined);
  });
}
