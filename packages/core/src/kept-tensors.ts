import * as tf from '@tensorflow/tfjs-core';

type Keep = <T extends tf.Tensor>(tensor: T) => T;

/**
 * Runs `fn` while recording the tensors it passes to tf.keep, then hands
 * those tensors back to the caller's tf.tidy scope instead of leaving them kept.
 *
 * Why: SamOptimizer calls the loss closure twice. tfjs-layers' model.fit
 * closure keeps one metric tensor per call and returns only those of the first
 * call, so the second call's kept metrics would leak on every batch. Tracked in
 * the caller's scope, they are disposed with it (fit's per-batch tidy); with no
 * scope (trainOnBatch, a bare loop) they are ordinary tensors the caller owns.
 */
export function withKeptTensorsReturnedToScope<T>(fn: () => T): T {
  const engine = tf.engine() as unknown as { keep: Keep; track: Keep };
  const kept: tf.Tensor[] = [];
  const ownKeep = Object.hasOwn(engine, 'keep') ? engine.keep : undefined;
  const originalKeep = engine.keep;
  engine.keep = <K extends tf.Tensor>(tensor: K): K => {
    kept.push(tensor);
    return originalKeep.call(engine, tensor) as K;
  };
  try {
    return fn();
  } finally {
    if (ownKeep === undefined) delete (engine as Partial<typeof engine>).keep;
    else engine.keep = ownKeep;
    for (const tensor of kept) {
      if (tensor.isDisposed) continue;
      (tensor as { kept: boolean }).kept = false;
      engine.track(tensor);
    }
  }
}
