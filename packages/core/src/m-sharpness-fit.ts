import type * as tf from '@tensorflow/tfjs-core';
import { InvalidOptionError } from './errors.js';
import { SamOptimizer } from './sam-optimizer.js';

/** The part of a tfjs-layers LayersModel this uses: the train function `fit`, `fitDataset` and `trainOnBatch` build per call. */
interface TrainableModel {
  makeTrainFunction(): (data: tf.Tensor[]) => tf.Scalar[];
  readonly optimizer: unknown;
  /** A tf.Sequential trains through the LayersModel it builds inside. */
  readonly model?: unknown;
  readonly add?: unknown;
  build?(...args: unknown[]): unknown;
}

const ENABLED = Symbol.for('@mup2/core/enableMSharpness');

/**
 * Makes `model.fit`, `model.fitDataset` and `model.trainOnBatch` run the m-sharpness of the
 * model's SamOptimizer (its `mSharpness` option), as tf-keras's SAM model does with
 * `num_batch_splits`: each batch is split into chunks of `mSharpness` examples along axis 0
 * (inputs, targets and sample weights alike), each chunk takes its own passes with tfjs-layers'
 * own loss, sample weights, regularizers and metrics, and the optimizer descends once along the
 * chunk-size-weighted mean of the chunks' directions (tf-keras sums them). BatchNorm statistics
 * follow `minimizeOnBatch`'s policy: every chunk's pass at w starts from the statistics before
 * the step, and they end as the chunks' weighted mean. The loss and metrics fit reports for a
 * batch are the chunks' weighted means, which for mean metrics are the batch's.
 *
 * Call it once, before or after `compile`; a model whose optimizer is not a SamOptimizer with
 * `mSharpness` trains as before. Returns the model. It relies on tfjs-layers' `makeTrainFunction`
 * (4.x), through which every training entry point of a LayersModel goes.
 */
export function enableMSharpness<Model extends object>(model: Model): Model {
  const target = model as unknown as TrainableModel;
  if (typeof target?.makeTrainFunction !== 'function') {
    throw new InvalidOptionError(
      `enableMSharpness: expected a tfjs-layers LayersModel (tf.sequential() or tf.model()), got ${String(model)}.`,
    );
  }
  if (typeof target.add === 'function' && typeof target.build === 'function') {
    // tf.Sequential delegates fit, fitDataset and trainOnBatch to a LayersModel that its build
    // makes anew (compile builds), so each one it builds is enabled.
    if (ENABLED in target) return model;
    const build = target.build;
    Object.defineProperty(target, 'build', {
      configurable: true,
      writable: true,
      value(this: TrainableModel, ...args: unknown[]) {
        const built = build.apply(this, args);
        if (typeof (this.model as TrainableModel | undefined)?.makeTrainFunction === 'function') {
          enableMSharpness(this.model as object);
        }
        return built;
      },
    });
    Object.defineProperty(target, ENABLED, { value: true });
    if (typeof (target.model as TrainableModel | undefined)?.makeTrainFunction === 'function') {
      enableMSharpness(target.model as object);
    }
    return model;
  }
  if (ENABLED in target) return model;
  const makeTrainFunction = target.makeTrainFunction;
  Object.defineProperty(target, 'makeTrainFunction', {
    configurable: true,
    writable: true,
    value(this: TrainableModel) {
      const train = makeTrainFunction.call(this);
      const optimizer = this.optimizer;
      if (!(optimizer instanceof SamOptimizer) || optimizer.mSharpness === undefined) return train;
      return (data: tf.Tensor[]) => optimizer.minimizeInChunks(data, train);
    },
  });
  Object.defineProperty(target, ENABLED, { value: true });
  return model;
}
