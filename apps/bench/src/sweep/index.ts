export { canonicalJson, sha256Hex } from './canonical-json.js';
export { cellId } from './cell-id.js';
export {
  type CellConfig,
  DEFAULT_GRID_LISTS,
  expandGrid,
  GRID_KEYS,
  GRID_LIST_KEYS,
  GRID_SETTING_KEYS,
  gridHash,
  parseGrid,
  type SweepCell,
  type SweepGrid,
  type SweepGridInput,
} from './grid.js';
export { type GridFile, readGridFile } from './grid-file.js';
export {
  type CellStatus,
  RESULTS_FILE,
  type ReadResultsOptions,
  ResultsLog,
  readResults,
  type SweepRow,
} from './results-log.js';
export {
  checkSweep,
  runSweep,
  type SweepOptions,
  type SweepProgress,
  type SweepSummary,
} from './run-sweep.js';
export { SweepError } from './sweep-error.js';
export { GRID_FILE, type GridRecord, openSweepFolder, readGridRecord, type SweepFolder } from './sweep-folder.js';
export { LOCK_FILE, lockSweepFolder } from './sweep-lock.js';
export { type CellRunner, createSweepPool } from './sweep-pool.js';
export { bestRuns, differingCells, measureSweepThroughput, type ThroughputRun } from './sweep-throughput.js';
export type { CellTask, WarmupTask } from './sweep-worker.js';
export {
  type CellOutcome,
  checkCellConfig,
  checkDataset,
  describeError,
  failedOutcome,
  trainCell,
} from './train-cell.js';
