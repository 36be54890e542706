import type { SweepRow } from '../sweep/results-log.js';

export interface Table2Cell {
  readonly rule: string;
  readonly parameterization: 'SP' | 'µP²';
  readonly rho: number;
  /** Final test accuracies of the seeds that finished (diverged runs count as 0). */
  readonly accuracies: number[];
  readonly mean: number;
  /** Sample standard deviation (n − 1); 0 for one seed. */
  readonly std: number;
  /** mean − the SGD mean of the same parameterization, in accuracy (0.01 = one point). */
  readonly improvementOverSgd: number | null;
}

/** How the table names rules ('sgd' → 'SGD'; others by their descriptor's label) and in which order it lists them. */
export interface Table2Layout {
  /** Rule names in row order; rules not listed follow, by name. */
  readonly order: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
}

const DEFAULT_LAYOUT: Table2Layout = { order: ['sgd'], labels: {} };
const labelOf = (layout: Table2Layout, rule: string) => layout.labels[rule] ?? (rule === 'sgd' ? 'SGD' : rule);
const rank = (layout: Table2Layout) => (rule: string) => {
  const index = [...layout.order].indexOf(rule);
  return index === -1 ? layout.order.length : index;
};

function meanStd(values: readonly number[]): { mean: number; std: number } {
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  const variance =
    values.length > 1 ? values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (values.length - 1) : 0;
  return { mean, std: Math.sqrt(variance) };
}

/**
 * The paper's Table 2 from sweep rows: mean ± std of the final test accuracy
 * over seeds per rule in SP ('sp-naive') and µP² ('mup2'), and each rule's
 * improvement over SGD in the same parameterization. Failed cells are left out.
 */
export function table2Cells(rows: readonly SweepRow[], layout: Table2Layout = DEFAULT_LAYOUT): Table2Cell[] {
  const order = rank(layout);
  const groups = new Map<string, { rule: string; parameterization: 'SP' | 'µP²'; rho: number; accuracies: number[] }>();
  for (const row of rows) {
    if (row.status === 'failed') continue;
    const parameterization = row.config.preset.startsWith('sp') ? 'SP' : 'µP²';
    const key = `${row.config.rule}\u0000${parameterization}`;
    const group = groups.get(key) ?? { rule: row.config.rule, parameterization, rho: row.config.rho, accuracies: [] };
    const accuracy = row.finalTestAccuracy;
    group.accuracies.push(typeof accuracy === 'number' && Number.isFinite(accuracy) ? accuracy : 0);
    groups.set(key, group);
  }
  const cells = [...groups.values()].map((group) => ({ ...group, ...meanStd(group.accuracies) }));
  return cells
    .map((cell) => {
      const sgd = cells.find((other) => other.rule === 'sgd' && other.parameterization === cell.parameterization);
      return { ...cell, improvementOverSgd: sgd && cell.rule !== 'sgd' ? cell.mean - sgd.mean : null };
    })
    .sort(
      (a, b) =>
        order(a.rule) - order(b.rule) ||
        (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0) ||
        (a.parameterization === 'SP' ? -1 : 1) - (b.parameterization === 'SP' ? -1 : 1),
    );
}

const percent = (value: number) => (100 * value).toFixed(2);

/** Table 2's layout: a row per rule, for SP and µP² the accuracy (mean ± std) and the improvement over SGD. */
export function table2Markdown(cells: readonly Table2Cell[], layout: Table2Layout = DEFAULT_LAYOUT): string {
  const lines = [
    '| rule | SP: accuracy (%) | SP: vs SGD | µP²: accuracy (%) | µP²: vs SGD |',
    '|---|---:|---:|---:|---:|',
  ];
  // The cells come sorted (table2Cells): their rules in first appearance are the row order.
  const rules = [...new Set(cells.map((cell) => cell.rule))];
  for (const rule of rules) {
    const columns = (['SP', 'µP²'] as const).flatMap((parameterization) => {
      const cell = cells.find((entry) => entry.rule === rule && entry.parameterization === parameterization);
      if (!cell) return ['–', '–'];
      const improvement =
        cell.improvementOverSgd === null
          ? '–'
          : `${cell.improvementOverSgd >= 0 ? '+' : ''}${percent(cell.improvementOverSgd)}`;
      return [`${percent(cell.mean)} ± ${percent(cell.std)} (n=${cell.accuracies.length})`, improvement];
    });
    lines.push(`| ${labelOf(layout, rule)} | ${columns.join(' | ')} |`);
  }
  return lines.join('\n');
}
