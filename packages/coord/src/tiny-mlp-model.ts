import { createTinyMlp, float64Init, seededNormal, seededRandom } from '@mup2/core/testing';
import * as tf from '@tensorflow/tfjs-core';
import type { BuildContext, CoordBatch, CoordModel } from './coord-model.js';

/**
 * The tiny µP MLP of `@mup2/core/testing` (inputSize→n→n→3, a norm gain γ after the first layer, a
 * bias b2 on the second) as a CoordModel, with µP initialisation relative to `baseWidth`: the model
 * on which `deriveScaling` recovers the shipped rules' scalings, for deriving a new rule's.
 */
export function tinyMlpCoordModel(
  inputSize = 32,
  baseWidth = 64,
): (width: number, context: BuildContext) => CoordModel {
  return (width: number, context: BuildContext): CoordModel => {
    const shape = { inputSize, width, classes: 3 };
    // µP init (readout std / √(width/base)) for 'mup'; the standard one for 'sp'.
    const init = float64Init(
      shape,
      context.seed * 7919 + width,
      context.parameterization === 'mup' ? { baseWidth } : {},
    );
    const mlp = createTinyMlp(init, shape, baseWidth);
    return {
      specs: mlp.specs,
      loss: (x, labels) => mlp.loss(x as tf.Tensor2D, labels as tf.Tensor1D),
      measuredLayers: (x) => {
        const inputs = mlp.layerInputs(x as tf.Tensor2D);
        return [
          { variableName: mlp.variables.W1.name, kind: 'matmul', input: inputs.W1 },
          { variableName: mlp.variables.gamma.name, kind: 'scale', input: inputs.gamma },
          { variableName: mlp.variables.W2.name, kind: 'matmul', input: inputs.W2 },
          { variableName: mlp.variables.b2.name, kind: 'shift' },
          { variableName: mlp.variables.W3.name, kind: 'matmul', input: inputs.W3 },
        ];
      },
      dispose: () => mlp.dispose(),
    };
  };
}

/** Batch `index` of standard normal inputs [batch, inputSize] and uniform labels, the same at every width. */
export function gaussianBatches(inputSize = 32, batch = 64, classes = 3): (index: number) => CoordBatch {
  return (index: number): CoordBatch => {
    const normal = seededNormal(index + 1);
    const uniform = seededRandom(index + 101);
    return {
      x: tf.tensor2d(Float32Array.from({ length: batch * inputSize }, normal), [batch, inputSize]),
      y: tf.tensor1d(
        Array.from({ length: batch }, () => Math.floor(uniform() * classes)),
        'int32',
      ),
    };
  };
}
