import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from './errors.js';
import { PRESET_NAMES, parsePreset } from './presets.js';

// The presets of the paper's Figure 1, copied from the table in docs/mup2-explained.md.
const TABLE = {
  'sp-naive': { parameterization: 'sp', scaling: 'naive' },
  'sp-lp': { parameterization: 'sp', scaling: 'mup2' },
  'mup-naive': { parameterization: 'mup', scaling: 'naive' },
  'mup-global': { parameterization: 'mup', scaling: 'global' },
  mup2: { parameterization: 'mup', scaling: 'mup2' },
} as const;

describe('parsePreset', () => {
  for (const [name, preset] of Object.entries(TABLE)) {
    it(`'${name}' is ${preset.parameterization} with ${preset.scaling} scaling`, () => {
      expect(parsePreset(name)).toEqual({ name, ...preset });
    });
  }

  it('knows exactly the five presets of the design', () => {
    expect([...PRESET_NAMES].sort()).toEqual(Object.keys(TABLE).sort());
  });

  it('rejects an unknown name, naming it and listing the known ones', () => {
    expect(() => parsePreset('mup3')).toThrowError(InvalidOptionError);
    expect(() => parsePreset('mup3')).toThrowError(/"mup3"/);
    for (const name of Object.keys(TABLE)) expect(() => parsePreset('mup3')).toThrowError(`'${name}'`);
  });

  it('does not take inherited object keys for presets', () => {
    expect(() => parsePreset('toString')).toThrowError(InvalidOptionError);
  });
});
