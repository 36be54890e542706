// Test fixture: float64 references for the heavy-ball kernels' tests (fused-kernels.test.ts,
// checked-momentum-kernel.test.ts), written from PyTorch's SGD with momentum, and the inputs the
// fused-kernel tests share.

/** Entries of one size that differ along the array, rounded to float32. */
export const values = (length: number, phase: number, scale = 3) =>
  Array.from({ length }, (_, i) => Math.fround(Math.sin(0.37 * i + phase) * scale));

/**
 * The largest difference between a kernel's [w′, v′] and one heavy-ball step in float64 from the
 * same float32 inputs: v′ = mu·v + g, w′ = w − lr·v′ (lr and mu as float32 scalars).
 */
export function heavyBallStepError(
  inputs: { w: number[]; v: number[]; g: number[]; lr: number; mu: number },
  next: ArrayLike<number>,
  velocity: ArrayLike<number>,
): number {
  const { w, v, g } = inputs;
  const [lr, mu] = [Math.fround(inputs.lr), Math.fround(inputs.mu)];
  let worst = 0;
  for (let i = 0; i < w.length; i++) {
    const expectedVelocity = mu * (v[i] as number) + (g[i] as number);
    const expectedNext = (w[i] as number) - lr * expectedVelocity;
    worst = Math.max(
      worst,
      Math.abs((velocity[i] as number) - expectedVelocity),
      Math.abs((next[i] as number) - expectedNext),
    );
  }
  return worst;
}

/**
 * The weights after heavy-ball SGD along `gradients` from `start`, in float64: the buffer starts at
 * the first gradient (PyTorch), then v ← mu·v + g; w ← w − lr·v each step.
 */
export function heavyBallWeights(start: readonly number[], gradients: readonly number[][], lr: number, mu: number) {
  const w = start.slice();
  const v = new Array<number>(start.length).fill(0);
  gradients.forEach((g, t) => {
    for (let i = 0; i < w.length; i++) {
      v[i] = t === 0 ? (g[i] as number) : mu * (v[i] as number) + (g[i] as number);
      w[i] = (w[i] as number) - lr * (v[i] as number);
    }
  });
  return w;
}

/** The largest |actual − expected| over the entries. */
export const largestDifference = (actual: ArrayLike<number>, expected: readonly number[]) =>
  expected.reduce((most, value, i) => Math.max(most, Math.abs((actual[i] as number) - value)), 0);
