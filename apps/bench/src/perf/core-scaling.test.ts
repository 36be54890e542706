import { describe, expect, it } from 'vitest';
import { coreScalingLine, type LoopRunner, measureCoreScaling } from './core-scaling.js';

/** A machine whose loops run at `nsPerIteration`, `together` slower when several run at once; records the calls. */
function fakeMachine(nsPerIteration: number, slowdown: (copies: number) => number[]) {
  const calls: { copies: number; iterations: number }[] = [];
  const run: LoopRunner = async (copies, iterations) => {
    calls.push({ copies, iterations });
    return slowdown(copies).map((factor) => (iterations * nsPerIteration * factor) / 1e6);
  };
  return { run, calls };
}

describe('measureCoreScaling', () => {
  it('sizes the loops from a calibration run and reads throughput as threads × alone / the slowest together', async () => {
    // 2 M iterations take 4 ms here, so a 60 ms loop is 30 M iterations; two loops together take 1.25× and 1.6× as long.
    const machine = fakeMachine(2, (copies) => (copies === 1 ? [1] : [1.25, 1.6]));
    const scaling = await measureCoreScaling({ threads: 2, rounds: 3, loopMs: 60, run: machine.run });
    expect(machine.calls[0]).toEqual({ copies: 1, iterations: 2_000_000 });
    expect(machine.calls.slice(1)).toEqual(
      Array.from({ length: 3 }, () => [
        { copies: 1, iterations: 30_000_000 },
        { copies: 2, iterations: 30_000_000 },
      ]).flat(),
    );
    expect(scaling.threads).toBe(2);
    expect(scaling.aloneMs).toBeCloseTo(60, 9);
    expect(scaling.ratio).toBeCloseTo(2 / 1.6, 9);
  });

  it('takes the median over rounds, so one disturbed round does not move it', async () => {
    const together = [
      [1, 1],
      [3, 3],
      [1.1, 1.1],
    ];
    let round = 0;
    const run: LoopRunner = async (copies, iterations) =>
      copies === 1 ? [iterations / 1e6] : (together[round++] as number[]).map((f) => (iterations * f) / 1e6);
    const scaling = await measureCoreScaling({ threads: 2, rounds: 3, loopMs: 10, run });
    expect(scaling.ratio).toBeCloseTo(2 / 1.1, 9);
  });

  it('on worker threads gives a finite positive reading, and says so in one line', async () => {
    const scaling = await measureCoreScaling({ threads: 2, rounds: 1, loopMs: 30 });
    expect(scaling.threads).toBe(2);
    expect(scaling.aloneMs).toBeGreaterThan(0);
    expect(Number.isFinite(scaling.ratio) && scaling.ratio > 0).toBe(true);
    expect(coreScalingLine(scaling)).toMatch(
      /^This machine: 2 threads of plain arithmetic ran at \d+\.\d\d× one's throughput \(2\.00 on 2 whole cores\)/,
    );
  });
});
