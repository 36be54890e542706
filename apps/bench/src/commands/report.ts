import { isAbsolute, resolve } from 'node:path';
import type { Command } from 'commander';
import { buildReport } from '../report/build-report.js';
import { userDirectory } from '../results-dir.js';

export function registerReportCommand(program: Command): void {
  program
    .command('report')
    // DESIGN.md §8 names the command `plot`/`report`.
    .alias('plot')
    .description(
      'Render a results folder to SVG + PNG figures (in <dir>/report-figures) and one self-contained report.html: ' +
        'sweep heatmaps, optima against width and accuracy against ρ (results.jsonl + grid.json), the coordinate ' +
        'check (coord.json), table2.json and perf.json as tables. Other files are listed, not fatal.',
    )
    .argument('<dir>', 'results folder (relative to where you run the command)')
    .action(async (dir: string) => {
      const folder = isAbsolute(dir) ? dir : resolve(userDirectory(), dir);
      const report = await buildReport(folder, (figure) => process.stdout.write(`  ${figure.png}\n`));
      if (report.folder.unknown.length > 0) {
        process.stdout.write(`Not recognised (listed in the report): ${report.folder.unknown.join(', ')}\n`);
      }
      for (const entry of report.folder.unreadable)
        process.stderr.write(`Could not read ${entry.file}: ${entry.reason}\n`);
      process.stdout.write(`Report: ${report.html}\n`);
    });
}
