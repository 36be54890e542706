// Scores Figure 1's regime pilots by the rule of docs/bench.md ("Choosing the regime"), one results
// folder per candidate, and prints the table that docs/bench.md quotes:
//
//   pnpm --filter @mup2/bench exec tsx src/experiments/score-regime-pilots.ts ../../docs/results/figure1-pilot/regime/*/
import { basename } from 'node:path';
import { readResults } from '../sweep/results-log.js';
import { regimeScore } from './regime-score.js';

const percent = (value: number) => (100 * value).toFixed(2);
const lines = [
  '| candidate | cells | seconds per cell | best SGD: η — test % ± std (train %) | best SAM: η, ρ — test % ± std (train %) | gain, points | score |',
  '|---|---:|---:|---|---|---:|---:|',
];
for (const dir of process.argv.slice(2)) {
  const rows = await readResults(dir);
  const result = regimeScore(rows);
  const seconds = rows.reduce((sum, row) => sum + (row.seconds ?? 0), 0) / Math.max(1, rows.length);
  if (result === undefined) {
    lines.push(`| ${basename(dir)} | ${rows.length} | ${seconds.toFixed(1)} | – | – | – | – |`);
    continue;
  }
  const train = (value: number | null) => (value === null ? '–' : percent(value));
  const { bestSam: sam, bestSgd: sgd } = result;
  lines.push(
    `| ${basename(dir)} | ${rows.length} | ${seconds.toFixed(1)} | ${sgd.lr} — ${percent(sgd.meanAccuracy)} ± ${percent(sgd.stdAccuracy)} (${train(sgd.meanTrainAccuracy)}) | ` +
      `${sam.lr}, ${sam.rho} — ${percent(sam.meanAccuracy)} ± ${percent(sam.stdAccuracy)} (${train(sam.meanTrainAccuracy)}) | ` +
      `${(100 * result.gain).toFixed(2)} | ${result.score.toFixed(2)} |`,
  );
}
process.stdout.write(`${lines.join('\n')}\n`);
