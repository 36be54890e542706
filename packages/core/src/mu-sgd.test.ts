import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError, MissingParamSpecError } from './errors.js';
import { muSgd } from './mu-sgd.js';
import { type ParamSpec, paramSpecs } from './param-spec.js';

// One parameter per role, with fan-in and fan-out multipliers that differ, so a swapped
// ratio shows. m_p = fanOutMult / fanInMult, written out by hand from the shapes:
const ROLES = {
  input: { shape: [3, 8], baseShape: [3, 2], m: 4 / 1 },
  hidden: { shape: [8, 6], baseShape: [2, 3], m: 2 / 4 },
  output: { shape: [8, 3], baseShape: [2, 3], m: 1 / 4 },
  vector: { shape: [8], baseShape: [2], m: 4 / 1 },
} as const;
type Role = keyof typeof ROLES;
const ROLE_NAMES = Object.keys(ROLES) as Role[];

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const initial = (role: Role) =>
  Array.from({ length: size(ROLES[role].shape) }, (_, i) => Math.sin(1.3 * i + role.length));
const gradient = (role: Role, step: number) =>
  Array.from({ length: size(ROLES[role].shape) }, (_, i) => Math.cos(0.7 * i + step) * (step + 1));

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

function expectClose(actual: ArrayLike<number>, expected: readonly number[], what: string): void {
  expect(actual.length, what).toBe(expected.length);
  expected.forEach((value, i) => {
    expect(Math.abs((actual[i] as number) - value), `${what}[${i}]`).toBeLessThan(1e-5 * (1 + Math.abs(value)));
  });
}

function expectNoLeak(run: () => void): void {
  const before = tf.memory().numTensors;
  run();
  expect(tf.memory().numTensors).toBe(before);
}

describe('muSgd', () => {
  it('moves each role by lr · m_p · g', () => {
    expectNoLeak(() => {
      const model = makeModel();
      const optimizer = muSgd(0.1, model.specs);
      applyStep(optimizer, model, 0);
      for (const role of ROLE_NAMES) {
        const expected = initial(role).map((w, i) => w - 0.1 * ROLES[role].m * gradient(role, 0)[i]!);
        expectClose(model.variables[role].dataSync(), expected, role);
      }
      optimizer.dispose();
      model.dispose();
    });
  });

  for (const nesterov of [false, true]) {
    it(`with momentum and weight decay${nesterov ? ' (Nesterov)' : ''} follows PyTorch SGD per role for 3 steps`, () => {
      expectNoLeak(() => {
        const [lr, momentum, decay] = [0.05, 0.9, 0.01];
        const model = makeModel();
        const optimizer = muSgd(lr, model.specs, { momentum, weightDecay: decay, nesterov });
        const weights = Object.fromEntries(ROLE_NAMES.map((role) => [role, initial(role)])) as Record<Role, number[]>;
        const buffers: Partial<Record<Role, number[]>> = {};
        for (let step = 0; step < 3; step++) {
          applyStep(optimizer, model, step);
          for (const role of ROLE_NAMES) {
            // torch.optim.SGD: d = g + λw; buf = d at first, then μ·buf + d; nesterov uses d + μ·buf.
            const d = gradient(role, step).map((g, i) => g + decay * weights[role][i]!);
            const previous = buffers[role];
            const buffer = previous ? previous.map((b, i) => momentum * b + d[i]!) : d;
            buffers[role] = buffer;
            const direction = nesterov ? d.map((value, i) => value + momentum * buffer[i]!) : buffer;
            weights[role] = weights[role].map((w, i) => w - lr * ROLES[role].m * direction[i]!);
          }
        }
        for (const role of ROLE_NAMES) expectClose(model.variables[role].dataSync(), weights[role], role);
        optimizer.dispose();
        model.dispose();
      });
    });
  }

  it('without params is plain SGD (every multiplier 1)', () => {
    expectNoLeak(() => {
      const model = makeModel();
      const optimizer = muSgd(0.1);
      applyStep(optimizer, model, 0);
      for (const role of ROLE_NAMES) {
        expectClose(
          model.variables[role].dataSync(),
          initial(role).map((w, i) => w - 0.1 * gradient(role, 0)[i]!),
          role,
        );
      }
      optimizer.dispose();
      model.dispose();
    });
  });

  it('resumes from getWeights/setWeights exactly as an uninterrupted run', async () => {
    const before = tf.memory().numTensors;
    const options = { momentum: 0.9, weightDecay: 0.01 };
    const straight = makeModel();
    const resumed = makeModel();
    const uninterrupted = muSgd(0.05, straight.specs, options);
    for (let step = 0; step < 4; step++) applyStep(uninterrupted, straight, step);

    const first = muSgd(0.05, resumed.specs, options);
    for (let step = 0; step < 2; step++) applyStep(first, resumed, step);
    const state = await first.getWeights();
    const second = muSgd(0.05, resumed.specs, options);
    await second.setWeights(state);
    tf.dispose(state[0]!.tensor); // the iteration scalar; the buffers belong to `first`
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

  it('applyGradientsIfFinite takes the momentum step of finite gradients and leaves everything for a NaN or ±Infinity', async () => {
    const [lr, momentum] = [0.05, 0.9];
    const model = makeModel();
    const optimizer = muSgd(lr, model.specs, { momentum });
    const tryStep = (step: number, poison?: number) => {
      const gradients = Object.fromEntries(
        ROLE_NAMES.map((role) => {
          const values = gradient(role, step);
          if (poison !== undefined && role === 'hidden') values[5] = poison;
          return [model.variables[role].name, tf.tensor(values, [...ROLES[role].shape])];
        }),
      );
      const applied = optimizer.applyGradientsIfFinite(gradients);
      tf.dispose(Object.values(gradients));
      return applied;
    };
    const state = async () => {
      const weights = await optimizer.getWeights();
      const read = weights.map(({ name, tensor }) => [name, Array.from(tensor.dataSync())] as const);
      tf.dispose(weights[0]!.tensor);
      return [...read, ...ROLE_NAMES.map((role) => [role, Array.from(model.variables[role].dataSync())] as const)];
    };
    expect(tryStep(0)).toBe(true);
    const before = tf.memory().numTensors; // with the momentum buffers the first step made
    const afterFirst = await state();
    for (const poison of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(tryStep(1, poison), String(poison)).toBe(false);
      expect(await state(), String(poison)).toEqual(afterFirst);
      expect(optimizer.iterations).toBe(1);
    }
    expect(tryStep(1)).toBe(true);
    expect(optimizer.iterations).toBe(2);
    expect(tf.memory().numTensors).toBe(before);
    for (const role of ROLE_NAMES) {
      // PyTorch's heavy ball over the two finite steps: buf = g₀, then μ·buf + g₁; w − η·m·buf each step.
      const [g0, g1] = [gradient(role, 0), gradient(role, 1)];
      const expected = initial(role).map(
        (w, i) => w - lr * ROLES[role].m * g0[i]! - lr * ROLES[role].m * (momentum * g0[i]! + g1[i]!),
      );
      expectClose(model.variables[role].dataSync(), expected, role);
    }
    optimizer.dispose();
    model.dispose();
  });

  it('rejects a variable without a spec, naming it, and changes no weight', () => {
    expectNoLeak(() => {
      const model = makeModel();
      const stranger = tf.tidy(() => tf.variable(tf.ones([2]), true, 'no_spec_here'));
      const optimizer = muSgd(0.1, model.specs);
      const gradients = Object.fromEntries([
        ...ROLE_NAMES.map((role) => [model.variables[role].name, tf.onesLike(model.variables[role])] as const),
        [stranger.name, tf.ones([2])] as const,
      ]);
      expect(() => optimizer.applyGradients(gradients)).toThrowError(MissingParamSpecError);
      expect(() => optimizer.applyGradients(gradients)).toThrowError(/'no_spec_here'/);
      for (const role of ROLE_NAMES)
        expect(Array.from(model.variables[role].dataSync())).toEqual(initial(role).map(Math.fround));
      expect(optimizer.iterations).toBe(0);
      tf.dispose(Object.values(gradients));
      for (const disposable of [optimizer, model, stranger]) disposable.dispose();
    });
  });

  it("with parameterization 'sp' takes one rate for every role although params are given", () => {
    expectNoLeak(() => {
      const model = makeModel();
      const optimizer = muSgd(0.1, model.specs, { parameterization: 'sp' });
      applyStep(optimizer, model, 0);
      for (const role of ROLE_NAMES) {
        expectClose(
          model.variables[role].dataSync(),
          initial(role).map((w, i) => w - 0.1 * gradient(role, 0)[i]!),
          role,
        );
      }
      expect(() => muSgd(0.1, model.specs, { parameterization: 'SP' as never })).toThrowError(/'mup' or 'sp'.*"SP"/);
      optimizer.dispose();
      model.dispose();
    });
  });

  it('refuses state whose names match none of its variables (another model instance), changing nothing', async () => {
    const before = tf.memory().numTensors;
    const saved = makeModel();
    const other = makeModel(); // the same architecture, built again: other variable names
    const first = muSgd(0.05, saved.specs, { momentum: 0.9 });
    for (let step = 0; step < 2; step++) applyStep(first, saved, step);
    const state = await first.getWeights();
    const second = muSgd(0.05, other.specs, { momentum: 0.9 });
    applyStep(second, other, 0);
    const own = await second.getWeights();
    const ownValues = own.map(({ tensor }) => Array.from(tensor.dataSync()));
    const call = () => second.setWeights(state);
    await expect(call()).rejects.toThrowError(InvalidOptionError);
    await expect(call()).rejects.toThrowError(`'${saved.variables.input.name}'`);
    await expect(call()).rejects.toThrowError(/not exist in its params.*expected names of.*layers a `name`/);
    expect(second.iterations).toBe(1);
    const after = await second.getWeights();
    expect(after.map(({ tensor }) => Array.from(tensor.dataSync()))).toEqual(ownValues);
    // Without params it checks the variables that exist: a disposed model's names are refused too.
    const plain = muSgd(0.05, undefined, { momentum: 0.9 });
    saved.dispose();
    await expect(plain.setWeights(state)).rejects.toThrowError(`'${saved.variables.hidden.name}'`);
    tf.dispose([state[0]!.tensor, own[0]!.tensor, after[0]!.tensor]);
    for (const disposable of [first, second, plain, other]) disposable.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
