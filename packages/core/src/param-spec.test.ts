import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { DisposedVariableError, InvalidOptionError, ShapeMismatchError } from './errors.js';
import {
  adamMultiplier,
  modelWidthMultiplier,
  type ParamSpec,
  paramSpecs,
  roleFromShapes,
  sgdMultiplier,
} from './param-spec.js';

const created: tf.Variable[] = [];
function variable(shape: number[], name?: string): tf.Variable {
  const made = tf.tidy(() => tf.variable(tf.zeros(shape), true, name));
  created.push(made);
  return made;
}
afterEach(() => {
  for (const made of created.splice(0)) if (!made.isDisposed) made.dispose();
});

describe('roleFromShapes', () => {
  // Each expectation is read off the shapes by hand: fan_in is the product of all but the last
  // dimension, fan_out the last one, and a multiplier is (this fan) / (base fan).
  it('dense [in, out]: input, hidden and output weights', () => {
    expect(roleFromShapes([10, 32], [10, 8])).toEqual({ role: 'input', fanInMult: 1, fanOutMult: 4 });
    expect(roleFromShapes([32, 48], [8, 16])).toEqual({ role: 'hidden', fanInMult: 4, fanOutMult: 3 });
    expect(roleFromShapes([32, 10], [8, 10])).toEqual({ role: 'output', fanInMult: 4, fanOutMult: 1 });
  });

  it('conv [kh, kw, in, out]: fan_in counts the kernel window, which does not grow', () => {
    expect(roleFromShapes([3, 3, 3, 64], [3, 3, 3, 16])).toEqual({ role: 'input', fanInMult: 1, fanOutMult: 4 });
    expect(roleFromShapes([3, 3, 32, 64], [3, 3, 16, 16])).toEqual({ role: 'hidden', fanInMult: 2, fanOutMult: 4 });
    expect(roleFromShapes([1, 1, 64, 10], [1, 1, 16, 10])).toEqual({ role: 'output', fanInMult: 4, fanOutMult: 1 });
  });

  it('a vector is a vector whether or not it grows; its multiplier is its own growth', () => {
    expect(roleFromShapes([64], [16])).toEqual({ role: 'vector', fanInMult: 1, fanOutMult: 4 });
    expect(roleFromShapes([10], [10])).toEqual({ role: 'vector', fanInMult: 1, fanOutMult: 1 });
  });

  it('rejects a rank mismatch with a ShapeMismatchError naming both shapes and the parameter', () => {
    const call = () => roleFromShapes([32, 32], [8], 'dense_2/kernel');
    expect(call).toThrowError(ShapeMismatchError);
    expect(call).toThrowError(/dense_2\/kernel.*\[32, 32\].*\[8\]/);
  });

  it('rejects a base shape with a zero or fractional size, naming it', () => {
    expect(() => roleFromShapes([32, 32], [8, 0], 'w')).toThrowError(ShapeMismatchError);
    expect(() => roleFromShapes([32, 32], [8, 0], 'w')).toThrowError(/\[8, 0\]/);
    expect(() => roleFromShapes([32, 32], [8, 2.5], 'w')).toThrowError(/\[8, 2\.5\]/);
  });
});

describe('paramSpecs', () => {
  it('derives role and multipliers from baseShape and keeps the norm flag', () => {
    const input = variable([6, 16]);
    const hidden = variable([16, 16]);
    const gain = variable([16]);
    const readout = variable([16, 3]);
    const specs = paramSpecs([
      { variable: input, baseShape: [6, 4] },
      { variable: hidden, baseShape: [4, 4] },
      { variable: gain, baseShape: [4], norm: true },
      { variable: readout, baseShape: [4, 3] },
    ]);
    expect(specs.map(({ variable: v, ...rest }) => ({ name: v.name, ...rest }))).toEqual([
      { name: input.name, role: 'input', fanInMult: 1, fanOutMult: 4, norm: false },
      { name: hidden.name, role: 'hidden', fanInMult: 4, fanOutMult: 4, norm: false },
      { name: gain.name, role: 'vector', fanInMult: 1, fanOutMult: 4, norm: true },
      { name: readout.name, role: 'output', fanInMult: 4, fanOutMult: 1, norm: false },
    ]);
    expect(specs[0]?.variable).toBe(input);
  });

  it('takes an explicit role, with multipliers defaulting to 1', () => {
    const w = variable([5, 5]);
    const [spec] = paramSpecs([{ variable: w, role: 'hidden', fanInMult: 2 }]);
    expect(spec).toMatchObject({ role: 'hidden', fanInMult: 2, fanOutMult: 1, norm: false });
  });

  it('rejects an unknown role, naming it and listing the roles', () => {
    const w = variable([5, 5], 'explicit_w');
    const call = () => paramSpecs([{ variable: w, role: 'diagonal' as never }]);
    expect(call).toThrowError(InvalidOptionError);
    expect(call).toThrowError(/'explicit_w'.*'diagonal'.*input, hidden, output, vector/);
  });

  it('rejects a non-positive multiplier, naming the value', () => {
    const w = variable([5, 5]);
    expect(() => paramSpecs([{ variable: w, role: 'hidden', fanInMult: -3 }])).toThrowError(InvalidOptionError);
    expect(() => paramSpecs([{ variable: w, role: 'hidden', fanInMult: -3 }])).toThrowError(/fanInMult.*-3/);
    expect(() => paramSpecs([{ variable: w, role: 'hidden', fanOutMult: Number.NaN }])).toThrowError(/NaN/);
  });

  it('rejects base shapes equal to every shape (no delta): no dimension would grow, so a readout would be an input', () => {
    const [hidden, readout] = [variable([8, 8], 'flat_hidden'), variable([8, 3], 'flat_readout')];
    const call = () =>
      paramSpecs([
        { variable: hidden, baseShape: [8, 8] },
        { variable: readout, baseShape: [8, 3] },
      ]);
    expect(call).toThrowError(InvalidOptionError);
    expect(call).toThrowError(/no dimension grows.*deltaShape/);
    // With a delta at another width the roles come out, at multiplier 1.
    const specs = paramSpecs([
      { variable: hidden, baseShape: [8, 8], deltaShape: [16, 16] },
      { variable: readout, baseShape: [8, 3], deltaShape: [16, 3] },
    ]);
    expect(specs.map(({ role, fanInMult, fanOutMult }) => [role, fanInMult, fanOutMult])).toEqual([
      ['hidden', 1, 1],
      ['output', 1, 1],
    ]);
    hidden.dispose();
    readout.dispose();
  });

  it('rejects a variable given twice, naming it', () => {
    const w = variable([4], 'twice_w');
    const call = () =>
      paramSpecs([
        { variable: w, baseShape: [2] },
        { variable: w, role: 'vector' },
      ]);
    expect(call).toThrowError(InvalidOptionError);
    expect(call).toThrowError(/'twice_w' appears twice/);
  });

  it('rejects a disposed variable with a DisposedVariableError naming it', () => {
    const w = variable([4], 'gone_w');
    w.dispose();
    const call = () => paramSpecs([{ variable: w, baseShape: [2] }]);
    expect(call).toThrowError(DisposedVariableError);
    expect(call).toThrowError(/'gone_w'/);
  });

  it('rejects a base shape of another rank with a ShapeMismatchError naming the variable', () => {
    const w = variable([8, 8], 'rank_w');
    const call = () => paramSpecs([{ variable: w, baseShape: [2] }]);
    expect(call).toThrowError(ShapeMismatchError);
    expect(call).toThrowError(/rank_w/);
  });

  it('rejects what is not a tf.Variable, saying what it got', () => {
    const plain = tf.tensor1d([1, 2]);
    try {
      expect(() => paramSpecs([{ variable: plain as tf.Variable, role: 'vector' }])).toThrowError(InvalidOptionError);
      expect(() => paramSpecs([{ variable: plain as tf.Variable, role: 'vector' }])).toThrowError(/tf\.Variable/);
    } finally {
      plain.dispose();
    }
    expect(() => paramSpecs([{ variable: 42 as never, role: 'vector' }])).toThrowError(InvalidOptionError);
    expect(() => paramSpecs([{ variable: 42 as never, role: 'vector' }])).toThrowError(/42/);
    expect(() => paramSpecs([{ variable: undefined as never, role: 'vector' }])).toThrowError(/undefined/);
  });
});

describe('multipliers', () => {
  const spec = (role: ParamSpec['role'], fanInMult: number, fanOutMult: number) =>
    ({ role, fanInMult, fanOutMult }) as Pick<ParamSpec, 'role' | 'fanInMult' | 'fanOutMult'>;

  it('sgdMultiplier is fanOutMult / fanInMult: input r, hidden 1, output 1/r, vector r', () => {
    expect(sgdMultiplier(spec('input', 1, 4))).toBe(4);
    expect(sgdMultiplier(spec('hidden', 4, 4))).toBe(1);
    expect(sgdMultiplier(spec('output', 4, 1))).toBe(0.25);
    expect(sgdMultiplier(spec('vector', 1, 4))).toBe(4);
  });

  it('adamMultiplier is 1 for input and vector, 1 / fanInMult for hidden and output', () => {
    expect(adamMultiplier(spec('input', 1, 4))).toBe(1);
    expect(adamMultiplier(spec('vector', 1, 4))).toBe(1);
    expect(adamMultiplier(spec('hidden', 4, 2))).toBe(0.25);
    expect(adamMultiplier(spec('output', 8, 1))).toBe(0.125);
  });
});

describe('modelWidthMultiplier', () => {
  it('is the fan-in multiplier of the hidden weights', () => {
    const specs = paramSpecs([
      { variable: variable([6, 24]), baseShape: [6, 4] },
      { variable: variable([24, 24]), baseShape: [4, 4] },
      { variable: variable([24, 3]), baseShape: [4, 3] },
    ]);
    expect(modelWidthMultiplier(specs)).toBe(6);
  });

  it('without hidden weights is the largest multiplier, and 1 with no specs', () => {
    const specs = paramSpecs([
      { variable: variable([6, 12]), baseShape: [6, 4] },
      { variable: variable([12, 3]), baseShape: [4, 3] },
    ]);
    expect(modelWidthMultiplier(specs)).toBe(3);
    expect(modelWidthMultiplier([])).toBe(1);
  });
});
