import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

/**
 * Every project runs twice: on wasm (the embedded default) and on tensorflow (tfjs-node,
 * `pnpm native:install`). vitest.setup.ts reads MUP2_BACKEND. `--project core` runs core on
 * wasm, `--project core:tensorflow` on tensorflow, `--project 'core*'` both.
 */
const BACKENDS = ['wasm', 'tensorflow'] as const;
type Backend = (typeof BACKENDS)[number];

/**
 * libtensorflow reads its thread counts once per process: one intra-op thread per test
 * process, as vitest already runs one process per core (wasm's tests may load tfjs-node
 * too, to check the backend choice). TF_CPP_MIN_LOG_LEVEL hides its start-up notices.
 */
const NATIVE_ENVIRONMENT = { TF_NUM_INTRAOP_THREADS: '1', TF_NUM_INTEROP_THREADS: '1', TF_CPP_MIN_LOG_LEVEL: '2' };
const BACKEND_ENVIRONMENT: Record<Backend, Record<string, string>> = {
  wasm: { MUP2_BACKEND: 'wasm', ...NATIVE_ENVIRONMENT },
  tensorflow: { MUP2_BACKEND: 'tensorflow', ...NATIVE_ENVIRONMENT },
};

/** A folder's tests, once per backend: `core` on wasm, `core:tensorflow` on tensorflow. */
const project = (root: string) =>
  BACKENDS.map((backend) => {
    const name = root.split('/').pop() as string;
    return {
      extends: true as const,
      test: {
        name: backend === 'wasm' ? name : `${name}:${backend}`,
        root,
        include: ['src/**/*.test.ts'],
        env: BACKEND_ENVIRONMENT[backend],
      },
    };
  });

export default defineConfig({
  test: {
    setupFiles: [new URL('./vitest.setup.ts', import.meta.url).pathname],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // vitest's default is one fork fewer than the cores (a single fork on CI's two); its main
    // process mostly waits, so every core runs a test file.
    maxWorkers: availableParallelism(),
    projects: [
      project('packages/core'),
      project('packages/sam'),
      project('packages/asam'),
      project('packages/sam-on'),
      project('packages/coord'),
      project('packages/gsam'),
      project('packages/friendly-sam'),
      project('packages/looksam'),
      project('apps/model-zoo'),
      project('apps/bench'),
      project('apps/native'),
      {
        extends: true as const,
        test: {
          // It scaffolds a rule package into a fresh copy of the repository and runs that package's tests
          // there, where no native addon is built: those tests run on wasm.
          name: 'generators (wasm only: the scaffolded package is tested in a fresh copy without the native addon)',
          root: 'turbo/generators',
          include: ['*.test.ts'],
          env: BACKEND_ENVIRONMENT.wasm,
        },
      },
      {
        extends: true as const,
        // The packed tarballs in Node and in headless Chromium, and the playground page. Chromium runs
        // its own backends (webgl, wasm, cpu), so this runs once; its Node side (float64 references,
        // the coord check it compares the page with) runs on wasm.
        test: {
          name: 'e2e (once: Chromium picks its own backends)',
          root: 'apps/e2e',
          include: ['src/**/*.test.ts'],
          env: BACKEND_ENVIRONMENT.wasm,
        },
      },
      {
        extends: true as const,
        // The playground's Node side (the digits it serves); its page is tested by e2e.
        test: {
          name: 'playground (backend-free)',
          root: 'apps/playground',
          include: ['src/**/*.test.ts'],
          env: BACKEND_ENVIRONMENT.wasm,
        },
      },
      {
        extends: true as const,
        // The closing-line summariser of .ci/run, tested on real vitest reports; no TF.js in it.
        test: {
          name: 'scripts (backend-free)',
          root: 'scripts',
          include: ['*.test.ts'],
          env: BACKEND_ENVIRONMENT.wasm,
        },
      },
    ].flat(),
  },
});
