import { createTinyMlp, float64Init, seededNormal, seededRandom } from '@mup2/core/testing';
import * as tf from '@tensorflow/tfjs';
import type { BuildContext, CoordBatch, CoordModel } from '../coord-model.js';

/** Test fixture: the core testing kit's tiny MLP inputSize→n→n→3 (norm gain γ after the first layer) as a CoordModel. */
export function tinyMlpModel(inputSize: number, baseWidth: number) {
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

/** Test fixture: batch `index` of Gaussian inputs and uniform labels, the same at every width. */
export function gaussianBatches(inputSize: number, batch = 32, classes = 3) {
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
