import { muAdam, muSgd, SamOptimizer } from '@mup2/core';
import { createMlp, loadRules } from '@mup2/model-zoo';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';

// Every installed rule package, as the bench finds them.
const rules = await loadRules();
const STEPS = 2_000;
/**
 * 4,000 tiny steps per test: ~30 s on wasm, ~100 s on tensorflow, whose per-op cost (a native
 * call per kernel, ~300 kernels a SAM step) is about three times wasm's on a model this small.
 */
const SOAK_TIMEOUT_MS = 300_000;
/** A macrotask every so many steps: vitest's worker answers its runner only between them (it gives up after 60 s). */
const STEPS_BETWEEN_YIELDS = 200;
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

describe(`soak: ${STEPS} optimizer steps leave no tensors behind`, () => {
  for (const rule of rules.names) {
    it(
      `${rule} (mup2) on the µP MLP with a µP-SGD base, and with muAdam`,
      async () => {
        const model = createMlp({ inputSize: 20, width: 32, baseWidth: 16, classes: 4, seed: 3 });
        const x = tf.randomNormal([16, 20], 0, 1, 'float32', 5);
        const y = tf.tensor1d(
          Array.from({ length: 16 }, (_, i) => i % 4),
          'int32',
        );
        for (const base of [muSgd(0.01, model.specs, { momentum: 0.9 }), muAdam(1e-3, model.specs)]) {
          const optimizer = new SamOptimizer({
            base,
            rule: rules.create(rule, { rho: 0.05, scaling: 'mup2' }),
            params: model.specs,
          });
          const step = () => optimizer.minimize(() => model.loss(x, y), false, model.trainableVariables);
          // The first steps create the base optimizer's state (momentum buffers, Adam moments): count after them.
          for (let i = 0; i < 5; i++) step();
          const before = tf.memory().numTensors;
          for (let i = 5; i < STEPS; i++) {
            step();
            if (i % STEPS_BETWEEN_YIELDS === 0) await yieldToEventLoop();
          }
          expect(tf.memory().numTensors).toBe(before);
          optimizer.dispose();
        }
        tf.dispose([x, y]);
        model.dispose();
      },
      SOAK_TIMEOUT_MS,
    );
  }
});
