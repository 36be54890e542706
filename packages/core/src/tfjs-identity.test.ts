import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './backend.js';
import { DuplicateTfjsError } from './errors.js';
import { muSgd } from './mu-sgd.js';
import { paramSpecs } from './param-spec.js';
import type { PerturbationRule } from './perturbation-rule.js';
import { SamOptimizer } from './sam-optimizer.js';

/**
 * A genuine second copy of @tensorflow/tfjs-core with its own engine, as a bundle that
 * inlines tfjs-core gets: tfjs-core keeps its engine on the global object, so the copy is
 * loaded with that slot empty (and the module cache cleared), then both are put back.
 * tfjs's Symbol.hasInstance makes the copy's variables pass `instanceof tf.Variable`,
 * but our engine has never heard of them.
 */
function loadSecondTfjsCore(): typeof import('@tensorflow/tfjs-core') {
  const require = createRequire(import.meta.url);
  const global = globalThis as { _tfengine?: unknown };
  const cached = Object.keys(require.cache).filter((path) => path.includes('@tensorflow/tfjs-core'));
  const saved = Object.fromEntries(cached.map((path) => [path, require.cache[path]]));
  const engine = global._tfengine;
  for (const path of cached) delete require.cache[path];
  delete global._tfengine;
  try {
    const copy = require('@tensorflow/tfjs-core') as typeof import('@tensorflow/tfjs-core');
    copy.registerBackend('cpu', tf.findBackendFactory('cpu')!);
    return copy;
  } finally {
    global._tfengine = engine;
    Object.assign(require.cache, saved);
  }
}

const plainRule: PerturbationRule = {
  specificationVersion: 'v1',
  name: 'test-rule',
  radius: 0.1,
  scaling: 'naive',
  selects: () => true,
  layerScale: () => ({ perturbation: 1, norm: 1 }),
  direction: ({ gradient }) => ({ direction: gradient, normTerm: gradient }),
};

let copy: typeof import('@tensorflow/tfjs-core');
let foreign: tf.Variable;

beforeAll(() => {
  copy = loadSecondTfjsCore();
  foreign = copy.variable(copy.tensor1d([1, 2, 3]), true, 'from_the_other_copy') as unknown as tf.Variable;
});
afterAll(() => foreign.dispose());

describe('a variable from a second copy of tfjs-core', () => {
  it('is a real second copy: another engine, yet instanceof passes', () => {
    expect(copy.engine()).not.toBe(tf.engine());
    expect(foreign instanceof tf.Variable).toBe(true);
    expect(tf.engine().registeredVariables[foreign.name]).toBeUndefined();
  });

  it('is rejected by paramSpecs with a DuplicateTfjsError that says "different copy"', () => {
    const call = () => paramSpecs([{ variable: foreign, role: 'vector' }]);
    expect(call).toThrowError(DuplicateTfjsError);
    expect(call).toThrowError(/different copy of @tensorflow\/tfjs-core/);
    expect(call).toThrowError(/from_the_other_copy/);
  });

  it('is rejected as a varList entry of SamOptimizer.minimize and of muSgd params', () => {
    const ours = tf.tidy(() => tf.variable(tf.tensor1d([1, 2, 3])));
    const optimizer = new SamOptimizer({ base: tf.train.sgd(0.1), rule: plainRule });
    const before = tf.memory().numTensors;
    const step = () => optimizer.minimize(() => tf.sum(tf.mul(ours, foreign)), false, [ours, foreign]);
    expect(step).toThrowError(DuplicateTfjsError);
    expect(step).toThrowError(/different copy/);
    expect(tf.memory().numTensors).toBe(before);
    expect(() =>
      muSgd(0.1, [{ variable: foreign, role: 'vector', fanInMult: 1, fanOutMult: 1, norm: false }]),
    ).toThrowError(DuplicateTfjsError);
    optimizer.dispose();
    ours.dispose();
  });
});

describe('a tensor-like object that is not a tfjs-core Tensor', () => {
  const lookalike = { dataId: {}, shape: [3], dtype: 'float32', name: 'lookalike' } as unknown as tf.Variable;

  it('is rejected as a variable with a DuplicateTfjsError that says "different copy"', () => {
    expect(() => paramSpecs([{ variable: lookalike, role: 'vector' }])).toThrowError(DuplicateTfjsError);
    expect(() => paramSpecs([{ variable: lookalike, role: 'vector' }])).toThrowError(/different copy/);
  });

  it('is rejected in a varList', () => {
    const optimizer = new SamOptimizer({ base: tf.train.sgd(0.1), rule: plainRule });
    expect(() => optimizer.minimize(() => tf.scalar(0), false, [lookalike])).toThrowError(DuplicateTfjsError);
    optimizer.dispose();
  });
});

describe('a backend registered by a package that uses a second copy of tfjs-core', () => {
  it('is refused by initBackend (back on the backend before) and by SamOptimizer, with a DuplicateTfjsError naming it and the fix', async () => {
    const original = tf.getBackend();
    // What tfjs-backend-cpu of another tfjs version would register: a backend built on its own copy's class.
    class ForeignBackend extends copy.KernelBackend {
      override dispose(): void {}
    }
    tf.registerBackend('foreign-copy', () => new ForeignBackend() as unknown as tf.KernelBackend);
    try {
      await expect(initBackend({ backend: 'foreign-copy', log: () => {} })).rejects.toThrowError(DuplicateTfjsError);
      await expect(initBackend({ backend: 'foreign-copy', log: () => {} })).rejects.toThrowError(
        /'foreign-copy' backend was registered by a package that uses a different copy.*npm i @tensorflow\/tfjs@/,
      );
      expect(tf.getBackend()).toBe(original); // initBackend went back to it
      // The backend stays registered: SamOptimizer refuses to start beside it.
      expect(() => new SamOptimizer({ base: tf.train.sgd(0.1), rule: plainRule })).toThrowError(
        /'foreign-copy' backend/,
      );
    } finally {
      tf.removeBackend('foreign-copy');
      await tf.setBackend(original);
    }
  });
});
