import { Presets, SingleBar } from 'cli-progress';

/** How often a plain progress line is written when the output is not a terminal. */
export const PLAIN_PROGRESS_INTERVAL_MS = 15_000;

export interface ProgressBarOptions {
  /** What the progress is of, first on the line: 'sweep', 'coord check', 'epoch 3/10'. */
  readonly label: string;
  /** The rest of the line, in cli-progress placeholders: '{value}/{total} cells | ETA {remaining}'. */
  readonly format: string;
  /** Default: progressStream(). */
  readonly stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Milliseconds between plain lines off a terminal. */
  readonly plainIntervalMs?: number;
  /** On a terminal, remove the bar when it stops (for bars that come and go, such as one per epoch). */
  readonly clearOnComplete?: boolean;
}

/** Where progress goes: stderr when stdout is a terminal, else stdout, so `cmd > log.txt` logs the progress. */
export function progressStream(): NodeJS.WritableStream & { isTTY?: boolean } {
  return process.stdout.isTTY ? process.stderr : process.stdout;
}

export interface ProgressBar {
  start(total: number, value: number, payload?: Record<string, unknown>): void;
  update(value: number, payload?: Record<string, unknown>): void;
  stop(): void;
}

/**
 * A cli-progress bar on a terminal, and plain lines (`label value/total | …`, no bar
 * characters, no cursor codes) at most once per `plainIntervalMs` elsewhere: a log
 * file, CI, nohup. cli-progress writes its off-terminal lines from a timer, which a
 * synchronous training loop never lets run, so `update` also writes one when the
 * interval has passed. Off a terminal, `start` and `stop` each write a line too.
 */
export function progressBar(options: ProgressBarOptions): ProgressBar {
  const stream = options.stream ?? progressStream();
  const terminal = stream.isTTY === true;
  const interval = options.plainIntervalMs ?? PLAIN_PROGRESS_INTERVAL_MS;
  const bar = new SingleBar(
    {
      format: terminal ? `${options.label} [{bar}] ${options.format}` : `${options.label} ${options.format}`,
      stream,
      noTTYOutput: true,
      notTTYSchedule: interval,
      hideCursor: terminal,
      // Off a terminal the last line stays; cli-progress's extra newline on stop is left out.
      clearOnComplete: terminal ? options.clearOnComplete === true : true,
      barsize: 30,
    },
    Presets.shades_classic,
  );
  let running = false;
  let lastLine = 0;
  bar.on('redraw-post', () => {
    lastLine = Date.now();
  });
  return {
    start(total, value, payload) {
      running = true;
      bar.start(total, value, payload);
    },
    update(value, payload) {
      if (!running) return;
      bar.update(value, payload);
      if (!terminal && Date.now() - lastLine >= interval) bar.render();
    },
    stop() {
      if (!running) return;
      running = false;
      bar.stop();
    },
  };
}
