import { InvalidOptionError } from '@mup2/core';

/** A uniform number generator in [0, 1), fully determined by its seed. */
export type UniformRandom = () => number;

export function assertSeed(seed: number, what = 'seed'): void {
  if (!Number.isSafeInteger(seed)) throw new InvalidOptionError(`${what} must be an integer, got ${seed}`);
}

/**
 * Mixes several integers into one 32-bit seed (the murmur3 finaliser), so that
 * (seed, epoch) pairs that differ in any part give unrelated streams.
 */
export function mixSeeds(...parts: number[]): number {
  let hash = 0x9e3779b9;
  for (const part of parts) {
    // Both 32-bit halves count, so seeds above 2^32 are not folded together.
    for (const word of [part >>> 0, Math.floor(part / 2 ** 32) >>> 0]) {
      hash = Math.imul(hash ^ word, 0x85ebca6b);
      hash ^= hash >>> 13;
      hash = Math.imul(hash, 0xc2b2ae35);
      hash ^= hash >>> 16;
    }
  }
  return hash >>> 0;
}

/** mulberry32: small, fast, and good enough for shuffling and augmentation; Math.random cannot be seeded. */
export function seededRandom(seed: number): UniformRandom {
  assertSeed(seed);
  let state = mixSeeds(seed);
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 0 … count−1 in an order drawn by Fisher–Yates from `random`. */
export function shuffledIndices(count: number, random: UniformRandom): Uint32Array {
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const kept = order[i]!;
    order[i] = order[j]!;
    order[j] = kept;
  }
  return order;
}
