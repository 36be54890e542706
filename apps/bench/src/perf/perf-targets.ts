import type { Figure1Throughput } from './figure1-throughput.js';
import type { ModelStepTimes } from './model-step-timings.js';
import { type PairedRatio, pairedRatio } from './paired-ratio.js';
import type { PeerComparison } from './peer-comparison.js';
import type { PeerTimes } from './peer-process.js';
import type { ModelPerf } from './perf-suite.js';

/** One performance target of the project's issues, as measured in one `bench perf` run. */
export interface PerfTarget {
  readonly label: string;
  /** The measured value; undefined when this run did not measure it (then `missing` says why). */
  readonly value: number | undefined;
  readonly bound: number;
  /** 'at-most': met when value ≤ bound; 'at-least': met when value ≥ bound. */
  readonly kind: 'at-most' | 'at-least';
  readonly missing?: string;
  /** Why this run's machine cannot decide it (then it is neither met nor not met). */
  readonly undecided?: string;
  /** What about the machine a reader needs next to the verdict. */
  readonly note?: string;
  /**
   * The value's confidence interval, where the value is a ratio of steps timed round by round in one
   * process: the verdict is met or not met only when the whole interval is on one side of the bound.
   */
  readonly interval?: Pick<PairedRatio, 'low' | 'high' | 'level' | 'rounds'>;
}

export const PERF_BOUNDS = {
  /** Our MLP step over JAX + optax (jit)'s at the same thread count, SGD and SAM. */
  overJax: 1.3,
  /** Our SAM step with 1 thread over the same with 2. */
  twoThreadSpeedup: 1.4,
  samOverSgd: 2.05,
  samOnOverSgd: 1.75,
  mup2OverNaive: 1.03,
  /** wasm's SGD step over tensorflow's, ViT and ResNet-18. */
  tensorflowOverWasm: 5,
  /** figure1 cells per hour with 2 workers over 1 worker's. */
  twoWorkerSpeedup: 1.6,
} as const;

/**
 * Below this speed-up of JAX's own jitted steps from 1 to 2 threads (the better of SGD and SAM),
 * the machine had no second core to speak of while the peers ran, and a comparison with JAX at 2
 * threads is not evidence either way. Fixed before the run it first applied to: on 2026-12-07
 * JAX's steps ran 0.98× as fast with 2 threads (PyTorch's 0.4×), where runs with a usable second
 * core read 1.57–1.76 (docs/performance-log.md).
 */
export const MIN_JAX_TWO_THREAD_SPEEDUP = 1.2;

export function isMet(target: PerfTarget): boolean | undefined {
  if (target.value === undefined || !Number.isFinite(target.value) || target.undecided !== undefined) return undefined;
  const within = (value: number) => (target.kind === 'at-most' ? value <= target.bound : value >= target.bound);
  if (target.interval === undefined) return within(target.value);
  const { low, high } = target.interval;
  if (within(low) && within(high)) return true;
  if (!within(low) && !within(high)) return false;
  return undefined;
}

/** "- label: 1.21 (target ≤ 1.3) met", "… undecided: why", or "… not measured (why)"; a note follows in brackets. */
export function targetLine(target: PerfTarget): string {
  const bound = `${target.kind === 'at-most' ? '≤' : '≥'} ${target.bound}`;
  const note = target.note ? ` [${target.note}]` : '';
  if (target.value === undefined || !Number.isFinite(target.value))
    return `- ${target.label}: not measured (target ${bound}${target.missing ? `; ${target.missing}` : ''})`;
  const interval =
    target.interval === undefined
      ? ''
      : `, ${Math.round(target.interval.level * 100)}% interval ${target.interval.low.toFixed(2)}–${target.interval.high.toFixed(2)} over ${target.interval.rounds} rounds`;
  const value = `- ${target.label}: ${target.value.toFixed(2)} (target ${bound}${interval})`;
  if (target.undecided !== undefined) return `${value} undecided: ${target.undecided}${note}`;
  const met = isMet(target);
  if (met === undefined) return `${value} undecided: the interval spans the bound${note}`;
  return `${value} ${met ? 'met' : 'NOT met'}${note}`;
}

const ratio = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined || b === 0 ? undefined : a / b;

/** SAM/SGD, SAM-ON/SGD and µP²/naive of every rule on the MLP; tensor growth of every model. */
export function suiteTargets(results: readonly ModelPerf[], rules: readonly string[]): PerfTarget[] {
  const targets: PerfTarget[] = [];
  const mlp = results.find((result) => result.model === 'mlp');
  if (mlp !== undefined) {
    const step = (name: string) => mlp.steps.find((entry) => entry.step === name);
    // Each round timed every step, so a ratio comes from the rounds' pairs with its interval; a
    // result without rounds (the step times alone) gives the ratio of the medians.
    const stepRatio = (
      label: string,
      numerator: string,
      denominator: string,
      bound: number,
    ): PerfTarget | undefined => {
      const [top, bottom] = [step(numerator), step(denominator)];
      if (top === undefined || bottom === undefined) return undefined;
      const paired =
        top.rounds !== undefined && bottom.rounds !== undefined ? pairedRatio(top.rounds, bottom.rounds) : undefined;
      if (paired === undefined)
        return { label, value: ratio(top.milliseconds, bottom.milliseconds), bound, kind: 'at-most' };
      const { value, ...interval } = paired;
      return { label, value, bound, kind: 'at-most', interval };
    };
    const wanted = [
      rules.includes('sam') && stepRatio('MLP SAM/SGD (mup2)', 'sam mup2', 'sgd', PERF_BOUNDS.samOverSgd),
      rules.includes('sam-on') && stepRatio('MLP SAM-ON/SGD (mup2)', 'sam-on mup2', 'sgd', PERF_BOUNDS.samOnOverSgd),
      ...rules.map((rule) =>
        stepRatio(`MLP ${rule} mup2/naive`, `${rule} mup2`, `${rule} naive`, PERF_BOUNDS.mup2OverNaive),
      ),
    ];
    for (const target of wanted) if (target) targets.push(target);
  }
  for (const result of results) {
    targets.push({
      label: `${result.label}: tensors left per step`,
      value: result.tensorGrowthPerStep,
      bound: 0,
      kind: 'at-most',
    });
  }
  return targets;
}

const threadsOf = (row: PeerTimes) => row.description.threads as number | undefined;

/** Ours on tensorflow against JAX + optax at each thread count, and our SAM step's gain from a second thread. */
export function peerTargets(comparison: PeerComparison, threadCounts: readonly number[]): PerfTarget[] {
  const timed = comparison.rows.filter((row) => !row.error);
  const ours = (threads: number) =>
    timed.find(
      (row) =>
        row.label.startsWith('mup2 tensorflow') && row.description.fusedKernels !== false && threadsOf(row) === threads,
    );
  const jax = (threads: number) =>
    timed.find((row) => row.description.framework === 'JAX + optax' && threadsOf(row) === threads);
  // How much JAX's own steps gained from a second thread: without a second core, 2-thread comparisons decide nothing.
  const jaxSpeedups = (['sgd', 'sam'] as const)
    .map((step) => ratio(jax(1)?.milliseconds[step], jax(2)?.milliseconds[step]))
    .filter((value): value is number => value !== undefined);
  const jaxSpeedup = jaxSpeedups.length > 0 ? Math.max(...jaxSpeedups) : undefined;
  const noSecondCore =
    jaxSpeedup !== undefined && jaxSpeedup < MIN_JAX_TWO_THREAD_SPEEDUP
      ? `JAX + optax's own steps ran ${jaxSpeedup.toFixed(2)}× as fast with 2 threads as with 1 ` +
        `(< ${MIN_JAX_TWO_THREAD_SPEEDUP}): this machine had no second core to speak of`
      : undefined;
  const targets: PerfTarget[] = [];
  for (const threads of threadCounts) {
    const plural = `${threads} thread${threads > 1 ? 's' : ''}`;
    const missing =
      ours(threads) === undefined
        ? 'our tensorflow row did not run'
        : jax(threads) === undefined
          ? 'the JAX peer did not run (--peer jax)'
          : undefined;
    for (const step of ['sgd', 'sam'] as const) {
      targets.push({
        label: `MLP ${step.toUpperCase()} step, tensorflow / JAX + optax (jit), ${plural}`,
        value: ratio(ours(threads)?.milliseconds[step], jax(threads)?.milliseconds[step]),
        bound: PERF_BOUNDS.overJax,
        kind: 'at-most',
        ...(missing !== undefined && { missing }),
        ...(threads > 1 && noSecondCore !== undefined && { undecided: noSecondCore }),
      });
    }
  }
  if (threadCounts.includes(1) && threadCounts.includes(2)) {
    targets.push({
      label: 'MLP SAM step on tensorflow, 1 thread / 2 threads',
      value: ratio(ours(1)?.milliseconds.sam, ours(2)?.milliseconds.sam),
      bound: PERF_BOUNDS.twoThreadSpeedup,
      kind: 'at-least',
      ...(noSecondCore !== undefined && { note: noSecondCore }),
    });
  }
  return targets;
}

/** wasm's SGD step over tensorflow's for ViT and ResNet-18. */
export function backendTargets(steps: readonly ModelStepTimes[]): PerfTarget[] {
  return steps
    .filter((entry) => entry.model === 'vit' || entry.model === 'resnet18')
    .map((entry) => ({
      label: `${entry.label} SGD step, wasm / tensorflow`,
      value: ratio(entry.milliseconds.wasm, entry.milliseconds.tensorflow),
      bound: PERF_BOUNDS.tensorflowOverWasm,
      kind: 'at-least' as const,
    }));
}

/** figure1 cells per hour with 2 workers over 1 worker's: the median of the rounds' ratios, with its interval. */
export function throughputTargets(runs: readonly Figure1Throughput[]): PerfTarget[] {
  const byRound = (workers: number) =>
    [...new Set(runs.map((run) => run.round))].map(
      (round) => runs.find((run) => run.round === round && run.workers === workers)?.cellsPerHour ?? Number.NaN,
    );
  const paired = pairedRatio(byRound(2), byRound(1));
  const one = runs.find((run) => run.workers === 1);
  const two = runs.find((run) => run.workers === 2);
  return [
    {
      label: 'figure1 cells per hour, 2 workers / 1 worker',
      value: paired?.value ?? ratio(two?.cellsPerHour, one?.cellsPerHour),
      bound: PERF_BOUNDS.twoWorkerSpeedup,
      kind: 'at-least',
      ...(paired !== undefined && { interval: paired }),
    },
  ];
}
