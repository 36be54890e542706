import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const summaryScript = fileURLToPath(new URL('./vitest-summary.mjs', import.meta.url));
const vitestBin = fileURLToPath(new URL('../node_modules/vitest/vitest.mjs', import.meta.url));

// Test files of a made-up project, run by vitest itself so the report is a real one:
// 2 tests pass and 1 is skipped; a file fails to load; a file's beforeAll throws
// (vitest reports its 2 tests as skipped and no test as failed).
const FIXTURE_FILES = {
  'passes.test.ts': `import { expect, it } from 'vitest';
it('one', () => expect(1).toBe(1));
it('two', () => expect(2).toBe(2));
it.skip('skipped', () => {});
`,
  'fails-to-load.test.ts': `import { it } from 'vitest';
import './no-such-module.js';
it('never runs', () => {});
`,
  'before-all-throws.test.ts': `import { beforeAll, describe, it } from 'vitest';
describe('a suite', () => {
  beforeAll(() => { throw new Error('set-up failed'); });
  it('a', () => {});
  it('b', () => {});
});
`,
};

let folder: string;
let report: string;
beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), 'mup2-vitest-summary-'));
  for (const [name, text] of Object.entries(FIXTURE_FILES)) writeFileSync(join(folder, name), text);
  report = join(folder, 'report.json');
  // vitest exits 1 here: the fixture project fails by design.
  await run(process.execPath, [vitestBin, 'run', '--root', folder, '--reporter=json', `--outputFile.json=${report}`], {
    cwd: folder,
  }).catch(() => undefined);
});
afterAll(() => {
  rmSync(folder, { recursive: true, force: true });
});

async function closingLine(...args: string[]): Promise<string[]> {
  const { stdout } = await run(process.execPath, [summaryScript, ...args]);
  return stdout.trimEnd().split('\n');
}

describe('scripts/vitest-summary.mjs', () => {
  it('counts a file that fails to load and a failing beforeAll as failures', async () => {
    const lines = await closingLine(report);
    expect(lines.at(-1)).toBe('2 passed, 2 failed, 3 skipped');
    expect(lines.slice(0, -1).join('\n')).toMatch(/fails-to-load\.test\.ts: the file failed outside its tests/);
    expect(lines.slice(0, -1).join('\n')).toMatch(/before-all-throws\.test\.ts: the file failed outside its tests/);
  });

  it('adds up several reports, and counts a missing one as a failure', async () => {
    const lines = await closingLine(report, report, join(folder, 'never-written.json'));
    expect(lines.at(-1)).toBe('4 passed, 5 failed, 6 skipped');
  });

  it('counts a failed test command whose report shows no failure', async () => {
    const clean = join(folder, 'clean.json');
    writeFileSync(
      clean,
      JSON.stringify({ numPassedTests: 3, numFailedTests: 0, numPendingTests: 0, numTodoTests: 0, testResults: [] }),
    );
    expect((await closingLine(clean)).at(-1)).toBe('3 passed, 0 failed');
    expect((await closingLine('--exit-status', '1', clean)).at(-1)).toBe('3 passed, 1 failed');
  });
});
