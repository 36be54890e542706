import { type Browser, chromium, type Page } from 'playwright-core';

/** Debian's chromium (`apt-get install chromium`): playwright-core downloads no browser. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Headless Chromium that phones nowhere. WebGL runs on SwiftShader, Chromium's CPU
 * implementation of Vulkan, so the webgl backend works on a machine without a GPU;
 * `--enable-unsafe-swiftshader` opts in to WebGL on it without the deprecation warning.
 * (WebGPU on SwiftShader, with --enable-unsafe-webgpu, gets an adapter, but tfjs-backend-webgpu
 * 4.22's tf.sum returns 0 there and the device is lost after it: webgpu is not checked.)
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}

/** A page that records what a user's page must not do: log errors, throw, or reach beyond its own origin. */
export interface WatchedPage {
  readonly page: Page;
  /** Console errors and uncaught exceptions, of the page and of its workers. */
  readonly problems: string[];
  /** Requests to anywhere but `origin` (data: and blob: URLs are local). */
  readonly outsideRequests: string[];
  /** Every console message, `type: text`, for the failure message of a check. */
  readonly console: string[];
}

export async function watchedPage(browser: Browser, origin: string): Promise<WatchedPage> {
  const page = await browser.newPage();
  const watched: WatchedPage = { page, problems: [], outsideRequests: [], console: [] };
  page.on('console', (message) => {
    watched.console.push(`${message.type()}: ${message.text()}`);
    if (message.type() === 'error') watched.problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => watched.problems.push(`page: ${error.message}`));
  page.on('worker', (worker) => {
    worker.on('console', (message) => {
      watched.console.push(`worker ${message.type()}: ${message.text()}`);
      if (message.type() === 'error') watched.problems.push(`worker console: ${message.text()}`);
    });
  });
  page.on('request', (request) => {
    const url = request.url();
    if (!/^(data|blob):/.test(url) && new URL(url).origin !== origin) watched.outsideRequests.push(url);
  });
  return watched;
}
