import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { MissingKernelError } from './errors.js';
import type { PerturbationRule } from './perturbation-rule.js';
import { SamOptimizer } from './sam-optimizer.js';
import { explainTfjsError } from './tfjs-error-hints.js';

const plainRule: PerturbationRule = {
  specificationVersion: 'v1',
  name: 'test-rule',
  radius: 0.1,
  scaling: 'naive',
  selects: () => true,
  layerScale: () => ({ perturbation: 1, norm: 1 }),
  direction: ({ gradient }) => ({ direction: gradient, normTerm: gradient }),
};

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

/** A user's script that imports only @tensorflow/tfjs-core (no gradients registered) and the built @mup2/core. */
const CORE_ONLY = `
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { SamOptimizer } from './dist/index.node.js';
await tf.setBackend('wasm');
const w = tf.variable(tf.ones([3]));
const rule = { specificationVersion: 'v1', name: 'plain', radius: 0.1, scaling: 'naive', selects: () => true,
  layerScale: () => ({ perturbation: 1, norm: 1 }), direction: ({ gradient }) => ({ direction: gradient, normTerm: gradient }) };
const optimizer = new SamOptimizer({ base: tf.train.sgd(0.1), rule });
try {
  optimizer.minimize(() => tf.sum(tf.div(w, 2)), false, [w]);
  console.log(JSON.stringify({ name: 'none' }));
} catch (error) {
  console.log(JSON.stringify({ name: error.name, message: error.message, cause: String(error.cause?.message) }));
}
`;

describe("TF.js's missing gradient or kernel, explained", () => {
  it('with only @tensorflow/tfjs-core imported: a MissingKernelError that says to import @tensorflow/tfjs', async () => {
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile('node', ['--input-type=module', '-e', CORE_ONLY], { cwd: PACKAGE_DIR }, (error, out, err) =>
        error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out),
      ),
    );
    const outcome = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as Record<string, string>;
    expect(outcome.name).toBe('MissingKernelError');
    expect(outcome.message).toMatch(
      /^SamOptimizer: TF.js has no gradient for '\w+' because no gradients are registered: .*Import '@tensorflow\/tfjs'/,
    );
    expect(outcome.cause).toMatch(/^Cannot compute gradient: gradient function not found for/);
  }, 60_000);

  it('an op without a gradient while the others have theirs: a hint about that op, not about imports', () => {
    const explained = explainTfjsError(
      new Error('Cannot compute gradient: gradient function not found for Unique.'),
      'SamOptimizer',
    );
    expect(MissingKernelError.isInstance(explained)).toBe(true);
    expect((explained as Error).message).toMatch(/no gradient for the op 'Unique' in your loss.*tf.customGrad/);
    const other = new Error('something else');
    expect(explainTfjsError(other, 'SamOptimizer')).toBe(other);
  });

  it.runIf(tf.getBackend() === 'wasm')(
    'a convolution on wasm without registerWasmGradientKernels: a hint to call it, and nothing changed',
    () => {
      const kernel = tf.variable(tf.randomNormal<tf.Rank.R4>([3, 3, 1, 2], 0, 1, 'float32', 1));
      const x = tf.randomNormal<tf.Rank.R4>([2, 5, 5, 1], 0, 1, 'float32', 2);
      const before = Array.from(kernel.dataSync());
      const optimizer = new SamOptimizer({ base: tf.train.sgd(0.1), rule: plainRule });
      const step = () => optimizer.minimize(() => tf.sum(tf.square(tf.conv2d(x, kernel, 1, 'same'))), false, [kernel]);
      expect(step).toThrowError(MissingKernelError);
      expect(step).toThrowError(/wasm backend has no 'Conv2DBackpropFilter' kernel.*registerWasmGradientKernels\(\)/);
      expect(Array.from(kernel.dataSync())).toEqual(before);
      optimizer.dispose();
      tf.dispose([kernel, x]);
    },
  );
});
