import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeExampleResults } from '../../fixtures/example-results.js';
import { temporaryFolder } from '../../fixtures/temporary-folder.js';
import { pngSize } from '../report/png-size.js';

const CLI = new URL('../cli.ts', import.meta.url).pathname;
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
/** Debian's chromium (`apt-get install chromium`; .ci/run installs it): playwright-core downloads no browser. */
const CHROMIUM = '/usr/bin/chromium';

interface ShownElement {
  tag: string;
  alt: string | null;
  width: number;
  height: number;
  naturalWidth: number;
  naturalHeight: number;
  complete: boolean;
}

async function runCli(args: readonly string[], cwd: string) {
  const child = spawn(process.execPath, ['--import', TSX, CLI, ...args], {
    cwd,
    env: { ...process.env, INIT_CWD: cwd },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, stdout, stderr };
}

describe('bench report (CLI)', () => {
  it('a folder with nothing recognisable: exit 2, naming the folder and what it looked for', async () => {
    const cwd = await temporaryFolder('mup2-report-cli-');
    await writeFile(join(cwd, 'notes.txt'), '');
    const result = await runCli(['report', '.'], cwd);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      `error: bench report: nothing to report in ${cwd}. Looked for results.jsonl (with grid.json) from \`bench sweep\`, ` +
        'coord.json from `bench coord`, table2.json from `bench table2`, perf.json from `bench perf`; it holds notes.txt.\n',
    );
  });

  describe('on a sweep and a coord check', () => {
    let cwd: string;
    let stdout: string;
    let reportPath: string;
    let pngs: string[];

    beforeAll(async () => {
      cwd = await mkdtemp(join(tmpdir(), 'mup2-report-cli-'));
      await writeExampleResults(join(cwd, 'results', 'example'));
      const result = await runCli(['report', 'results/example'], cwd);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      stdout = result.stdout;
      reportPath = join(cwd, 'results', 'example', 'report.html');
      pngs = (await readdir(join(cwd, 'results', 'example', 'report-figures'))).filter((file) => file.endsWith('.png'));
    }, 120_000);
    afterAll(() => rm(cwd, { recursive: true, force: true }));

    it('writes the figures and report.html, and prints its path last', () => {
      expect(pngs).toHaveLength(7);
      expect(stdout.trimEnd().split('\n').at(-1)).toBe(`Report: ${reportPath}`);
    });

    it('loads in headless Chromium without console errors or requests, showing every figure at its size', async () => {
      const userDataDir = await mkdtemp(join(tmpdir(), 'mup2-chromium-'));
      const context = await chromium.launchPersistentContext(userDataDir, {
        executablePath: CHROMIUM,
        headless: true,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      });
      try {
        const page = context.pages()[0] ?? (await context.newPage());
        const problems: string[] = [];
        const requests: string[] = [];
        page.on('console', (message) => {
          if (message.type() === 'error') problems.push(`console: ${message.text()}`);
        });
        page.on('pageerror', (error) => problems.push(`page: ${error.message}`));
        page.on('request', (request) => {
          if (!/^(data|file):/.test(request.url())) requests.push(request.url());
        });
        await page.goto(pathToFileURL(reportPath).href, { waitUntil: 'load' });
        // A string, not a function: the bench's tsconfig has no DOM types.
        const shown = await page.evaluate<ShownElement[]>(`[...document.querySelectorAll('img, svg')].map((element) => {
          const box = element.getBoundingClientRect();
          const image = element instanceof HTMLImageElement;
          return {
            tag: element.tagName.toLowerCase(),
            alt: element.getAttribute('alt'),
            width: box.width,
            height: box.height,
            naturalWidth: image ? element.naturalWidth : 0,
            naturalHeight: image ? element.naturalHeight : 0,
            complete: image ? element.complete : true,
          };
        })`);
        expect(problems).toEqual([]);
        expect(requests).toEqual([]);
        expect(shown).toHaveLength(pngs.length);
        for (const element of shown) {
          expect(element, String(element.alt)).toMatchObject({ tag: 'img', complete: true });
          expect(element.width).toBeGreaterThan(100);
          expect(element.height).toBeGreaterThan(100);
        }
        // The browser's own decoding gives each PNG the size its IHDR says.
        const decoded = shown.map((element) => [element.naturalWidth, element.naturalHeight]).sort();
        const headers = await Promise.all(
          pngs.map(async (file) => {
            const size = pngSize(await readFile(join(cwd, 'results', 'example', 'report-figures', file)));
            return [size.width, size.height];
          }),
        );
        expect(decoded).toEqual(headers.sort());
        expect(await page.title()).toBe(`µP² benchmark report: ${join(cwd, 'results', 'example')}`);
      } finally {
        await context.close();
        await rm(userDataDir, { recursive: true, force: true });
      }
    }, 120_000);
  });
});
