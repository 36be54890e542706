import { loadRules } from '@mup2/model-zoo';
import { describe, expect, it } from 'vitest';
import { cellId } from './cell-id.js';
import { expandGrid, gridHash, parseGrid } from './grid.js';

const rules = await loadRules();

describe('parseGrid', () => {
  it('fills the defaults and brings lists to canonical order', () => {
    const grid = parseGrid({ lrs: '0.5, 0.1,0.5', rules: ['sam', 'sgd'], seeds: 3 });
    expect(grid.lrs).toEqual([0.1, 0.5]);
    expect(grid.rules).toEqual(['sgd', 'sam']);
    expect(grid.seeds).toEqual([3]);
    expect(grid.models).toEqual(['mlp']);
    expect(grid.limit).toBeNull();
    expect(grid.testLimit).toBeNull();
  });

  it('gives grids with the same cells the same hash, whatever order and form they were written in', () => {
    const a = parseGrid({ lrs: [0.1, 0.05], widths: '1,2', rules: 'sam,sgd' });
    const b = parseGrid({ rules: ['sgd', 'sam'], widths: [2, 1, 1], lrs: ['0.05', 0.1] });
    expect(gridHash(a)).toBe(gridHash(b));
    expect(gridHash(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(gridHash(parseGrid({ lrs: [0.1] }))).not.toBe(gridHash(a));
  });

  it('drops the radii from a grid of SGD runs only', () => {
    expect(gridHash(parseGrid({ rules: 'sgd', rhos: '0.1' }))).toBe(gridHash(parseGrid({ rules: 'sgd', rhos: '0.2' })));
  });

  it.each([
    [{ lrs: '' }, /lrs is empty/],
    [{ lrs: [] }, /lrs is empty/],
    [{ lrs: '0.1,' }, /lrs has an empty item/],
    [{ lrs: '0.1,abc' }, /lrs must hold numbers, got 'abc'/],
    [{ widths: '0' }, /widths must hold positive numbers, got '0'/],
    [{ seeds: '1.5' }, /seeds must hold integers >= 0/],
    [{ epochs: [0] }, /epochs must hold positive integers/],
    [
      { rules: 'sam,adam' },
      /unknown rules name 'adam'; expected some of sgd, asam, friendly-sam, gsam, looksam, sam, sam-on \(the installed/,
    ],
    [{ rules: 'sam', mSharpness: 0 }, /mSharpness must be one of positive integers, got 0/],
    [{ rules: 'sam', ruleOptions: { sam: { eta: 1 } } }, /rule 'sam' has no option 'eta'/],
    [
      { rules: 'sam', ruleOptions: { asam: { eta: 1 } } },
      /ruleOptions names rule 'asam', which is not a perturbing rule/,
    ],
    [{ presets: 'mup3' }, /unknown presets name 'mup3'/],
    [{ limit: 'many' }, /limit must hold numbers, got 'many'/],
    [{ momentum: 1 }, /momentum must be in \[0, 1\)/],
    [{ optimizer: 'lion' }, /unknown optimizer 'lion'/],
    [{ labelNoise: 1 }, /labelNoise must be one of fractions in \[0, 1\), got 1/],
    [{ learningRates: [0.1] }, /unknown member 'learningRates'/],
  ])('rejects %j', (input, message) => {
    expect(() => parseGrid(input as never, rules)).toThrow(message);
  });

  it('leaves the settings added with m-sharpness and ε reuse out of the grid when unset, so older grids keep their hash', () => {
    const grid = parseGrid({ rules: 'sgd,sam', perturbationInterval: 1 });
    expect(Object.keys(grid)).not.toEqual(expect.arrayContaining(['mSharpness']));
    expect('perturbationInterval' in grid || 'ruleOptions' in grid).toBe(false);
    expect(gridHash(grid)).toBe(gridHash(parseGrid({ rules: 'sam,sgd' })));
    expect(gridHash(parseGrid({ rules: 'sgd,sam', perturbationInterval: 5 }))).not.toBe(gridHash(grid));
    expect(gridHash(parseGrid({ rules: 'sgd,sam', labelNoise: 0 }))).toBe(gridHash(grid));
  });

  it('gives label noise to every cell, SGD included, and only when it is set', () => {
    const noisy = expandGrid(parseGrid({ rules: 'sgd,sam', labelNoise: '0.2' }));
    expect(noisy.map((cell) => cell.config.labelNoise)).toEqual([0.2, 0.2]);
    expect(expandGrid(parseGrid({ rules: 'sgd,sam' })).some((cell) => 'labelNoise' in cell.config)).toBe(false);
  });
});

describe('expandGrid', () => {
  it('makes one cell per combination, and one SGD cell (rho 0) instead of one per radius', () => {
    const grid = parseGrid({
      rules: 'sgd,sam,asam',
      presets: 'mup2,sp-naive',
      widths: '1,2',
      lrs: '0.1,0.2,0.4',
      rhos: '0.05,0.1',
      seeds: '1,2',
    });
    const cells = expandGrid(grid);
    // per (preset, width, lr, seed): 1 SGD cell + 2 rules × 2 radii
    expect(cells).toHaveLength(2 * 2 * 3 * 2 * (1 + 2 * 2));
    expect(new Set(cells.map((cell) => cell.id)).size).toBe(cells.length);
    const sgd = cells.filter((cell) => cell.config.rule === 'sgd');
    expect(sgd).toHaveLength(2 * 2 * 3 * 2);
    expect(sgd.every((cell) => cell.config.rho === 0)).toBe(true);
  });

  it('passes the settings a grid sets, and only those, to every cell', () => {
    const [cell] = expandGrid(parseGrid({ rules: 'sam', limit: 256, testLimit: 1000, weightDecay: '5e-4' }));
    expect(cell?.config).toEqual({
      model: 'mlp',
      dataset: 'mnist',
      widthMult: 1,
      rule: 'sam',
      preset: 'mup2',
      lr: 0.1,
      rho: 0.1,
      epochs: 1,
      batch: 64,
      seed: 0,
      limit: 256,
      testLimit: 1000,
      weightDecay: 5e-4,
    });
  });
});

describe('expandGrid with m-sharpness, ε reuse and rule options', () => {
  it('gives them to the perturbing cells only, each rule its own options', () => {
    const grid = parseGrid(
      { rules: 'sgd,sam,asam', mSharpness: 16, ruleOptions: { asam: { eta: '0.02' } }, lrs: [0.1] },
      rules,
    );
    const byRule = Object.fromEntries(expandGrid(grid).map((cell) => [cell.config.rule, cell.config]));
    expect(byRule.sgd).not.toHaveProperty('mSharpness');
    expect(byRule.sgd).not.toHaveProperty('ruleOptions');
    expect(byRule.sam).toMatchObject({ mSharpness: 16 });
    expect(byRule.sam).not.toHaveProperty('ruleOptions');
    expect(byRule.asam).toMatchObject({ mSharpness: 16, ruleOptions: { eta: 0.02 } });
    const [interval] = expandGrid(parseGrid({ rules: 'sam', perturbationInterval: 5 }));
    expect(interval?.config.perturbationInterval).toBe(5);
  });
});

describe('cellId', () => {
  it('depends on the config, not on the order of its keys', () => {
    const config = { model: 'mlp', dataset: 'mnist', widthMult: 1, rule: 'sgd', preset: 'mup2' } as const;
    const reordered = { preset: 'mup2', rule: 'sgd', widthMult: 1, dataset: 'mnist', model: 'mlp' } as const;
    const base = { lr: 0.1, rho: 0, epochs: 1, batch: 64, seed: 1 };
    expect(cellId({ ...config, ...base })).toBe(cellId({ ...reordered, ...base }));
    expect(cellId({ ...config, ...base })).toMatch(/^[0-9a-f]{16}$/);
    expect(cellId({ ...config, ...base, seed: 2 })).not.toBe(cellId({ ...config, ...base }));
  });
});

describe('expandGrid with SGD among the rules', () => {
  it('runs SGD once per parameterization, under the first preset of the grid that has it', () => {
    const grid = parseGrid({
      rules: ['sgd', 'sam'],
      presets: ['mup-global', 'sp-naive', 'mup2', 'sp-lp'],
      lrs: [0.1],
      rhos: [0.05, 0.1],
    });
    const cells = expandGrid(grid);
    const sgd = cells.filter((cell) => cell.config.rule === 'sgd').map((cell) => cell.config.preset);
    expect(sgd.sort()).toEqual(['mup-global', 'sp-naive']);
    expect(cells.filter((cell) => cell.config.rule === 'sam')).toHaveLength(4 * 2);
    expect(new Set(cells.map((cell) => cell.id)).size).toBe(cells.length);
  });
});
