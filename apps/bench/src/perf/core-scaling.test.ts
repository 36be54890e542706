import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { coreScalingLine, measureCoreScaling } from './core-scaling.js';

describe('measureCoreScaling', () => {
  it('reads about 1 for one loop against one loop, whatever the machine', async () => {
    const scaling = await measureCoreScaling({ threads: 1, rounds: 3, loopMs: 60 });
    expect(scaling.aloneMs).toBeGreaterThan(20);
    expect(scaling.ratio).toBeGreaterThan(0.75);
    expect(scaling.ratio).toBeLessThan(1.33);
  });

  it('reads at most the core count (with timing slack) for two loops together, and says so in one line', async () => {
    const scaling = await measureCoreScaling({ threads: 2, rounds: 3, loopMs: 60 });
    expect(scaling.threads).toBe(2);
    expect(scaling.ratio).toBeGreaterThan(0.5);
    expect(scaling.ratio).toBeLessThan(Math.min(2, availableParallelism()) * 1.15);
    expect(coreScalingLine(scaling)).toMatch(
      /^This machine: 2 threads of plain arithmetic ran at \d\.\d\d× one's throughput \(2\.00 on 2 whole cores\)/,
    );
  });
});
