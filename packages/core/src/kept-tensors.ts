import * as tf from '@tensorflow/tfjs-core';

type Keep = <T extends tf.Tensor>(tensor: T) => T;

/** Runs `fn` while recording every tensor passed to the engine's keep, then hands them to `settle`. */
function recordingKeeps<T>(fn: () => T, settle: (kept: tf.Tensor[], failed: boolean) => void): T {
  const engine = tf.engine() as unknown as { keep: Keep };
  const kept: tf.Tensor[] = [];
  const ownKeep = Object.hasOwn(engine, 'keep') ? engine.keep : undefined;
  const originalKeep = engine.keep;
  engine.keep = <K extends tf.Tensor>(tensor: K): K => {
    kept.push(tensor);
    return originalKeep.call(engine, tensor) as K;
  };
  let failed = true;
  try {
    const result = fn();
    failed = false;
    return result;
  } finally {
    if (ownKeep === undefined) delete (engine as Partial<typeof engine>).keep;
    else engine.keep = ownKeep;
    settle(
      kept.filter((tensor) => !tensor.isDisposed),
      failed,
    );
  }
}

/**
 * The gradient tape keeps the tensors each op saves for the backward pass and
 * disposes them after backpropagation. When the loss closure throws, there is
 * no backward pass and tfjs-core leaves them kept for ever (as tf.Optimizer's
 * own minimize does). They are recorded here and disposed on failure.
 */
function disposeAll(kept: tf.Tensor[]): void {
  for (const tensor of kept) tensor.dispose();
}

/**
 * Runs `fn` (a gradient computation); on success its kept tensors stay kept,
 * and if it throws they are disposed (see disposeAll).
 */
export function withKeptTensorsDisposedOnError<T>(fn: () => T): T {
  return recordingKeeps(fn, (kept, failed) => {
    if (failed) disposeAll(kept);
  });
}

/**
 * Runs `fn` while recording the tensors it passes to tf.keep, then hands
 * those tensors back to the caller's tf.tidy scope instead of leaving them kept
 * (and disposes them if `fn` throws).
 *
 * Why: SamOptimizer calls the loss closure twice. tfjs-layers' model.fit
 * closure keeps one metric tensor per call and returns only those of the first
 * call, so the second call's kept metrics would leak on every batch. Tracked in
 * the caller's scope, they are disposed with it (fit's per-batch tidy); with no
 * scope (trainOnBatch, a bare loop) they are ordinary tensors the caller owns.
 */
export function withKeptTensorsReturnedToScope<T>(fn: () => T): T {
  const engine = tf.engine() as unknown as { track: Keep };
  return recordingKeeps(fn, (kept, failed) => {
    if (failed) return disposeAll(kept);
    for (const tensor of kept) {
      (tensor as { kept: boolean }).kept = false;
      engine.track(tensor);
    }
  });
}
