import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError, MissingParamSpecError } from './errors.js';
import { muAdam } from './mu-adam.js';
import { type ParamSpec, paramSpecs } from './param-spec.js';

// One parameter per role. The µP Adam learning rate, by hand (docs/mup2-explained.md): η for input and
// vector, η / fanInMult for hidden and output. The hidden weight's fan-out grows by 2 and
// its fan-in by 4, so using the wrong multiplier shows.
const ROLES = {
  input: { shape: [3, 8], baseShape: [3, 2], lrFactor: 1 },
  hidden: { shape: [8, 6], baseShape: [2, 3], lrFactor: 1 / 4 },
  output: { shape: [8, 3], baseShape: [2, 3], lrFactor: 1 / 4 },
  vector: { shape: [8], baseShape: [2], lrFactor: 1 },
} as const;
type Role = keyof typeof ROLES;
const ROLE_NAMES = Object.keys(ROLES) as Role[];

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const initial = (role: Role) =>
  Array.from({ length: size(ROLES[role].shape) }, (_, i) => Math.sin(1.3 * i + role.length));
// Step-dependent, sign-changing gradients, so the second step's moments are not a rescaled first step.
const gradient = (role: Role, step: number) =>
  Array.from({ length: size(ROLES[role].shape) }, (_, i) => Math.cos(0.7 * i + 2 * step) * (1 + step));

interface Model {
  variables: Record<Role, tf.Variable>;
  specs: ParamSpec[];
  dispose(): void;
}

function makeModel(): Model {
  const variables = Object.fromEntries(
    ROLE_NAMES.map((role) => [role, tf.tidy(() => tf.variable(tf.tensor(initial(role), [...ROLES[role].shape])))]),
  ) as Record<Role, tf.Variable>;
  const specs = paramSpecs(ROLE_NAMES.map((role) => ({ variable: variables[role], baseShape: ROLES[role].baseShape })));
  return { variables, specs, dispose: () => ROLE_NAMES.forEach((role) => variables[role].dispose()) };
}

function applyStep(optimizer: tf.Optimizer, model: Model, step: number): void {
  const gradients = Object.fromEntries(
    ROLE_NAMES.map((role) => [model.variables[role].name, tf.tensor(gradient(role, step), [...ROLES[role].shape])]),
  );
  optimizer.applyGradients(gradients);
  tf.dispose(Object.values(gradients));
}

/** torch.optim.AdamW (Adam when decay = 0), float64, with a per-parameter learning rate. */
function referenceAdam(
  role: Role,
  steps: number,
  lr: number,
  decay: number,
  lrFactor: number = ROLES[role].lrFactor,
): number[] {
  const [beta1, beta2, epsilon] = [0.9, 0.999, 1e-8];
  const rate = lr * lrFactor;
  let w = initial(role);
  let m = w.map(() => 0);
  let v = w.map(() => 0);
  for (let step = 0; step < steps; step++) {
    const g = gradient(role, step);
    m = m.map((value, i) => beta1 * value + (1 - beta1) * g[i]!);
    v = v.map((value, i) => beta2 * value + (1 - beta2) * g[i]! ** 2);
    const c1 = 1 - beta1 ** (step + 1);
    const c2 = 1 - beta2 ** (step + 1);
    w = w.map((value, i) => value * (1 - rate * decay) - (rate * (m[i]! / c1)) / (Math.sqrt(v[i]! / c2) + epsilon));
  }
  return w;
}

function expectClose(actual: ArrayLike<number>, expected: readonly number[], what: string): void {
  expect(actual.length, what).toBe(expected.length);
  expected.forEach((value, i) => {
    expect(Math.abs((actual[i] as number) - value), `${what}[${i}]`).toBeLessThan(2e-6 * (1 + Math.abs(value)));
  });
}

function expectNoLeak(run: () => void): void {
  const before = tf.memory().numTensors;
  run();
  expect(tf.memory().numTensors).toBe(before);
}

describe('muAdam', () => {
  for (const decay of [0, 0.1]) {
    it(`${decay > 0 ? 'AdamW' : 'Adam'}: bias-corrected steps with lr per role (η input/vector, η/fanInMult hidden/output)`, () => {
      expectNoLeak(() => {
        const model = makeModel();
        const optimizer = muAdam(0.01, model.specs, { weightDecay: decay });
        for (let step = 0; step < 3; step++) applyStep(optimizer, model, step);
        for (const role of ROLE_NAMES) {
          expectClose(model.variables[role].dataSync(), referenceAdam(role, 3, 0.01, decay), role);
        }
        optimizer.dispose();
        model.dispose();
      });
    });
  }

  it('resumes from getWeights/setWeights exactly as an uninterrupted run', async () => {
    const before = tf.memory().numTensors;
    const straight = makeModel();
    const resumed = makeModel();
    const uninterrupted = muAdam(0.01, straight.specs, { weightDecay: 0.1 });
    for (let step = 0; step < 4; step++) applyStep(uninterrupted, straight, step);

    const first = muAdam(0.01, resumed.specs, { weightDecay: 0.1 });
    for (let step = 0; step < 2; step++) applyStep(first, resumed, step);
    const state = await first.getWeights();
    const second = muAdam(0.01, resumed.specs, { weightDecay: 0.1 });
    await second.setWeights(state);
    tf.dispose(state[0]!.tensor); // the iteration scalar; the moments belong to `first`
    first.dispose();
    for (let step = 2; step < 4; step++) applyStep(second, resumed, step);

    expect(second.iterations).toBe(4);
    for (const role of ROLE_NAMES) {
      expect(Array.from(resumed.variables[role].dataSync()), role).toEqual(
        Array.from(straight.variables[role].dataSync()),
      );
    }
    for (const disposable of [uninterrupted, second, straight, resumed]) disposable.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects a variable without a spec, naming it, and changes no weight', () => {
    expectNoLeak(() => {
      const model = makeModel();
      const stranger = tf.tidy(() => tf.variable(tf.ones([2]), true, 'adam_no_spec'));
      const optimizer = muAdam(0.1, model.specs);
      // The stranger comes last, so an optimizer that checks as it goes would already have moved the others.
      const gradients: tf.NamedTensorMap = {};
      for (const role of ROLE_NAMES) gradients[model.variables[role].name] = tf.onesLike(model.variables[role]);
      gradients[stranger.name] = tf.ones([2]);
      expect(() => optimizer.applyGradients(gradients)).toThrowError(MissingParamSpecError);
      expect(() => optimizer.applyGradients(gradients)).toThrowError(/'adam_no_spec'/);
      for (const role of ROLE_NAMES)
        expect(Array.from(model.variables[role].dataSync())).toEqual(initial(role).map(Math.fround));
      tf.dispose(Object.values(gradients));
      for (const disposable of [optimizer, model, stranger]) disposable.dispose();
    });
  });

  it("with parameterization 'sp' is Adam with one rate η for every role although params are given", () => {
    expectNoLeak(() => {
      const model = makeModel();
      const optimizer = muAdam(0.01, model.specs, { parameterization: 'sp' });
      for (let step = 0; step < 3; step++) applyStep(optimizer, model, step);
      for (const role of ROLE_NAMES) {
        expectClose(model.variables[role].dataSync(), referenceAdam(role, 3, 0.01, 0, 1), role);
      }
      optimizer.dispose();
      model.dispose();
    });
  });

  it('refuses state of another model instance (names match none of its params), or with a /m and no /v, changing nothing', async () => {
    const before = tf.memory().numTensors;
    const saved = makeModel();
    const other = makeModel();
    const first = muAdam(0.01, saved.specs);
    applyStep(first, saved, 0);
    const state = await first.getWeights();
    const second = muAdam(0.01, other.specs);
    await expect(second.setWeights(state)).rejects.toThrowError(InvalidOptionError);
    await expect(second.setWeights(state)).rejects.toThrowError(`'${saved.variables.output.name}'`);
    const halfState = state.filter(({ name }) => name !== `${saved.variables.input.name}/v`);
    await expect(first.setWeights(halfState)).rejects.toThrowError(
      `'${saved.variables.input.name}/m' has no matching '${saved.variables.input.name}/v'`,
    );
    expect([first.iterations, second.iterations]).toEqual([1, 0]);
    // first's own state was left as it was: a step continues from it exactly as from a restored copy.
    const restored = muAdam(0.01, saved.specs);
    const copies = await first.getWeights();
    await restored.setWeights(copies);
    expect(restored.iterations).toBe(1);
    tf.dispose([state[0]!.tensor, copies[0]!.tensor]);
    for (const disposable of [first, second, restored, saved, other]) disposable.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
