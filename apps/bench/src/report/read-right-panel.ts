import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { RIGHT_PANEL_DIR } from '../experiments/figure1-right-panel.js';
import { readResults, type SweepRow } from '../sweep/results-log.js';

/**
 * The rows of a Figure 1 run's right panel (`right-panel/<sweep>/results.jsonl`, the extra seeds at
 * the widest width): none when the folder has no right panel.
 */
export async function readRightPanelRows(dir: string): Promise<SweepRow[]> {
  const panel = join(dir, RIGHT_PANEL_DIR);
  const entries = await readdir(panel, { withFileTypes: true }).catch(() => []);
  const rows: SweepRow[] = [];
  for (const entry of entries
    .filter((candidate) => candidate.isDirectory())
    .sort((a, b) => (a.name < b.name ? -1 : 1))) {
    rows.push(...(await readResults(join(panel, entry.name), { repair: false })));
  }
  return rows;
}
