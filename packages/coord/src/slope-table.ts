import type { CoordCheckResult } from './coord-check.js';
import { compareGroups } from './layer-group.js';
import type { CoordQuantity } from './measure-model.js';

export interface SlopeTableOptions {
  /** Default 'perturbation'. */
  readonly quantity?: CoordQuantity;
  /** 'group' (default): one column per kind of layer, its mean slope (and range when layers differ); 'layer': one column per layer. */
  readonly by?: 'group' | 'layer';
}

const cell = (value: number) => value.toFixed(2).replace(/^-(0\.00)$/, '$1');

/**
 * The slopes as a Markdown table: one row per preset, one column per group of layers (or per
 * layer). A group's cell is its layers' mean slope, with their range when there are several
 * and they differ; a '*' marks an exponent that has not settled.
 */
export function slopeTable(
  result: Pick<CoordCheckResult, 'presets' | 'slopes' | 'groups'>,
  options: SlopeTableOptions = {},
): string {
  const quantity = options.quantity ?? 'perturbation';
  const byLayer = options.by === 'layer';
  const columns = byLayer
    ? [...new Set(result.slopes.filter((slope) => slope.quantity === quantity).map((slope) => slope.layer))]
    : [...new Set(result.groups.filter((group) => group.quantity === quantity).map((group) => group.group))].sort(
        compareGroups,
      );
  const lines = [`| preset | ${columns.join(' | ')} |`, `|---|${columns.map(() => '---:').join('|')}|`];
  for (const preset of result.presets) {
    const cells = columns.map((column) => {
      if (byLayer) {
        const found = result.slopes.find(
          (slope) => slope.preset === preset && slope.quantity === quantity && slope.layer === column,
        );
        if (!found) return '–';
        return found.negligible ? 'round-off' : `${cell(found.slope)}${found.settled ? '' : '*'}`;
      }
      const found = result.groups.find(
        (group) => group.preset === preset && group.quantity === quantity && group.group === column,
      );
      if (!found) return '–';
      const range =
        found.layers > 1 && found.max - found.min >= 0.005 ? ` (${cell(found.min)}…${cell(found.max)})` : '';
      return `${cell(found.mean)}${range}${found.settled ? '' : '*'}`;
    });
    lines.push(`| ${preset} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}
