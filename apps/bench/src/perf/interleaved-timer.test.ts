import { describe, expect, it } from 'vitest';
import { callsPerSample, MAX_CALLS_PER_SAMPLE, SAMPLE_MS, timeInterleaved } from './interleaved-timer.js';

/** Busy-waits about `ms` milliseconds (the timer reads performance.now, so sleeping would not do). */
const busy = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

describe('timeInterleaved', () => {
  it('sizes each sample to about SAMPLE_MS from the warm-up, within 1 and MAX_CALLS_PER_SAMPLE calls', () => {
    expect(callsPerSample(SAMPLE_MS * 3)).toBe(1);
    expect(callsPerSample(SAMPLE_MS / 4)).toBe(4);
    expect(callsPerSample(0)).toBe(MAX_CALLS_PER_SAMPLE);
  });

  it('takes the steps in a rotated order each round, and reports the median time per call', () => {
    const calls: string[] = [];
    const times = timeInterleaved(
      {
        slow: () => {
          calls.push('slow');
          busy(SAMPLE_MS * 1.2);
        },
        fast: () => {
          calls.push('fast');
          busy(SAMPLE_MS / 5);
        },
      },
      { warmup: 1, rounds: 2 },
    );
    // Warm-up: one call each (slow, fast); then the fast step takes ~5 calls per sample (fewer on a
    // loaded machine), and round 1 starts with it, round 2 with the slow one.
    const perSample = calls.lastIndexOf('slow') === calls.length - 1 ? 0 : calls.length - calls.lastIndexOf('slow') - 1;
    expect(perSample).toBeGreaterThanOrEqual(3);
    expect(perSample).toBeLessThanOrEqual(5);
    const fastRun = Array<string>(perSample).fill('fast');
    expect(calls).toEqual(['slow', 'fast', ...fastRun, 'slow', 'slow', ...fastRun]);
    expect(times.slow).toBeGreaterThanOrEqual(SAMPLE_MS * 1.2);
    expect(times.fast).toBeGreaterThanOrEqual(SAMPLE_MS / 5);
    expect(times.fast).toBeLessThan(SAMPLE_MS / 2);
  });
});
