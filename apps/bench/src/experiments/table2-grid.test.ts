import { RESNET18_BASE_WIDTH_MULT } from '@mup2/model-zoo';
import { describe, expect, it } from 'vitest';
import { parseGrid } from '../sweep/grid.js';
import { Table2OptionsError, table2BaseGrid } from './table2-grid.js';

describe('table2BaseGrid', () => {
  it('the full run: ResNet-18 ×4, 4 seeds, 10 epochs, batch 128, every image, one evaluation at the end', () => {
    const grid = parseGrid({ ...table2BaseGrid({ quick: false, lr: 0.05 }, 'cifar10'), rules: ['sgd'] });
    expect(grid.models).toEqual(['resnet18']);
    expect(grid.datasets).toEqual(['cifar10']);
    expect(grid.presets).toEqual(['sp-naive', 'mup2']);
    expect(grid.widths).toEqual([4]);
    expect(grid.seeds).toEqual([0, 1, 2, 3]);
    expect(grid.epochs).toEqual([10]);
    expect(grid.batches).toEqual([128]);
    expect(grid.evalEvery).toBe(10);
    expect(grid.limit).toBeNull();
    expect(grid.testLimit).toBeNull();
    expect([grid.momentum, grid.weightDecay]).toEqual([0.9, 5e-4]);
  });

  it('the quick run: µP’s base width on 1,000 images, 2 epochs, batch 64, 2 seeds', () => {
    const grid = table2BaseGrid({ quick: true, lr: 0.05 }, 'mnist');
    expect(grid.widths).toEqual([RESNET18_BASE_WIDTH_MULT]);
    expect(grid.limit).toBe(1000);
    expect(grid.epochs).toEqual([2]);
    expect(grid.batches).toEqual([64]);
    expect(grid.seeds).toEqual([0, 1]);
  });

  it('--width-mult, --seeds, --epochs, --limit, --test-limit, --batch and --lr each reach the grid', () => {
    const grid = table2BaseGrid(
      { quick: true, widthMult: 1, seeds: 3, epochs: 5, limit: 2500, testLimit: 10000, batch: 32, lr: 0.1 },
      'fashion-mnist',
    );
    expect(grid).toMatchObject({
      widths: [1],
      seeds: [0, 1, 2],
      epochs: [5],
      evalEvery: 5,
      limit: 2500,
      testLimit: 10000,
      batches: [32],
      lrs: [0.1],
    });
  });

  it('a width below µP’s base: a clear error naming the value and the smallest allowed', () => {
    expect(() => table2BaseGrid({ quick: false, widthMult: 0.125, lr: 0.05 }, 'mnist')).toThrow(Table2OptionsError);
    expect(() => table2BaseGrid({ quick: false, widthMult: 0.125, lr: 0.05 }, 'mnist')).toThrow(
      new RegExp(`--width-mult 0.125 is below µP's base width multiplier ${RESNET18_BASE_WIDTH_MULT}`),
    );
  });
});
