import * as tf from '@tensorflow/tfjs';
import { evaluationBatches } from '../datasets/batches.js';
import type { ImageDataset } from '../datasets/image-dataset.js';
import { softmaxCrossEntropy } from '../layers/log-softmax.js';
import type { ZooModel } from '../models/zoo-model.js';

export interface Evaluation {
  /** Fraction of the split classified correctly, in [0, 1]. */
  readonly accuracy: number;
  /** Mean softmax cross-entropy over the split. */
  readonly loss: number;
}

/** Accuracy and loss of the model on a split, in inference mode (BatchNorm uses its moving statistics). */
export async function evaluateAccuracy(
  model: ZooModel,
  dataset: ImageDataset,
  options: { batchSize: number; split?: 'train' | 'test' },
): Promise<Evaluation> {
  let correct = 0;
  let lossSum = 0;
  let count = 0;
  for (const { x, y } of evaluationBatches(dataset, options)) {
    const [hits, loss] = tf.tidy(() => {
      const logits = model.apply(x, { training: false });
      return [countCorrect(logits, y), tf.mul(softmaxCrossEntropy(logits, y), y.shape[0])];
    });
    const [hitsValue, lossValue] = await Promise.all([hits.data(), loss.data()]);
    correct += hitsValue[0] as number;
    lossSum += lossValue[0] as number;
    count += y.shape[0];
    tf.dispose([x, y, hits, loss]);
  }
  return { accuracy: count === 0 ? 0 : correct / count, loss: count === 0 ? 0 : lossSum / count };
}

/** How many rows of logits [batch, classes] have their largest entry at the label. */
export function countCorrect(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), tf.cast(labels, 'int32')), 'int32')));
}
