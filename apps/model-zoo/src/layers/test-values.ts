/** Deterministic, irregular test inputs (no RNG state shared between test files). */
export function testValues(count: number, seed: number, amplitude = 1): number[] {
  return Array.from(
    { length: count },
    (_, i) => amplitude * (Math.sin(seed * 7.13 + i * 1.71) + 0.3 * Math.cos(i * 0.37 + seed)),
  );
}

/** Largest absolute difference between two equally long lists. */
export function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`maxAbsDifference: lengths ${a.length} and ${b.length} differ.`);
  let largest = 0;
  for (let i = 0; i < a.length; i++) largest = Math.max(largest, Math.abs((a[i] as number) - (b[i] as number)));
  return largest;
}
