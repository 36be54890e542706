import { FUSED_KERNELS, hasFusedKernel, muSgd } from '@mup2/core';
import { float64SamStep, runTinyMlpStep, runTinyMlpSteps, updateErrors } from '@mup2/core/testing';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadRules } from '../rules/load-rules.js';
import { heavyBallStepError, heavyBallWeights, largestDifference, values } from './heavy-ball.fixture.js';
import { registerTensorflowKernels } from './tensorflow-kernels.js';

// The fused optimizer kernels that `pnpm native:install` builds next to libtensorflow
// (apps/native/src/fused-ops), registered here for 'tensorflow', against float64 loops.
// On any other backend there are none and core's compositions run (packages/core's test).

const onTensorflow = tf.getBackend() === 'tensorflow';

/** The kernels called while `f` runs, by name. */
async function kernelsCalled(f: () => void): Promise<string[]> {
  const profile = await tf.profile(() => {
    f();
  });
  return profile.kernelNames;
}

describe.skipIf(!onTensorflow)('fused optimizer kernels on tensorflow', () => {
  beforeAll(() => registerTensorflowKernels());

  it('are registered: native:install built them and the zoo loaded them', () => {
    expect(hasFusedKernel(FUSED_KERNELS.momentumStep)).toBe(true);
    expect(hasFusedKernel(FUSED_KERNELS.sumOfSquares)).toBe(true);
    expect(hasFusedKernel(FUSED_KERNELS.allFinite)).toBe(true);
    expect(hasFusedKernel(FUSED_KERNELS.addScaled)).toBe(true);
    expect(hasFusedKernel(FUSED_KERNELS.innerProduct)).toBe(true);
  });

  // 4,099 entries take the plain loop; 262,147 (past 1 MiB) non-temporal stores and then the plain
  // loop for the last 3. Neither is a multiple of any vector width.
  const sizes = [4099, 262_147];

  it.each(sizes)('Mup2AddScaled gives w + s·d as a float64 loop does (after the float32 product), %i entries', (n) => {
    const [w, d] = [values(n, 0), values(n, 1)];
    const s = Math.fround(-0.0371);
    const before = tf.memory().numTensors;
    const moved = tf.tidy(
      () =>
        tf.engine().runKernel(FUSED_KERNELS.addScaled, {
          w: tf.tensor1d(w),
          d: tf.tensor1d(d),
          s: tf.scalar(s),
        }) as tf.Tensor,
    );
    const got = moved.dataSync();
    let worst = 0;
    for (let i = 0; i < n; i++) {
      worst = Math.max(worst, Math.abs((got[i] as number) - ((w[i] as number) + s * (d[i] as number))));
    }
    expect(worst).toBeLessThan(1e-6);
    moved.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('Mup2AddScaled refuses w and d of two shapes and an s of more than one value', () => {
    const run = (inputs: tf.NamedTensorMap) => () =>
      tf.tidy(() => tf.engine().runKernel(FUSED_KERNELS.addScaled, inputs));
    expect(run({ w: tf.zeros([2, 3]), d: tf.zeros([3, 2]), s: tf.scalar(1) })).toThrowError(
      /w and d must have one shape/,
    );
    expect(run({ w: tf.zeros([2]), d: tf.zeros([2]), s: tf.zeros([2]) })).toThrowError(/s must hold one value/);
  });

  it('Mup2AllFinite says 1 exactly when every entry of every input is finite, wherever a NaN or ±∞ sits', () => {
    const n = 1027; // not a multiple of any vector width
    const shapes = [[n], [3, 5], [0], [2, 2, 2]] as const;
    const run = (lists: number[][]) =>
      tf.tidy(() => {
        const tensors = lists.map((list, i) => tf.tensor(list, shapes[i] as unknown as number[]));
        return tf.engine().runKernel(FUSED_KERNELS.allFinite, tensors as unknown as tf.NamedTensorMap) as tf.Scalar;
      });
    const finite = () =>
      shapes.map((shape) =>
        values(
          shape.reduce((a, b) => a * b, 1),
          shape.length,
        ),
      );
    const before = tf.memory().numTensors;
    const all = run(finite());
    expect(all.shape).toEqual([]);
    expect(all.dataSync()[0]).toBe(1);
    all.dispose();
    // Finite entries whose float32 sum overflows are still finite (a sum of sums would say otherwise).
    const huge = finite();
    huge[0] = huge[0]?.map(() => 3e38) as number[];
    const hugeFlag = run(huge);
    expect(hugeFlag.dataSync()[0]).toBe(1);
    hugeFlag.dispose();
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      for (const [list, index] of [
        [0, 0],
        [0, 517], // inside the vector loop, in neither the first lane nor the tail
        [0, n - 1],
        [1, 14],
        [3, 7],
      ] as const) {
        const lists = finite();
        (lists[list] as number[])[index] = bad;
        const flag = run(lists);
        expect(flag.dataSync()[0], `${bad} at input ${list}, entry ${index}`).toBe(0);
        flag.dispose();
      }
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it.each(sizes)('Mup2MomentumStep gives [w − lr·(mu·v + g), mu·v + g] as a float64 loop does, %i entries', (n) => {
    const [w, v, g] = [values(n, 0), values(n, 1), values(n, 2)];
    const before = tf.memory().numTensors;
    const [next, velocity] = tf.tidy(
      () =>
        tf.engine().runKernel(FUSED_KERNELS.momentumStep, {
          w: tf.tensor1d(w),
          v: tf.tensor1d(v),
          g: tf.tensor1d(g),
          lr: tf.scalar(0.05),
          mu: tf.scalar(0.9),
        }) as tf.Tensor[],
    ) as [tf.Tensor, tf.Tensor];
    expect(heavyBallStepError({ w, v, g, lr: 0.05, mu: 0.9 }, next.dataSync(), velocity.dataSync())).toBeLessThan(2e-6);
    tf.dispose([next, velocity]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('Mup2SumOfSquares gives Σ x² as a float64 sum does, for a million entries and for none', () => {
    const x = values(1_000_003, 0.25);
    const expected = x.reduce((total, value) => total + value * value, 0);
    const result = tf.tidy(() => tf.engine().runKernel(FUSED_KERNELS.sumOfSquares, { x: tf.tensor1d(x) }) as tf.Scalar);
    expect(result.shape).toEqual([]);
    expect(Math.abs((result.dataSync()[0] as number) - expected) / expected).toBeLessThan(1e-6);
    const empty = tf.tidy(
      () => tf.engine().runKernel(FUSED_KERNELS.sumOfSquares, { x: tf.zeros([0, 3]) }) as tf.Scalar,
    );
    expect(empty.dataSync()[0]).toBe(0);
    tf.dispose([result, empty]);
  });

  it('Mup2InnerProduct gives Σ x·y as a float64 sum does, for a million entries and for none, and refuses two shapes', () => {
    const x = values(1_000_003, 0.25);
    const y = values(1_000_003, 1.5, 2);
    const expected = x.reduce((total, value, i) => total + value * (y[i] as number), 0);
    const norms = Math.sqrt(x.reduce((t, v) => t + v * v, 0) * y.reduce((t, v) => t + v * v, 0));
    const run = (a: tf.Tensor, b: tf.Tensor) =>
      tf.tidy(() => tf.engine().runKernel(FUSED_KERNELS.innerProduct, { x: a, y: b }) as tf.Scalar);
    const result = tf.tidy(() => run(tf.tensor1d(x), tf.tensor1d(y)));
    expect(result.shape).toEqual([]);
    // Relative to ‖x‖‖y‖, the scale of a float32 sum's error (Σ x·y itself may be near 0).
    expect(Math.abs((result.dataSync()[0] as number) - expected) / norms).toBeLessThan(1e-6);
    const empty = tf.tidy(() => run(tf.zeros([0, 3]), tf.zeros([0, 3])));
    expect(empty.dataSync()[0]).toBe(0);
    tf.dispose([result, empty]);
    expect(() => tf.tidy(() => run(tf.zeros([2, 3]), tf.zeros([3, 2])))).toThrowError(/x and y must have one shape/);
  });

  it('refuses w, v and g of different shapes, and int32 tensors, saying what it expected', () => {
    const run = (inputs: tf.NamedTensorMap) => () =>
      tf.tidy(() => tf.engine().runKernel(FUSED_KERNELS.momentumStep, inputs));
    const scalars = () => ({ lr: tf.scalar(0.1), mu: tf.scalar(0.9) });
    expect(run({ w: tf.zeros([2, 3]), v: tf.zeros([3, 2]), g: tf.zeros([2, 3]), ...scalars() })).toThrowError(
      /w, v and g must have one shape/,
    );
    expect(() =>
      tf.tidy(() => tf.engine().runKernel(FUSED_KERNELS.sumOfSquares, { x: tf.zeros([4], 'int32') })),
    ).toThrowError(/Mup2SumOfSquares as input #0\(zero-based\) was expected to be a float tensor but is a int32/);
  });

  it('muSgd with momentum runs its step through it and matches heavy-ball SGD in float64, leaving no tensor', async () => {
    const start = values(300, 0.1);
    const gradients = [1, 2, 3].map((step) => values(300, step, step));
    const variable = tf.variable(tf.tensor2d(start, [20, 15]));
    const optimizer = muSgd(0.02, undefined, { momentum: 0.9 });
    const step = (t: number) =>
      tf.tidy(() => optimizer.applyGradients({ [variable.name]: tf.tensor2d(gradients[t] as number[], [20, 15]) }));
    step(0);
    const before = tf.memory().numTensors;
    expect(await kernelsCalled(() => step(1))).toContain(FUSED_KERNELS.momentumStep);
    step(2);
    expect(tf.memory().numTensors).toBe(before);
    expect(largestDifference(variable.dataSync(), heavyBallWeights(start, gradients, 0.02, 0.9))).toBeLessThan(1e-5);
    optimizer.dispose();
    variable.dispose();
  });

  it("a SAM step's norm, move and finiteness check run through the fused kernels and the step matches a float64 one", async () => {
    const rules = await loadRules();
    const rule = rules.descriptor('sam').create({ rho: 0.3, scaling: 'mup2' });
    expect(
      await kernelsCalled(() => runTinyMlpStep({ rule, width: 16, baseWidth: 4, learningRate: 0.5, seed: 3 })),
    ).toEqual(expect.arrayContaining([FUSED_KERNELS.movedWeights, FUSED_KERNELS.allFinite]));
    const step = runTinyMlpStep({ rule, width: 16, baseWidth: 4, learningRate: 0.5, seed: 3 });
    const reference = float64SamStep(step.start, step.data, {
      shape: step.shape,
      baseWidth: 4,
      rho: 0.3,
      scaling: 'mup2',
      learningRate: 0.5,
    });
    for (const [name, { scale, relativeError }] of Object.entries(updateErrors(step.start, step.result, reference))) {
      expect(scale, `${name} must move`).toBeGreaterThan(0);
      expect(relativeError, name).toBeLessThan(2e-3);
    }
    expect(step.leakedTensors).toBe(0);
  });

  it("LookSAM's, GSAM's and FriendlySAM's norms, inner products and combinations of gradients run through the fused kernels, and their steps equal TF.js's compositions' (float64-checked in their packages)", async () => {
    const rules = await loadRules();
    const options = { rho: 0.3, k: 2, scaling: 'mup2' } as const;
    const run = (rule: string) =>
      runTinyMlpSteps({ rule: rules.create(rule, options), width: 16, baseWidth: 4, learningRate: 0.5, steps: 4 });
    for (const rule of ['looksam', 'gsam', 'friendly-sam']) {
      expect(await kernelsCalled(() => run(rule)), rule).toEqual(
        expect.arrayContaining([
          FUSED_KERNELS.movedWeights,
          ...(rule === 'friendly-sam' ? [] : [FUSED_KERNELS.sumOfSquares, FUSED_KERNELS.innerProduct]),
        ]),
      );
      const fused = run(rule);
      expect(fused.tensorGrowth, rule).toBe(0);
      // The same steps with these kernels unregistered: core's helpers then run TF.js's compositions.
      const configs = [
        FUSED_KERNELS.sumOfSquares,
        FUSED_KERNELS.addScaled,
        FUSED_KERNELS.innerProduct,
        FUSED_KERNELS.movedWeights,
      ].map((name) => tf.getKernel(name, 'tensorflow') as tf.KernelConfig);
      for (const config of configs) tf.unregisterKernel(config.kernelName, 'tensorflow');
      let composed: ReturnType<typeof run>;
      try {
        composed = run(rule);
      } finally {
        for (const config of configs) tf.registerKernel(config);
      }
      fused.results.forEach((result, step) => {
        const from = step === 0 ? fused.start : (fused.results[step - 1] as typeof result);
        for (const [name, { scale, relativeError }] of Object.entries(
          updateErrors(from, result, composed.results[step] as typeof result),
        )) {
          expect(scale, `${rule} step ${step + 1}: ${name} must move`).toBeGreaterThan(0);
          expect(relativeError, `${rule} step ${step + 1}: ${name}`).toBeLessThan(1e-4);
        }
      });
    }
  });
});
