import { SingleBar } from 'cli-progress';
import type { BatchProgress, EpochSummary, TrainHooks, TrainStart } from '../training/train-result.js';

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
    `test loss ${summary.testLoss.toFixed(4)}, test acc ${percent(summary.testAccuracy)} (${summary.seconds.toFixed(1)} s)`
  );
}

/**
 * Training hooks that draw a progress bar per epoch on stderr (loss, running
 * accuracy, ETA of the whole run; nothing when stderr is not a terminal) and
 * write one line per finished epoch to `write`. `stop` clears a bar left
 * running by a run that ended mid-epoch (diverged or failed).
 */
export function trainProgress(write: (line: string) => void): Required<TrainHooks> & { stop(): void } {
  let bar: SingleBar | undefined;
  let epochs = 0;
  let stepsLeft = 0;
  let stepsDone = 0;
  let started = 0;
  return {
    onStart(start: TrainStart) {
      epochs = start.config.epochs;
      stepsLeft = (epochs - start.startEpoch) * start.batchesPerEpoch;
      started = performance.now();
    },
    onBatch(progress: BatchProgress) {
      if (bar === undefined) {
        bar = new SingleBar({
          format: `epoch ${progress.epoch}/${progress.epochs} [{bar}] {value}/{total} | loss {loss} | acc {accuracy} | ETA {remaining}`,
          barsize: 30,
          hideCursor: true,
          clearOnComplete: true,
        });
        bar.start(progress.batches, 0, { loss: '–', accuracy: '–', remaining: '–' });
      }
      stepsDone += 1;
      const perStep = (performance.now() - started) / 1000 / stepsDone;
      bar.update(progress.batch, {
        loss: progress.meanLoss.toFixed(4),
        accuracy: percent(progress.trainAccuracy),
        remaining: duration(perStep * (stepsLeft - stepsDone)),
      });
    },
    onEpoch(summary: EpochSummary) {
      bar?.stop();
      bar = undefined;
      write(epochLine(summary, epochs));
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}
