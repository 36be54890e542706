import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { DisposedVariableError, InvalidOptionError } from './errors.js';
import { muInit } from './mu-init.js';
import { paramSpecs } from './param-spec.js';

// Width 36 over base width 4: the readout's fanInMult is 9, so 'scaled' divides it by √9 = 3.
const SHAPES = {
  input: { shape: [5, 36], baseShape: [5, 4] },
  hidden: { shape: [36, 36], baseShape: [4, 4] },
  bias: { shape: [36], baseShape: [4] },
  readout: { shape: [36, 3], baseShape: [4, 3] },
  readoutBias: { shape: [3], baseShape: [3] },
} as const;
type Name = keyof typeof SHAPES;
const NAMES = Object.keys(SHAPES) as Name[];

function makeModel() {
  const variables = Object.fromEntries(
    NAMES.map((name, k) => [
      name,
      tf.tidy(() => tf.variable(tf.randomNormal([...SHAPES[name].shape], 0, 1, 'float32', k + 1))),
    ]),
  ) as Record<Name, tf.Variable>;
  const specs = paramSpecs(NAMES.map((name) => ({ variable: variables[name], baseShape: SHAPES[name].baseShape })));
  const read = () =>
    Object.fromEntries(NAMES.map((name) => [name, Array.from(variables[name].dataSync())])) as Record<Name, number[]>;
  return { variables, specs, read, dispose: () => NAMES.forEach((name) => variables[name].dispose()) };
}

function expectNoLeak(run: () => void): void {
  const before = tf.memory().numTensors;
  run();
  expect(tf.memory().numTensors).toBe(before);
}

describe('muInit', () => {
  it("'scaled' divides the output weights by √fanInMult and leaves every other parameter bit for bit", () => {
    expectNoLeak(() => {
      const model = makeModel();
      const before = model.read();
      muInit(model.specs);
      const after = model.read();
      before.readout.forEach((value, i) => expect(after.readout[i]).toBeCloseTo(value / 3, 6));
      for (const name of NAMES.filter((n) => n !== 'readout')) expect(after[name], name).toEqual(before[name]);
      model.dispose();
    });
  });

  it("'zero' sets the output weights to zero and leaves the rest", () => {
    expectNoLeak(() => {
      const model = makeModel();
      const before = model.read();
      muInit(model.specs, { readout: 'zero' });
      const after = model.read();
      expect(after.readout).toEqual(before.readout.map(() => 0));
      for (const name of NAMES.filter((n) => n !== 'readout')) expect(after[name], name).toEqual(before[name]);
      model.dispose();
    });
  });

  it('rejects an unknown readout mode, naming it', () => {
    const model = makeModel();
    expect(() => muInit(model.specs, { readout: 'tiny' as never })).toThrowError(InvalidOptionError);
    expect(() => muInit(model.specs, { readout: 'tiny' as never })).toThrowError(/"tiny"/);
    model.dispose();
  });

  it('rejects a spec whose variable was disposed, naming it, before changing anything', () => {
    const model = makeModel();
    const before = model.read();
    model.variables.bias.dispose();
    // The live readout comes before the disposed bias, so a muInit that checked as it went would scale it first.
    const readoutFirst = [model.specs[3]!, model.specs[2]!];
    expect(() => muInit(readoutFirst)).toThrowError(DisposedVariableError);
    expect(() => muInit(readoutFirst)).toThrowError(model.variables.bias.name);
    expect(Array.from(model.variables.readout.dataSync())).toEqual(before.readout);
    for (const name of NAMES.filter((n) => n !== 'bias')) model.variables[name].dispose();
  });
});
