import { median } from './median.js';

/**
 * What one thread of this machine moves through memory: a copy of `bytes` between two buffers far
 * larger than any cache, as GB/s of bytes read plus bytes written, median of `rounds` copies. On our
 * VMs it has varied about 2× over a day (memory shared with other tenants), and the step's
 * bandwidth-bound kernels (the momentum update, the ascent's move) with it, where the arithmetic
 * loop of core-scaling.ts did not move: printed next to the matMul figure so that runs on different
 * days can be told apart (docs/performance-log.md).
 */
export interface MemoryBandwidth {
  readonly bytes: number;
  /** (bytes read + bytes written) / time, in GB/s (10⁹ bytes per second), median of the rounds. */
  readonly gigabytesPerSecond: number;
}

export function measureMemoryBandwidth(
  options: { bytes?: number; rounds?: number; now?: () => number } = {},
): MemoryBandwidth {
  const bytes = options.bytes ?? 64 * 1024 * 1024;
  const rounds = options.rounds ?? 9;
  const now = options.now ?? (() => performance.now());
  const source = new Float64Array(Math.ceil(bytes / 8)).fill(1);
  const target = new Float64Array(source.length);
  target.set(source); // both buffers touched before timing
  const rates: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const start = now();
    target.set(source);
    const milliseconds = now() - start;
    rates.push((2 * source.byteLength) / (Math.max(milliseconds, 1e-6) * 1e6));
  }
  return { bytes: source.byteLength, gigabytesPerSecond: median(rates) };
}

/** One line for the perf output. */
export function memoryBandwidthLine(bandwidth: MemoryBandwidth): string {
  return (
    `This machine: one thread copied ${Math.round(bandwidth.bytes / 2 ** 20)} MiB at ` +
    `${bandwidth.gigabytesPerSecond.toFixed(1)} GB/s (read + write): what the step's bandwidth-bound kernels can reach.`
  );
}
