import { median } from './median.js';

/** Each timed sample lasts about this long (several calls of a fast step), and holds at most this many calls. */
export const SAMPLE_MS = 100;
export const MAX_CALLS_PER_SAMPLE = 20;

/** Calls per sample for a step whose call took `milliseconds` in the warm-up: about SAMPLE_MS of them. */
export function callsPerSample(milliseconds: number): number {
  return Math.max(1, Math.min(MAX_CALLS_PER_SAMPLE, Math.ceil(SAMPLE_MS / Math.max(milliseconds, 1e-3))));
}

/** Milliseconds per call over `count` consecutive calls of `step`. */
export function msPerCall(step: () => void, count: number): number {
  const start = performance.now();
  for (let call = 0; call < count; call++) step();
  return (performance.now() - start) / count;
}

/**
 * Times several step functions in one process, interleaved round by round after a warm-up, so
 * that drift of the machine (other load, thermal state) hits all of them alike; reports the
 * median per call of each. A sample is as many calls as last about SAMPLE_MS (sized from the
 * last warm-up round), and each round starts one step further on: with one short call per step
 * in a fixed order, V8's collections, whose timing repeats with the rounds' allocations, fell on
 * the same step every round (two steps identical by construction read 0.85–0.91 of each other).
 * `onRound` hears of each round done, warm-up rounds included.
 */
export function timeInterleaved(
  steps: Record<string, () => void>,
  options: { warmup: number; rounds: number; onRound?: (done: number, total: number) => void },
): Record<string, number> {
  const samples = sampleInterleaved(steps, options);
  return Object.fromEntries(Object.entries(samples).map(([name, values]) => [name, median(values)]));
}

/** timeInterleaved's samples, milliseconds per call: entry r of every step's list comes from timed round r. */
export function sampleInterleaved(
  steps: Record<string, () => void>,
  options: { warmup: number; rounds: number; onRound?: (done: number, total: number) => void },
): Record<string, number[]> {
  const names = Object.keys(steps);
  const total = options.warmup + options.rounds;
  const calls = names.map(() => 1);
  const samples = names.map(() => [] as number[]);
  for (let round = 0; round < total; round++) {
    for (let offset = 0; offset < names.length; offset++) {
      const index = (offset + round) % names.length;
      const step = steps[names[index] as string] as () => void;
      const perCall = msPerCall(step, calls[index] as number);
      if (round >= options.warmup) samples[index]?.push(perCall);
      else calls[index] = callsPerSample(perCall);
    }
    options.onRound?.(round + 1, total);
  }
  return Object.fromEntries(names.map((name, index) => [name, samples[index] ?? []]));
}
