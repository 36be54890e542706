// One figure1 throughput measurement in a process of its own (figure1-throughput.ts starts it):
// libtensorflow sizes its thread pools once per process, for the number of workers it will serve
// (configureNativeThreads), so 1 and 2 workers are each measured as `bench figure1` would run them.
// Prints one JSON line: { workers, cells, seconds, cellsPerSecond, coresUsed, backend }.
import { parseArgs } from 'node:util';
import { configureNativeThreads, loadRules } from '@mup2/model-zoo';
import { parseGrid, type SweepGridInput } from '../sweep/grid.js';
import { measureSweepThroughput } from '../sweep/sweep-throughput.js';

const { values } = parseArgs({
  options: { workers: { type: 'string' }, grid: { type: 'string' }, backend: { type: 'string' } },
});
const workers = Number(values.workers);
configureNativeThreads({ workers });
const grid = parseGrid(JSON.parse(values.grid as string) as SweepGridInput, await loadRules());
const [run] = await measureSweepThroughput(grid, [workers], values.backend ? { backend: values.backend } : {});
if (run === undefined) throw new Error('figure1 throughput: the sweep ran no cells');
const { rows, ...measured } = run;
const backend = rows[0]?.backend;
process.stdout.write(`${JSON.stringify({ ...measured, backend })}\n`);
process.exit(0);
