import { median } from './median.js';

/**
 * Times several step functions in one process, interleaved round by round
 * after a warm-up, so that drift of the machine (other load, thermal state)
 * hits all of them alike; reports the median of each. `onRound` hears of
 * each round done, warm-up rounds included.
 */
export function timeInterleaved(
  steps: Record<string, () => void>,
  options: { warmup: number; rounds: number; onRound?: (done: number, total: number) => void },
): Record<string, number> {
  const names = Object.keys(steps);
  const total = options.warmup + options.rounds;
  for (let round = 0; round < options.warmup; round++) {
    for (const name of names) steps[name]?.();
    options.onRound?.(round + 1, total);
  }
  const samples: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 0; round < options.rounds; round++) {
    for (const name of names) {
      const start = performance.now();
      steps[name]?.();
      samples[name]?.push(performance.now() - start);
    }
    options.onRound?.(options.warmup + round + 1, total);
  }
  return Object.fromEntries(names.map((name) => [name, median(samples[name] ?? [])]));
}
