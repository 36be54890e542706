import { describe, expect, it } from 'vitest';
import type { PeerComparison } from './peer-comparison.js';
import type { PeerTimes } from './peer-process.js';
import type { ModelPerf } from './perf-suite.js';
import { backendTargets, isMet, peerTargets, suiteTargets, targetLine, throughputTargets } from './perf-targets.js';

const peer = (label: string, framework: string, threads: number, sgd: number, sam: number): PeerTimes => ({
  label,
  description: { framework, threads },
  milliseconds: { sgd, sam },
});

describe('bench perf targets', () => {
  it('compares our tensorflow rows with JAX at each thread count, and our 1-thread SAM with our 2-thread SAM', () => {
    const comparison: PeerComparison = {
      rounds: 3,
      rows: [
        peer('mup2 wasm (1 thread)', 'mup2 (TF.js)', 1, 70, 140),
        peer('mup2 tensorflow, 1 thread', 'mup2 (TF.js)', 1, 15, 26),
        peer('mup2 tensorflow, 2 threads', 'mup2 (TF.js)', 2, 10, 20),
        peer('JAX + optax, 1 thread', 'JAX + optax', 1, 12, 18),
        peer('JAX + optax, 2 threads', 'JAX + optax', 2, 7, 16),
        { label: 'PyTorch, 1 thread', error: 'no torch', description: {}, milliseconds: {} },
      ],
    };
    const lines = peerTargets(comparison, [1, 2]).map(targetLine);
    expect(lines).toEqual([
      '- MLP SGD step, tensorflow / JAX + optax (jit), 1 thread: 1.25 (target ≤ 1.3) met',
      '- MLP SAM step, tensorflow / JAX + optax (jit), 1 thread: 1.44 (target ≤ 1.3) NOT met',
      '- MLP SGD step, tensorflow / JAX + optax (jit), 2 threads: 1.43 (target ≤ 1.3) NOT met',
      '- MLP SAM step, tensorflow / JAX + optax (jit), 2 threads: 1.25 (target ≤ 1.3) met',
      '- MLP SAM step on tensorflow, 1 thread / 2 threads: 1.30 (target ≥ 1.4) NOT met',
    ]);
  });

  it('reads the rows with the fused kernels, never their without-fused comparison rows', () => {
    const without = (label: string, threads: number, sgd: number, sam: number): PeerTimes => ({
      label: `${label}, without fused kernels`,
      description: { framework: 'mup2 (TF.js)', threads, fusedKernels: false },
      milliseconds: { sgd, sam },
    });
    const comparison: PeerComparison = {
      rounds: 3,
      rows: [
        without('mup2 tensorflow, 1 thread', 1, 30, 60),
        peer('mup2 tensorflow, 1 thread', 'mup2 (TF.js)', 1, 15, 26),
        peer('JAX + optax, 1 thread', 'JAX + optax', 1, 12, 18),
      ],
    };
    expect(peerTargets(comparison, [1]).map(targetLine)).toEqual([
      '- MLP SGD step, tensorflow / JAX + optax (jit), 1 thread: 1.25 (target ≤ 1.3) met',
      '- MLP SAM step, tensorflow / JAX + optax (jit), 1 thread: 1.44 (target ≤ 1.3) NOT met',
    ]);
  });

  it('leaves the 2-thread comparisons with JAX undecided when JAX itself gained nothing from a second thread, and says so', () => {
    const comparison: PeerComparison = {
      rounds: 3,
      rows: [
        peer('mup2 tensorflow, 1 thread', 'mup2 (TF.js)', 1, 18.4, 38.1),
        peer('mup2 tensorflow, 2 threads', 'mup2 (TF.js)', 2, 18, 35.1),
        peer('JAX + optax, 1 thread', 'JAX + optax', 1, 15.7, 29.6),
        peer('JAX + optax, 2 threads', 'JAX + optax', 2, 16.1, 30.1),
      ],
    };
    const targets = peerTargets(comparison, [1, 2]);
    const why =
      "JAX + optax's own steps ran 0.98× as fast with 2 threads as with 1 (< 1.2): this machine had no second core to speak of";
    expect(targets.map(targetLine)).toEqual([
      '- MLP SGD step, tensorflow / JAX + optax (jit), 1 thread: 1.17 (target ≤ 1.3) met',
      '- MLP SAM step, tensorflow / JAX + optax (jit), 1 thread: 1.29 (target ≤ 1.3) met',
      `- MLP SGD step, tensorflow / JAX + optax (jit), 2 threads: 1.12 (target ≤ 1.3) undecided: ${why}`,
      `- MLP SAM step, tensorflow / JAX + optax (jit), 2 threads: 1.17 (target ≤ 1.3) undecided: ${why}`,
      `- MLP SAM step on tensorflow, 1 thread / 2 threads: 1.09 (target ≥ 1.4) NOT met [${why}]`,
    ]);
    expect(targets.map(isMet)).toEqual([true, true, undefined, undefined, false]);
  });

  it('says what was not measured, and why', () => {
    const comparison: PeerComparison = {
      rounds: 1,
      rows: [peer('mup2 tensorflow, 1 thread', 'mup2 (TF.js)', 1, 15, 26)],
    };
    expect(targetLine(peerTargets(comparison, [1])[0] as never)).toBe(
      '- MLP SGD step, tensorflow / JAX + optax (jit), 1 thread: not measured (target ≤ 1.3; the JAX peer did not run (--peer jax))',
    );
  });

  it('reads SAM/SGD, µP²/naive and tensor growth from the in-process suite', () => {
    const mlp: ModelPerf = {
      model: 'mlp',
      label: 'MLP',
      batch: 128,
      tensorGrowthPerStep: 0,
      // Only the fields the targets read (the suite may add more).
      steps: [
        { step: 'sgd', milliseconds: 10, overSgd: 1 },
        { step: 'sam naive', milliseconds: 20, overSgd: 2 },
        { step: 'sam mup2', milliseconds: 20.4, overSgd: 2.04 },
      ] as ModelPerf['steps'],
    };
    const leaky: ModelPerf = { ...mlp, model: 'vit', label: 'ViT', tensorGrowthPerStep: 2 };
    expect(suiteTargets([mlp, leaky], ['sam']).map(targetLine)).toEqual([
      '- MLP SAM/SGD (mup2): 2.04 (target ≤ 2.05) met',
      '- MLP sam mup2/naive: 1.02 (target ≤ 1.03) met',
      '- MLP: tensors left per step: 0.00 (target ≤ 0) met',
      '- ViT: tensors left per step: 2.00 (target ≤ 0) NOT met',
    ]);
  });

  it("judges the suite's ratios by their interval over the rounds: met, not met, or undecided", () => {
    // Five rounds; SGD drifts from 10 to 14 ms, and each other step is set against another round by round.
    const sgd = [10, 11, 12, 13, 14];
    const times = (base: number[], ratios: number[]) => base.map((ms, round) => ms * (ratios[round] as number));
    const samNaive = times(sgd, [1.8, 1.82, 1.84, 1.86, 1.88]);
    const samMup2 = times(samNaive, [0.99, 1.05, 1.0, 1.04, 0.99]); // over naive: median 1.00, spread across 1.03
    const samOnMup2 = times(sgd, [1.8, 1.81, 1.82, 1.83, 1.84]); // over SGD: all of it above 1.75
    const step = (name: string, rounds: number[]) => ({
      step: name,
      rounds,
      milliseconds: 0,
      stepsPerCall: 1,
      overSgd: 0,
    });
    const mlp: ModelPerf = {
      model: 'mlp',
      label: 'MLP',
      batch: 128,
      tensorGrowthPerStep: 0,
      steps: [step('sgd', sgd), step('sam naive', samNaive), step('sam mup2', samMup2), step('sam-on mup2', samOnMup2)],
    };
    const [samOverSgd, samOnOverSgd, samMup2OverNaive] = suiteTargets([mlp], ['sam', 'sam-on']);
    // Five rounds hold a median between their least and greatest ratio with probability 1 − 2/32 (94%).
    expect(samOverSgd?.value).toBeCloseTo(1.88 * 0.99, 12); // the rounds' ratios: 1.782, 1.911, 1.84, 1.934, 1.861
    expect([samOverSgd?.interval?.low, samOverSgd?.interval?.high]).toEqual([
      expect.closeTo(1.8 * 0.99, 12),
      expect.closeTo(1.86 * 1.04, 12),
    ]);
    expect(isMet(samOverSgd as never)).toBe(true);
    expect(targetLine(samOnOverSgd as never)).toBe(
      '- MLP SAM-ON/SGD (mup2): 1.82 (target ≤ 1.75, 94% interval 1.80–1.84 over 5 rounds) NOT met',
    );
    expect(isMet(samOnOverSgd as never)).toBe(false);
    expect(samMup2OverNaive?.label).toBe('MLP sam mup2/naive');
    expect(targetLine(samMup2OverNaive as never)).toBe(
      '- MLP sam mup2/naive: 1.00 (target ≤ 1.03, 94% interval 0.99–1.05 over 5 rounds) undecided: the interval spans the bound',
    );
    expect(isMet(samMup2OverNaive as never)).toBeUndefined();
  });

  it('wants ViT and ResNet-18 five times faster on tensorflow than on wasm, and 2 workers 1.6 times 1', () => {
    const lines = backendTargets([
      { model: 'mlp', label: 'MLP', batch: 128, milliseconds: { wasm: 70, tensorflow: 10 }, withWasmForms: {} },
      { model: 'vit', label: 'ViT', batch: 64, milliseconds: { wasm: 800, tensorflow: 200 }, withWasmForms: {} },
      {
        model: 'resnet18',
        label: 'ResNet-18',
        batch: 32,
        milliseconds: { wasm: 6000, tensorflow: 1000 },
        withWasmForms: {},
      },
    ]).map(targetLine);
    expect(lines).toEqual([
      '- ViT SGD step, wasm / tensorflow: 4.00 (target ≥ 5) NOT met',
      '- ResNet-18 SGD step, wasm / tensorflow: 6.00 (target ≥ 5) met',
    ]);
    const run = { cells: 14, seconds: 1, coresUsed: 1, backend: 'tensorflow' };
    expect(
      throughputTargets([
        { ...run, round: 0, workers: 1, cellsPerHour: 1000 },
        { ...run, round: 0, workers: 2, cellsPerHour: 1700 },
      ]).map(targetLine),
    ).toEqual(['- figure1 cells per hour, 2 workers / 1 worker: 1.70 (target ≥ 1.6) met']);
    // Rounds are compared pairwise: the best run of each count would read 1800 / 1200 = 1.50; the
    // rounds' ratios are 1.70, 1.50 and 1.80 (median 1.70, the interval their range at 3 rounds).
    const rounds = [
      [1000, 1700],
      [1200, 1800],
      [1000, 1800],
    ].flatMap(([one, two], round) => [
      { ...run, round, workers: 1, cellsPerHour: one as number },
      { ...run, round, workers: 2, cellsPerHour: two as number },
    ]);
    expect(throughputTargets(rounds).map(targetLine)).toEqual([
      '- figure1 cells per hour, 2 workers / 1 worker: 1.70 (target ≥ 1.6, 75% interval 1.50–1.80 over 3 rounds) undecided: the interval spans the bound',
    ]);
  });
});
