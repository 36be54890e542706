import { SamOptimizer } from '@mup2/core';
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
 * With m-sharpness the batch goes to SamOptimizer.minimizeOnBatch, which splits it,
 * and the correct counts of the chunks' passes at w are added up. (An ε reuse step
 * has only the pass at w + ε: its loss and count are taken there.)
 */
export async function trainStep(model: ZooModel, optimizer: tf.Optimizer, { x, y }: Batch): Promise<StepOutcome> {
  const counts: tf.Scalar[] = [];
  let loss: tf.Scalar;
  if (optimizer instanceof SamOptimizer && optimizer.mSharpness !== undefined) {
    loss = optimizer.minimizeOnBatch(
      ([chunkX, chunkY], pass) => {
        const labels = chunkY as tf.Tensor1D;
        const logits = model.apply(chunkX as tf.Tensor, { training: true });
        if (!pass.perturbed) counts.push(tf.keep(countCorrect(logits, labels)));
        return softmaxCrossEntropy(logits, labels);
      },
      [x, y],
      true,
      model.trainableVariables,
    ) as tf.Scalar;
  } else {
    loss = optimizer.minimize(
      () => {
        const logits = model.apply(x, { training: true });
        if (counts.length === 0) counts.push(tf.keep(countCorrect(logits, y)));
        return softmaxCrossEntropy(logits, y);
      },
      true,
      model.trainableVariables,
    ) as tf.Scalar;
  }
  const correct = counts.length === 1 ? (counts[0] as tf.Scalar) : tf.tidy(() => tf.addN(counts) as tf.Scalar);
  const [lossValue, correctValue] = await Promise.all([loss.data(), correct.data()]);
  tf.dispose([loss, correct, ...counts]);
  return { loss: lossValue[0] as number, correct: correctValue[0] as number };
}
