import { describe, expect, it } from 'vitest';
import { measureMemoryBandwidth, memoryBandwidthLine } from './memory-bandwidth.js';

describe('measureMemoryBandwidth', () => {
  it('counts the bytes read and written over the copy time: 2 · 8 MiB in 4 ms is 4.19 GB/s', () => {
    let clock = 0;
    // Each copy takes 4 ms on this clock, the first of each pair of readings being the start.
    let reading = 0;
    const now = () => {
      reading++;
      if (reading % 2 === 0) clock += 4;
      return clock;
    };
    const bandwidth = measureMemoryBandwidth({ bytes: 8 * 2 ** 20, rounds: 3, now });
    expect(bandwidth.bytes).toBe(8 * 2 ** 20);
    expect(bandwidth.gigabytesPerSecond).toBeCloseTo((2 * 8 * 2 ** 20) / 4e6, 10);
    expect(memoryBandwidthLine(bandwidth)).toBe(
      "This machine: one thread copied 8 MiB at 4.2 GB/s (read + write): what the step's bandwidth-bound kernels can reach.",
    );
  });

  it('takes the median of the rounds, so one slow copy does not move it', () => {
    const durations = [2, 2, 50, 2, 2];
    let reading = 0;
    let clock = 0;
    const now = () => {
      const value = clock;
      if (reading % 2 === 0) clock += durations[reading / 2] as number;
      reading++;
      return value;
    };
    const bandwidth = measureMemoryBandwidth({ bytes: 2 ** 20, rounds: 5, now });
    expect(bandwidth.gigabytesPerSecond).toBeCloseTo((2 * 2 ** 20) / 2e6, 10);
  });
});
