import * as tf from '@tensorflow/tfjs';
import { timeInterleaved } from './interleaved-timer.js';

export interface MatmulThroughput {
  /** GFLOP/s of a 128×1024 @ 1024×1024 matMul in its plain form and with each operand transposed. */
  readonly plain: number;
  readonly transposeA: number;
  readonly transposeB: number;
}

/** The backend's matmul speed in the three forms a dense layer's forward and backward passes use. */
export function measureMatmulThroughput(rounds = 10): MatmulThroughput {
  const [m, k, n] = [128, 1024, 1024];
  const a = tf.randomNormal([m, k]);
  const aT = tf.randomNormal([k, m]);
  const b = tf.randomNormal([k, n]);
  const bT = tf.randomNormal([n, k]);
  const run = (fn: () => tf.Tensor) => () => {
    const out = fn();
    out.dataSync();
    out.dispose();
  };
  const ms = timeInterleaved(
    {
      plain: run(() => tf.matMul(a, b)),
      transposeA: run(() => tf.matMul(aT, b, true, false)),
      transposeB: run(() => tf.matMul(a, bT, false, true)),
    },
    { warmup: 2, rounds },
  );
  tf.dispose([a, aT, b, bT]);
  const gflops = (milliseconds: number) => (2 * m * k * n) / (milliseconds * 1e6);
  return {
    plain: gflops(ms.plain as number),
    transposeA: gflops(ms.transposeA as number),
    transposeB: gflops(ms.transposeB as number),
  };
}
