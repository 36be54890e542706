import { FUSED_KERNELS, hasFusedKernel, muSgd, NonFiniteGradientError, SamOptimizer } from '@mup2/core';
import { createTinyMlp, float64Batch, float64Init, updateErrors } from '@mup2/core/testing';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadRules } from '../rules/load-rules.js';
import { heavyBallStepError, heavyBallWeights, largestDifference, values } from './heavy-ball.fixture.js';
import { registerTensorflowKernels } from './tensorflow-kernels.js';

// Mup2CheckedMomentumStep: the heavy-ball update and the check that its gradient is finite in one
// read of the gradient, through which muSgd's applyGradientsIfFinite, and so a SAM step's descent,
// checks its second gradient on 'tensorflow'. Against float64 loops; the step as a whole against
// the same steps with the kernel unregistered (Mup2AllFinite, then Mup2MomentumStep).

const onTensorflow = tf.getBackend() === 'tensorflow';

async function kernelsCalled(f: () => void): Promise<string[]> {
  const profile = await tf.profile(() => {
    f();
  });
  return profile.kernelNames;
}

/** Runs `f` with the checked kernel unregistered, so that its callers take the check and the step apart. */
async function withoutCheckedKernel<T>(f: () => Promise<T>): Promise<T> {
  const config = tf.getKernel(FUSED_KERNELS.checkedMomentumStep, 'tensorflow') as tf.KernelConfig;
  tf.unregisterKernel(config.kernelName, 'tensorflow');
  try {
    return await f();
  } finally {
    tf.registerKernel(config);
  }
}

describe.skipIf(!onTensorflow)('the checked heavy-ball kernel on tensorflow', () => {
  beforeAll(() => registerTensorflowKernels());

  it('is registered: native:install built it and the zoo loaded it', () => {
    expect(hasFusedKernel(FUSED_KERNELS.checkedMomentumStep)).toBe(true);
  });

  // 4,099 entries take the plain loop; 262,147 (past 1 MiB) the streamed loop and then the plain one for the last 3.
  it.each([
    4099, 262_147,
  ])('gives [w − lr·(mu·v + g), mu·v + g] as a float64 loop does, and 1 exactly when g is finite, %i entries', (n) => {
    const [w, v, g] = [values(n, 0), values(n, 1), values(n, 2)];
    const before = tf.memory().numTensors;
    const run = (gradient: number[]) =>
      tf.tidy(
        () =>
          tf.engine().runKernel(FUSED_KERNELS.checkedMomentumStep, {
            w: tf.tensor1d(w),
            v: tf.tensor1d(v),
            g: tf.tensor1d(gradient),
            lr: tf.scalar(0.05),
            mu: tf.scalar(0.9),
          }) as tf.Tensor[],
      ) as [tf.Tensor, tf.Tensor, tf.Tensor];
    const [next, velocity, finite] = run(g);
    expect(finite.shape).toEqual([]);
    expect(finite.dataSync()[0]).toBe(1);
    expect(heavyBallStepError({ w, v, g, lr: 0.05, mu: 0.9 }, next.dataSync(), velocity.dataSync())).toBeLessThan(2e-6);
    tf.dispose([next, velocity, finite]);
    // Finite gradients near float32's largest are finite (g·0 is 0), wherever they sit.
    const huge = run(g.map(() => 3e38));
    expect(huge[2].dataSync()[0]).toBe(1);
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      // The first entry, one inside the vector loop, the last (the plain loop's).
      for (const index of [0, 517, n - 1]) {
        const poisoned = g.slice();
        poisoned[index] = bad;
        const outputs = run(poisoned);
        expect(outputs[2].dataSync()[0], `${bad} at ${index}`).toBe(0);
        tf.dispose(outputs);
      }
    }
    tf.dispose(huge);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses w, v and g of different shapes, naming itself', () => {
    const scalars = () => ({ lr: tf.scalar(0.1), mu: tf.scalar(0.9) });
    expect(() =>
      tf.tidy(() =>
        tf.engine().runKernel(FUSED_KERNELS.checkedMomentumStep, {
          w: tf.zeros([2, 3]),
          v: tf.zeros([2, 3]),
          g: tf.zeros([3, 2]),
          ...scalars(),
        }),
      ),
    ).toThrowError(/Mup2CheckedMomentumStep: w, v and g must have one shape/);
  });

  it('muSgd.applyGradientsIfFinite steps through it, follows heavy-ball SGD in float64, and changes nothing for a NaN', async () => {
    const start = values(300, 0.1);
    const gradients = [1, 2, 3].map((step) => values(300, step, step));
    const variable = tf.variable(tf.tensor2d(start, [20, 15]));
    const optimizer = muSgd(0.02, undefined, { momentum: 0.9 });
    const step = (g: number[]) =>
      tf.tidy(() => optimizer.applyGradientsIfFinite({ [variable.name]: tf.tensor2d(g, [20, 15]) }));
    expect(step(gradients[0] as number[])).toBe(true); // makes the buffer, as PyTorch does
    const before = tf.memory().numTensors;
    const kernels = await kernelsCalled(() => expect(step(gradients[1] as number[])).toBe(true));
    expect(kernels).toContain(FUSED_KERNELS.checkedMomentumStep);
    expect(kernels).not.toContain(FUSED_KERNELS.allFinite);
    const [weightsBefore, stateBefore] = [variable.dataSync().slice(), await optimizer.getWeights()];
    const bufferBefore = (stateBefore[1]?.tensor as tf.Tensor).dataSync().slice();
    tf.dispose(stateBefore[0]?.tensor);
    const poisoned = (gradients[2] as number[]).slice();
    poisoned[123] = Number.NaN;
    expect(step(poisoned)).toBe(false);
    expect(optimizer.iterations).toBe(2);
    expect(variable.dataSync()).toEqual(weightsBefore);
    const stateAfter = await optimizer.getWeights();
    expect((stateAfter[1]?.tensor as tf.Tensor).dataSync()).toEqual(bufferBefore);
    tf.dispose(stateAfter[0]?.tensor);
    expect(step(gradients[2] as number[])).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    expect(largestDifference(variable.dataSync(), heavyBallWeights(start, gradients, 0.02, 0.9))).toBeLessThan(1e-5);
    optimizer.dispose();
    variable.dispose();
  });

  describe('a SAM step on muSgd with momentum', () => {
    const shape = { inputSize: 6, width: 16, classes: 3 };
    /**
     * Steps of SAM (mup2 scaling, ρ 0.3) on the tiny MLP, each on its own batch; the second gradient is
     * NaN at step `poison`, and step `omit` is not taken at all.
     */
    async function samRun(steps: number, { poison, omit }: { poison?: number; omit?: number } = {}) {
      const rule = (await loadRules()).create('sam', { rho: 0.3, scaling: 'mup2' });
      const mlp = createTinyMlp(float64Init(shape, 3, { baseWidth: 4 }), shape, 4);
      const start = mlp.read();
      const optimizer = new SamOptimizer({
        base: muSgd(0.5, mlp.specs, { momentum: 0.9 }),
        rule,
        params: mlp.specs,
      });
      const results: Array<ReturnType<typeof mlp.read> | Error> = [];
      const kernels: string[][] = [];
      for (let step = 0; step < steps; step++) {
        const data = float64Batch(103 + step, { batch: 8, inputSize: shape.inputSize, classes: shape.classes });
        const x = tf.tensor2d(Float32Array.from(data.x), [8, shape.inputSize]);
        const y = tf.tensor1d(data.labels, 'int32');
        const loss = ([xs, ys]: readonly tf.Tensor[], { perturbed }: { perturbed: boolean }) => {
          const value = mlp.loss(xs as tf.Tensor2D, ys as tf.Tensor1D);
          return perturbed && step === poison ? (tf.mul(value, Number.NaN) as tf.Scalar) : value;
        };
        try {
          if (step === omit) throw new Error('omitted');
          kernels.push(await kernelsCalled(() => optimizer.minimizeOnBatch(loss, [x, y])));
          results.push(mlp.read());
        } catch (error) {
          results.push(error as Error);
        }
        tf.dispose([x, y]);
      }
      const iterations = optimizer.iterations;
      mlp.dispose();
      optimizer.dispose();
      return { start, results, kernels, iterations };
    }

    it('checks the second gradient in the update (no Mup2AllFinite) and equals the steps that check it apart', async () => {
      const before = tf.memory().numTensors;
      const fused = await samRun(3);
      expect(tf.memory().numTensors).toBe(before);
      // The first step makes the momentum buffers (no checked update yet); the later ones check in it.
      for (const kernels of fused.kernels.slice(1)) {
        expect(kernels).toContain(FUSED_KERNELS.checkedMomentumStep);
        expect(kernels).not.toContain(FUSED_KERNELS.allFinite);
      }
      const apart = await withoutCheckedKernel(() => samRun(3));
      expect(apart.kernels[2]).toEqual(expect.arrayContaining([FUSED_KERNELS.allFinite, FUSED_KERNELS.momentumStep]));
      fused.results.forEach((result, step) => {
        const from = step === 0 ? fused.start : fused.results[step - 1];
        for (const [name, { scale, relativeError }] of Object.entries(
          updateErrors(
            from as typeof fused.start,
            result as typeof fused.start,
            apart.results[step] as typeof fused.start,
          ),
        )) {
          expect(scale, `step ${step + 1}: ${name} must move`).toBeGreaterThan(0);
          expect(relativeError, `step ${step + 1}: ${name}`).toBeLessThan(1e-5);
        }
      });
    });

    it('rejects a NaN second gradient with NonFiniteGradientError, leaving the weights and the momentum as they were', async () => {
      const before = tf.memory().numTensors;
      const run = await samRun(3, { poison: 1 });
      expect(tf.memory().numTensors).toBe(before);
      const error = run.results[1] as Error;
      expect(error).toBeInstanceOf(NonFiniteGradientError);
      expect(error.message).toMatch(/the second \(at w \+ ε\) gradient is not finite for '[^']+\/W1', /);
      expect(run.iterations).toBe(2);
      // Step 3 starts from step 1's weights and momentum: the same as a run whose second step never came.
      const omitted = await samRun(3, { omit: 1 });
      const [third, expected] = [run.results[2] as typeof run.start, omitted.results[2] as typeof run.start];
      expect(Object.keys(third).length).toBeGreaterThan(0);
      for (const name of Object.keys(third) as Array<keyof typeof third>) {
        expect(Array.from(third[name]), name).toEqual(Array.from(expected[name]));
      }
    });
  });
});
