import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { progressBar } from './progress-bar.js';

/** A stream that keeps what is written to it; `isTTY` as a terminal or a log file would report it. */
function capture(isTTY: boolean) {
  let text = '';
  const stream = Object.assign(
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        text += chunk.toString();
        done();
      },
    }),
    { isTTY, columns: 120 },
  );
  return { stream, text: () => text };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('progressBar off a terminal', () => {
  it('writes plain lines, at most one per interval, even from a loop that never yields', () => {
    const out = capture(false);
    const bar = progressBar({ label: 'sweep', format: '{value}/{total} cells | ETA {remaining}', stream: out.stream });
    bar.start(100, 0, { remaining: '…' });
    for (let done = 1; done <= 100; done += 1) {
      // 1 s per cell, without returning to the event loop (as a synchronous training loop does).
      vi.setSystemTime(Date.now() + 1000);
      bar.update(done, { remaining: `${100 - done}s` });
    }
    bar.stop();
    const lines = out.text().split('\n').filter(Boolean);
    // The start, one line per 15 s over 100 s, and the final line.
    expect(lines).toHaveLength(1 + Math.floor(100 / 15) + 1);
    expect(lines[0]).toBe('sweep 0/100 cells | ETA …');
    expect(lines[1]).toBe('sweep 15/100 cells | ETA 85s');
    expect(lines.at(-1)).toBe('sweep 100/100 cells | ETA 0s');
    // No bar characters and no cursor or erase codes in a log file.
    expect(out.text()).not.toMatch(/[█░]/);
    expect(out.text()).not.toContain(String.fromCharCode(0x1b));
  });

  it('writes from its timer while an asynchronous run waits', async () => {
    const out = capture(false);
    const bar = progressBar({ label: 'queue', format: '{value}/{total}', stream: out.stream, plainIntervalMs: 1000 });
    bar.start(10, 3);
    await vi.advanceTimersByTimeAsync(3500);
    bar.stop();
    expect(out.text().split('\n').filter(Boolean)).toEqual([
      'queue 3/10',
      'queue 3/10',
      'queue 3/10',
      'queue 3/10',
      'queue 3/10',
    ]);
  });
});

describe('progressBar on a terminal', () => {
  it('draws a bar in place', () => {
    const out = capture(true);
    const bar = progressBar({ label: 'sweep', format: '{value}/{total} cells', stream: out.stream });
    bar.start(4, 0);
    bar.update(2);
    bar.stop();
    expect(out.text()).toMatch(/sweep \[[█░]+\] 2\/4 cells/);
  });
});
