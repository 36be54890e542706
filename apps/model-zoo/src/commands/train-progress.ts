import type { BatchProgress, EpochSummary, TrainHooks, TrainStart } from '../training/train-result.js';
import { type ProgressBar, progressBar, progressStream } from './progress-bar.js';

export const percent = (fraction: number) => `${(100 * fraction).toFixed(2)}%`;

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '–';
  const whole = Math.round(seconds);
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const rest = String(whole % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${rest}` : `${minutes}:${rest}`;
}

/** The line printed after each epoch. */
export function epochLine(summary: EpochSummary, epochs: number): string {
  return (
    `epoch ${summary.epoch}/${epochs}: train loss ${summary.trainLoss.toFixed(4)}, train acc ${percent(summary.trainAccuracy)}, ` +
    (summary.testAccuracy === null || summary.testLoss === null
      ? 'not evaluated'
      : `test loss ${summary.testLoss.toFixed(4)}, test acc ${percent(summary.testAccuracy)}`) +
    ` (${summary.seconds.toFixed(1)} s)`
  );
}

/**
 * Training hooks that show progress (loss, running accuracy, ETA of the whole
 * run) and write one line per finished epoch to `write`. On a terminal a bar
 * per epoch, cleared when the epoch's line is written; elsewhere (a log file, CI)
 * one run-long progress of plain lines, at most one per 15 s, so quick epochs add
 * no lines of their own. `stop` ends progress left running by a run that ended
 * mid-epoch (diverged or failed).
 */
export function trainProgress(write: (line: string) => void): Required<TrainHooks> & { stop(): void } {
  const perEpoch = progressStream().isTTY === true;
  let bar: ProgressBar | undefined;
  let epochs = 0;
  let stepsLeft = 0;
  let stepsDone = 0;
  let started = 0;
  const stop = () => {
    bar?.stop();
    bar = undefined;
  };
  return {
    onStart(start: TrainStart) {
      epochs = start.config.epochs;
      stepsLeft = (epochs - start.startEpoch) * start.batchesPerEpoch;
      started = performance.now();
    },
    onBatch(progress: BatchProgress) {
      if (bar === undefined) {
        bar = perEpoch
          ? progressBar({
              label: `epoch ${progress.epoch}/${progress.epochs}`,
              format: '{value}/{total} batches | loss {loss} | acc {accuracy} | ETA {remaining}',
              clearOnComplete: true,
            })
          : progressBar({
              label: 'train',
              format: '{value}/{total} steps | epoch {epoch} | loss {loss} | acc {accuracy} | ETA {remaining}',
            });
        bar.start(perEpoch ? progress.batches : stepsLeft, 0, {
          epoch: `${progress.epoch}/${progress.epochs}`,
          loss: '–',
          accuracy: '–',
          remaining: '–',
        });
      }
      stepsDone += 1;
      const perStep = (performance.now() - started) / 1000 / stepsDone;
      bar.update(perEpoch ? progress.batch : stepsDone, {
        epoch: `${progress.epoch}/${progress.epochs}`,
        loss: progress.meanLoss.toFixed(4),
        accuracy: percent(progress.trainAccuracy),
        remaining: duration(perStep * (stepsLeft - stepsDone)),
      });
    },
    onEpoch(summary: EpochSummary) {
      if (perEpoch || summary.epoch === epochs) stop();
      write(epochLine(summary, epochs));
    },
    onNotice(message: string) {
      write(`warning: ${message}`);
    },
    stop,
  };
}
