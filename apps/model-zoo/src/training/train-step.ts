import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../datasets/batches.js';
import { softmaxCrossEntropy } from '../layers/log-softmax.js';
import type { ZooModel } from '../models/zoo-model.js';
import { countCorrect } from './evaluate-accuracy.js';

/** Loss and correct count of one step, read back from the device. */
export interface StepOutcome {
  readonly loss: number;
  readonly correct: number;
}

/**
 * One optimizer step on a batch. The loss and the correct count are those of
 * the first forward pass, at the weights before the step (SamOptimizer calls
 * the closure twice; the second pass, at w + ε, is not what the model predicts).
 */
export async function trainStep(model: ZooModel, optimizer: tf.Optimizer, { x, y }: Batch): Promise<StepOutcome> {
  let correct: tf.Scalar | undefined;
  const loss = optimizer.minimize(
    () => {
      const logits = model.apply(x, { training: true });
      if (correct === undefined) correct = tf.keep(countCorrect(logits, y));
      return softmaxCrossEntropy(logits, y);
    },
    true,
    model.trainableVariables,
  ) as tf.Scalar;
  const [lossValue, correctValue] = await Promise.all([loss.data(), (correct as tf.Scalar).data()]);
  tf.dispose([loss, correct as tf.Scalar]);
  return { loss: lossValue[0] as number, correct: correctValue[0] as number };
}
