import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { WASM_GRADIENT_KERNELS } from '@mup2/core';
import {
  type Float64MlpParams,
  type Float64RuleStepOptions,
  float64AsamStep,
  float64LossAndGradients,
  float64SamOnStep,
  float64SamStep,
  updateErrors,
} from '@mup2/core/testing';
import type { Browser } from 'playwright-core';
import type { PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, watchedPage } from './chromium.js';
import type { PageOutcome, RuleCheck } from './fixtures/packed-page/page-result.js';
import {
  createPackedProject,
  PACKED_PROJECT_TIMEOUT_MS,
  type PackedProject,
  REPO_ROOT,
  run,
} from './packed-project.js';

/** The versions the workspace resolved (the pnpm catalog, apps/e2e's vite), so the outside project uses the same. */
const installedVersion = (name: string) =>
  (
    JSON.parse(readFileSync(join(REPO_ROOT, 'apps/e2e/node_modules', name, 'package.json'), 'utf8')) as {
      version: string;
    }
  ).version;
const TFJS_VERSION = installedVersion('@tensorflow/tfjs');
/** The bench's pinned chart libraries, which the docs' chart snippet uses too. */
const BENCH_DEPENDENCIES = (
  JSON.parse(readFileSync(join(REPO_ROOT, 'apps/bench/package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  }
).dependencies;
const VITE_VERSION = installedVersion('vite');
const PAGE_FIXTURE = new URL('./fixtures/packed-page/', import.meta.url);
const BROWSER_BACKENDS = ['webgl', 'wasm', 'cpu'] as const;
/** A float32 step against the float64 one: the largest entry error relative to the largest update, as in the Node tests. */
const STEP_TOLERANCE = 2e-3;

// A tiny two-layer MLP at width 16 whose base width is 4, so the µP² multipliers are not all 1.
const trainScript = `
import * as tf from '@tensorflow/tfjs';
import { SamOptimizer, muSgd, paramSpecs } from '@mup2/core';
import { sam } from '@mup2/sam';

await tf.setBackend('cpu');
await tf.ready();
const x = tf.randomNormal([32, 8], 0, 1, 'float32', 1);
const y = tf.oneHot(tf.randomUniform([32], 0, 3, 'int32', 2), 3);
const w1 = tf.variable(tf.randomNormal([8, 16], 0, 1 / Math.sqrt(8), 'float32', 3), true, 'w1');
const w2 = tf.variable(tf.randomNormal([16, 3], 0, 1 / 16, 'float32', 4), true, 'w2');
const params = paramSpecs([
  { variable: w1, baseShape: [8, 4] },
  { variable: w2, baseShape: [4, 3] },
]);
const optimizer = new SamOptimizer({ base: muSgd(0.5, params), rule: sam({ rho: 0.05, scaling: 'mup2' }), params });
const loss = () => tf.losses.softmaxCrossEntropy(y, tf.matMul(tf.relu(tf.matMul(x, w1)), w2));
const losses = [];
for (let step = 0; step < 3; step++) {
  const cost = optimizer.minimize(loss, true, [w1, w2]);
  losses.push(cost.dataSync()[0]);
  cost.dispose();
}
const after = tf.tidy(() => loss().dataSync()[0]);
console.log(JSON.stringify({ losses, after, backend: tf.getBackend() }));
`;

/** Imports every entry of the five packages, for bundlers to resolve for a browser. */
const bundleEntry = `
export * as core from '@mup2/core';
export * as testing from '@mup2/core/testing';
export * as sam from '@mup2/sam';
export * as asam from '@mup2/asam';
export * as samOn from '@mup2/sam-on';
export * as coord from '@mup2/coord';
`;

const toFloat64 = (params: Record<string, number[]>) =>
  Object.fromEntries(
    Object.entries(params).map(([name, values]) => [name, Float64Array.from(values)]),
  ) as unknown as Float64MlpParams;

/** The float64 step of DESIGN.md §5–§6 from the page's starting weights and batch, for the rule the page ran. */
function referenceStep(rule: string, step: RuleCheck['step']): Float64MlpParams {
  const data = { x: Float64Array.from(step.data.x), labels: step.data.labels };
  const options: Float64RuleStepOptions = {
    shape: step.shape,
    baseWidth: step.baseWidth,
    rho: step.rho,
    scaling: 'mup2',
    learningRate: step.learningRate,
  };
  const start = toFloat64(step.start);
  if (rule === 'sam') return float64SamStep(start, data, options);
  if (rule === 'asam') return float64AsamStep(start, data, { ...options, eta: step.eta as number });
  if (rule === 'sam-on') return float64SamOnStep(start, data, options);
  throw new Error(`no float64 step for rule '${rule}'`);
}

/** The js code block after `<!-- snippet: name -->` in docs/<guide>. */
function docsSnippet(guide: string, name: string): string {
  const text = readFileSync(join(REPO_ROOT, 'docs', guide), 'utf8');
  const found = new RegExp(`<!-- snippet: ${name} -->\\n\`\`\`js\\n([\\s\\S]*?)\`\`\``).exec(text);
  if (!found?.[1]) throw new Error(`docs/${guide} has no js block after <!-- snippet: ${name} -->`);
  return found[1];
}

const median = (values: readonly number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

describe('the packed tarballs, installed with npm outside the workspace', () => {
  let project: PackedProject | undefined;
  let projectDir = '';

  beforeAll(async () => {
    project = await createPackedProject(
      ['packages/core', 'packages/sam', 'packages/asam', 'packages/sam-on', 'packages/coord'],
      [
        `@tensorflow/tfjs@${TFJS_VERSION}`,
        `@tensorflow/tfjs-backend-wasm@${TFJS_VERSION}`,
        `vite@${VITE_VERSION}`,
        // What docs/coordinate-check.md has a user install to draw the chart in Node.
        `vega@${BENCH_DEPENDENCIES.vega}`,
        `vega-lite@${BENCH_DEPENDENCIES['vega-lite']}`,
      ],
    );
    projectDir = project.projectDir;
    writeFileSync(join(projectDir, 'train.mjs'), trainScript);
  }, PACKED_PROJECT_TIMEOUT_MS);

  afterAll(() => project?.remove());

  describe('in Node', () => {
    it('installs one copy of @mup2/core and of tfjs-core (workspace:^ became a version range)', () => {
      expect([...(project?.tarballs ?? [])].sort()).toEqual([
        expect.stringMatching(/^mup2-asam-.*\.tgz$/),
        expect.stringMatching(/^mup2-coord-.*\.tgz$/),
        expect.stringMatching(/^mup2-core-.*\.tgz$/),
        expect.stringMatching(/^mup2-sam-.*\.tgz$/),
        expect.stringMatching(/^mup2-sam-on-.*\.tgz$/),
      ]);
      for (const rule of ['sam', 'asam', 'sam-on', 'coord']) {
        const installed = JSON.parse(
          readFileSync(join(projectDir, 'node_modules/@mup2', rule, 'package.json'), 'utf8'),
        );
        expect(installed.dependencies['@mup2/core'] as string).toMatch(/^\^\d+\.\d+\.\d+/);
      }
      const lock = JSON.parse(readFileSync(join(projectDir, 'package-lock.json'), 'utf8'));
      const installed = Object.keys(lock.packages as Record<string, unknown>);
      // The rules' range must be met by the core tarball, not by a second copy fetched from the registry.
      expect(installed.filter((path) => path.endsWith('node_modules/@mup2/core'))).toEqual(['node_modules/@mup2/core']);
      expect((lock.packages['node_modules/@mup2/core'] as { resolved: string }).resolved).toMatch(/^file:/);
      expect(installed.filter((path) => path.endsWith('node_modules/@tensorflow/tfjs-core'))).toEqual([
        'node_modules/@tensorflow/tfjs-core',
      ]);
    });

    it('trains three SAM steps with µP-SGD from a plain ESM script', async () => {
      const { stdout } = await run('node', ['train.mjs'], projectDir);
      // tfjs prints a hint about tfjs-node on stdout before our line.
      const lastLine = stdout.trim().split('\n').pop() ?? '';
      const { losses, after, backend } = JSON.parse(lastLine) as { losses: number[]; after: number; backend: string };
      expect(backend).toBe('cpu');
      expect(losses).toHaveLength(3);
      for (const loss of losses) expect(Number.isFinite(loss)).toBe(true);
      // Same batch every step, so the loss must go down.
      expect(losses[2]).toBeLessThan(losses[0] as number);
      expect(after).toBeLessThan(losses[0] as number);
    });

    for (const [guide, name, expected] of [
      // A user's tfjs-layers CNN: per-layer slopes and an SVG chart.
      ['coordinate-check.md', 'user-cnn', /^\| mup2 \|( -?\d\.\d\d\*? \|){8}$/m],
      // deriveScaling on the shipped SAM finds a = b = m_p.
      [
        'adding-a-rule.md',
        'derive-sam',
        /derived µP² scaling input a = r, b = r; vector a = r, b = r; hidden a = 1, b = 1; output a = r\^-1, b = r\^-1/,
      ],
    ] as const) {
      it(`runs docs/${guide}'s ${name} script as written`, async () => {
        writeFileSync(join(projectDir, `${name}.mjs`), docsSnippet(guide, name));
        const { stdout } = await run('node', [`${name}.mjs`], projectDir, 240_000);
        expect(stdout).toMatch(expected);
        if (name === 'user-cnn')
          expect(readFileSync(join(projectDir, 'coord.svg'), 'utf8')).toMatch(/^<svg[\s\S]*conv2d1\/kernel/);
      }, 300_000);
    }

    it('resolves the @mup2/core/testing entry', async () => {
      // If the testing kit ever imports vitest at its top level, add vitest to the install above:
      // it is an optional peer of @mup2/core that rule authors have anyway.
      const { stdout } = await run(
        'node',
        ['-e', "import('@mup2/core/testing').then((kit) => console.log(JSON.stringify(Object.keys(kit))))"],
        projectDir,
      );
      const exported = JSON.parse(stdout.trim().split('\n').pop() ?? '[]') as string[];
      expect(exported).toContain('createTinyMlp');
    });

    it("gets Node's initBackend through the node export condition: MUP2_BACKEND is read", async () => {
      const script =
        "import '@tensorflow/tfjs'; import { initBackend } from '@mup2/core'; " +
        'console.log(await initBackend({ log: () => {} }));';
      const { stdout } = await run('node', ['--input-type=module', '-e', script], projectDir, 60_000, {
        MUP2_BACKEND: 'cpu',
      });
      expect(stdout.trim().split('\n').pop()).toBe('cpu');
    });
  });

  describe('in a browser: bundled by Vite and esbuild, run in headless Chromium', () => {
    let build = { stdout: '', stderr: '' };
    let server: PreviewServer | undefined;
    let browser: Browser | undefined;
    let origin = '';

    beforeAll(async () => {
      cpSync(PAGE_FIXTURE, projectDir, { recursive: true });
      build = await run('node', ['node_modules/vite/bin/vite.js', 'build'], projectDir, 300_000);
      // The project's own Vite (the one npm installed), serving what it built.
      const vite = (await import(pathToFileURL(join(projectDir, 'node_modules/vite/dist/node/index.js')).href)) as {
        preview: typeof import('vite').preview;
      };
      server = await vite.preview({ root: projectDir, logLevel: 'warn', preview: { host: '127.0.0.1', port: 0 } });
      origin = new URL(server.resolvedUrls?.local[0] ?? '').origin;
      browser = await launchChromium();
    }, 360_000);

    afterAll(async () => {
      await browser?.close();
      await server?.close();
    });

    it('Vite builds the page without a warning, a Node module or vitest in the bundle', () => {
      expect(build.stderr).toBe('');
      expect(build.stdout).not.toMatch(/warn|\(!\)|externalized for browser/i);
      const bundle = readFileSync(join(projectDir, 'dist/index.html'), 'utf8');
      const script = bundle.match(/src="\/(assets\/index-[^"]+\.js)"/)?.[1];
      expect(script, 'the page loads its bundle').toBeDefined();
      const code = readFileSync(join(projectDir, 'dist', script as string), 'utf8');
      expect(code).not.toMatch(/createRequire|__vite-browser-external/);
      // The wasm backend's binaries are assets of the build, served by the page itself.
      expect(build.stdout).toMatch(/tfjs-backend-wasm-simd-[\w-]+\.wasm/);
    });

    it('esbuild bundles every entry for the browser without a warning', async () => {
      writeFileSync(join(projectDir, 'bundle-entry.js'), bundleEntry);
      const { stderr } = await run(
        'node_modules/.bin/esbuild',
        [
          'bundle-entry.js',
          '--bundle',
          '--platform=browser',
          '--format=esm',
          '--external:@tensorflow/*',
          '--outfile=esbuild-out.js',
          '--log-level=warning',
        ],
        projectDir,
      );
      expect(stderr).toBe('');
      expect(readFileSync(join(projectDir, 'esbuild-out.js'), 'utf8')).not.toMatch(/createRequire|process\.cwd/);
    });

    it('initBackend without a request chooses webgl, the first registered of webgpu, webgl, wasm, cpu', async () => {
      const watched = await watchedPage(browser as Browser, origin);
      await watched.page.goto(`${origin}/`);
      const outcome = await watched.page.waitForFunction(() => window.mup2Outcome, null, { timeout: 60_000 });
      const value = (await outcome.jsonValue()) as PageOutcome;
      await watched.page.close();
      expect(value).toMatchObject({ ok: true, result: { backend: 'webgl' } });
      const log = value.ok ? value.result.log : [];
      expect(log).toHaveLength(1);
      expect(log[0]).toMatch(
        /^\[mup2\] backend: webgl \(unavailable: webgpu: it is not registered; import @tensorflow\/tfjs-backend-webgpu/,
      );
      expect(watched.problems).toEqual([]);
      expect(watched.outsideRequests).toEqual([]);
    });

    for (const backend of BROWSER_BACKENDS) {
      it(`trains with sam, asam and sam-on in µP² on ${backend}: float64 step, falling loss, no leaks, exact restores`, async () => {
        const watched = await watchedPage(browser as Browser, origin);
        await watched.page.goto(`${origin}/?backend=${backend}`);
        const handle = await watched.page.waitForFunction(() => window.mup2Outcome, null, { timeout: 240_000 });
        const outcome = (await handle.jsonValue()) as PageOutcome;
        await watched.page.close();
        if (!outcome.ok)
          throw new Error(`the page failed on ${backend}: ${outcome.error}\n${watched.console.join('\n')}`);
        const { result } = outcome;
        expect(result.backend).toBe(backend);
        // On wasm, initBackend also registers the convolution gradient kernels wasm lacks, and says so.
        const kernels =
          backend === 'wasm' ? ` + convolution gradients from @mup2/core (${WASM_GRADIENT_KERNELS.join(', ')})` : '';
        expect(result.log).toEqual([`[mup2] backend: ${backend} (requested)${kernels}`]);
        expect(Object.keys(result.rules)).toEqual(['sam', 'asam', 'sam-on']);
        // Stock tf.layers convolutions with BatchNorm train (on wasm with the kernels initBackend registered).
        const convolution = result.convolution;
        for (const loss of convolution?.losses ?? [Number.NaN]) expect(Number.isFinite(loss), `CNN losses`).toBe(true);
        expect(convolution?.losses.at(-1) as number, `CNN losses ${convolution?.losses}`).toBeLessThan(
          0.8 * (convolution?.losses[0] as number),
        );
        expect(convolution?.leakedTensors, 'CNN training leaks beyond what the base alone leaves').toBe(
          convolution?.leakedTensorsWithoutSam,
        );
        const times: string[] = [];
        for (const [rule, check] of Object.entries(result.rules)) {
          const reference = referenceStep(rule, check.step);
          const start = toFloat64(check.step.start);
          for (const [name, error] of Object.entries(updateErrors(start, toFloat64(check.step.result), reference))) {
            expect(error.scale, `${rule} ${name} must move`).toBeGreaterThan(0);
            expect(error.relativeError, `${rule} ${name}: error relative to the largest float64 update`).toBeLessThan(
              STEP_TOLERANCE,
            );
          }
          const data = { x: Float64Array.from(check.step.data.x), labels: check.step.data.labels };
          const referenceLoss = float64LossAndGradients(start, data.x, data.labels, check.step.shape).forward.loss;
          expect(check.step.loss, `${rule} step loss`).toBeCloseTo(referenceLoss, 4);
          expect(check.step.leakedTensors, `${rule} step leaks`).toBe(0);

          const { losses, tensorsAfterStep } = check.training;
          for (const loss of losses) expect(Number.isFinite(loss), `${rule} losses ${losses}`).toBe(true);
          expect(losses.at(-1) as number, `${rule} losses ${losses}`).toBeLessThan(0.9 * (losses[0] as number));
          expect(new Set(tensorsAfterStep), `${rule} tensors after each step`).toEqual(new Set([tensorsAfterStep[0]]));
          expect(check.training.leakedTensors, `${rule} training leaks`).toBe(0);

          expect(check.perturbation.largestEntry, `${rule} ε`).toBeGreaterThan(0);
          expect(check.perturbation.changedEntries, `${rule}: computePerturbation changed weights`).toBe(0);
          expect(check.rhoZero.movedEntries, `${rule}: the base steps moved the weights`).toBeGreaterThan(0);
          expect(check.rhoZero.differingEntries, `${rule}: ρ = 0 against the base step`).toBe(0);
          times.push(`${rule} ${median(check.training.milliseconds.slice(2)).toFixed(1)} ms`);
        }
        expect(watched.problems).toEqual([]);
        expect(watched.outsideRequests).toEqual([]);
        const description = Object.values(result.rules)[0]?.training.description;
        // A figure for the record, not a check: step times belong to benchmarks.
        console.info(`[browser ${backend}] median SAM step (${description}, µP² scaling): ${times.join(', ')}`);
      }, 300_000);
    }
  });
});
