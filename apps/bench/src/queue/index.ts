export {
  CELL_JOB_NAME,
  CELL_PAYLOAD_VERSION,
  type CellJobData,
  cellJobData,
  cellJobId,
  parseCellJob,
} from './cell-job.js';
export { parseQueueAddress, type QueueAddress, type QueueAddressOptions } from './queue-address.js';
export { QueueError } from './queue-error.js';
export {
  DEFAULT_LOCK_DURATION_SECONDS,
  DEFAULT_STALLED_INTERVAL_SECONDS,
  type QueueWorker,
  type QueueWorkerEvent,
  type QueueWorkerOptions,
  startQueueWorker,
} from './queue-worker.js';
export {
  collectSweep,
  type QueuedSweepOptions,
  type QueuedSweepProgress,
  type QueuedSweepSummary,
  submitSweep,
} from './queued-sweep.js';
export {
  checkRedis,
  DEFAULT_ATTEMPTS,
  MAX_ATTEMPTS,
  openSweepQueue,
  QUEUE_PREFIX,
  type QueueStatus,
  queueStatus,
  type SweepQueue,
  submitCells,
  type WorkerBeat,
} from './sweep-queue.js';
