import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { coordCheck } from '@mup2/coord';
import { createMlp, indexedBatch, loadMnist, loadRules } from '@mup2/model-zoo';
import { startPlayground } from '@mup2/playground';
import type { Browser } from 'playwright-core';
import type { ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type WatchedPage, watchedPage } from './chromium.js';

const FINISHED = /done|error|diverged/;

describe('the playground (`pnpm playground`) in headless Chromium', () => {
  let server: ViteDevServer | undefined;
  let browser: Browser | undefined;
  let watched: WatchedPage;
  // One fixed folder, overwritten by each run, for a person to look at the page (not a new one per run).
  const screenshotDir = join(tmpdir(), 'mup2-playground-screenshot');
  mkdirSync(screenshotDir, { recursive: true });

  beforeAll(async () => {
    server = await startPlayground({ port: 0 });
    const url = server.resolvedUrls?.local[0] ?? '';
    expect(new URL(url).hostname).toBe('127.0.0.1');
    browser = await launchChromium();
    watched = await watchedPage(browser, new URL(url).origin);
    await watched.page.setViewportSize({ width: 1200, height: 1600 });
    await watched.page.goto(url);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const status = (section: 'train' | 'coord') => watched.page.locator(`#${section}-status`);
  const waitUntilFinished = (section: 'train' | 'coord') =>
    watched.page.waitForFunction(
      ([id, pattern]) => new RegExp(pattern).test(document.getElementById(id)?.textContent ?? ''),
      [`${section}-status`, FINISHED.source] as const,
      { timeout: 240_000 },
    );

  it('trains the µP MLP with SAM in µP² on the digits and draws the loss and accuracy curves', async () => {
    const { page } = watched;
    await page.selectOption('#train-form select[name=width]', '64');
    await page.fill('#train-form input[name=batch]', '256');
    await page.click('#train-start');
    await waitUntilFinished('train');
    const text = (await status('train').textContent()) ?? '';
    expect(text).toMatch(/^sam mup2 n=64 η=0\.1 ρ=0\.1 · webgl · done in [\d.]+ s · test accuracy [\d.]+%$/);
    // One epoch of 31 steps on 8,000 digits; chance is 10%.
    expect(Number(text.match(/test accuracy ([\d.]+)%/)?.[1])).toBeGreaterThan(50);
    for (const chart of ['#loss-chart', '#accuracy-chart']) {
      await expect.poll(() => page.locator(`${chart} svg`).textContent()).toContain('sam mup2 n=64 η=0.1 ρ=0.1');
      // The run's lines have points: a path with more than a move-to.
      const longest = await page
        .locator(`${chart} svg path`)
        .evaluateAll((paths) => Math.max(...paths.map((path) => (path.getAttribute('d') ?? '').split('L').length)));
      expect(longest, `${chart} draws the run`).toBeGreaterThan(3);
    }
  }, 300_000);

  it('stops a run on request and can start the next', async () => {
    const { page } = watched;
    await page.selectOption('#train-form select[name=rule]', 'sgd');
    await page.click('#train-start');
    await expect.poll(() => status('train').textContent(), { timeout: 120_000 }).toMatch(/step \d+\/31/);
    await page.click('#train-stop');
    await expect.poll(() => status('train').textContent()).toMatch(/\(stopped\)$/);
    expect(await page.locator('#train-start').isEnabled()).toBe(true);
    expect(await page.locator('#train-stop').isEnabled()).toBe(false);
  }, 180_000);

  it('runs the perturbation coordinate check and draws effective perturbation against width per preset', async () => {
    const { page } = watched;
    await page.fill('#coord-form input[name=widths]', '64,128,256');
    await page.fill('#coord-form input[name=seeds]', '1');
    await page.click('#coord-start');
    await waitUntilFinished('coord');
    expect(await status('coord').textContent()).toMatch(/^webgl · done in [\d.]+ s$/);
    const chartText = (await page.locator('#coord-chart svg').textContent()) ?? '';
    for (const label of ['mup-global', 'mup2', 'input W', 'hidden W', 'output W', 'norm gain', 'width n']) {
      expect(chartText).toContain(label);
    }
    const table = await page
      .locator('#coord-slopes tr')
      .evaluateAll((rows) => rows.map((row) => Array.from(row.children, (cell) => cell.textContent ?? '')));
    expect(table[0]).toEqual(['log–log slope', 'input W', 'hidden W', 'output W', 'norm gain']);
    expect(table.slice(1).map((row) => row[0])).toEqual(['mup-global', 'mup2']);
    for (const row of table.slice(1)) for (const cell of row.slice(1)) expect(Number.isFinite(Number(cell))).toBe(true);
    // The paper's Table 1 pattern at its clearest: under mup-global the input layer's effect falls with width.
    expect(Number(table[1]?.[1])).toBeLessThan(-0.5);
    // The same check in this Node process (wasm, the zoo's own MNIST loader) gives the same slopes: the page's
    // digits, backend and worker change nothing but float32 rounding.
    const [rules, digits] = [await loadRules(), await loadMnist()];
    const inNode = await coordCheck({
      model: (width, { seed, parameterization }) =>
        createMlp({ inputSize: 784, width, baseWidth: 64, classes: 10, parameterization, seed }),
      widths: [64, 128, 256],
      rule: (scaling) => rules.create('sam', { rho: 0.1, scaling }),
      presets: ['mup-global', 'mup2'],
      data: (index) => indexedBatch(digits, index, 64),
      steps: 3,
      learningRate: 0.1,
      seeds: 1,
    });
    const header = table[0] ?? [];
    for (const row of table.slice(1)) {
      for (const [column, cell] of row.slice(1).entries()) {
        const slope = inNode.groups.find(
          (entry) => entry.preset === row[0] && entry.group === header[column + 1] && entry.quantity === 'perturbation',
        );
        expect(Number(cell), `${row[0]} ${header[column + 1]}`).toBeCloseTo(slope?.mean ?? Number.NaN, 1);
      }
    }
    const screenshot = join(screenshotDir, 'playground.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    console.info(`[playground] screenshot: ${screenshot}`);
  }, 300_000);

  it('logged no console error and requested nothing outside its own server', () => {
    expect(watched.problems).toEqual([]);
    expect(watched.outsideRequests).toEqual([]);
  });
});
