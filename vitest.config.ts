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
 * process, as vitest already runs one process per core. TF_CPP_MIN_LOG_LEVEL hides its
 * start-up notices.
 */
const BACKEND_ENVIRONMENT: Record<Backend, Record<string, string>> = {
  wasm: { MUP2_BACKEND: 'wasm' },
  tensorflow: {
    MUP2_BACKEND: 'tensorflow',
    TF_NUM_INTRAOP_THREADS: '1',
    TF_NUM_INTEROP_THREADS: '1',
    TF_CPP_MIN_LOG_LEVEL: '2',
  },
};

const project = (root: string, backend: Backend) => {
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
};

const ROOTS = [
  'packages/core',
  'packages/sam',
  'packages/asam',
  'packages/sam-on',
  'apps/model-zoo',
  'apps/bench',
  'apps/native',
];

export default defineConfig({
  test: {
    setupFiles: [new URL('./vitest.setup.ts', import.meta.url).pathname],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      ...BACKENDS.flatMap((backend) => ROOTS.map((root) => project(root, backend))),
      {
        extends: true,
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
        extends: true,
        // The closing-line summariser of .ci/run, tested on real vitest reports; no TF.js in it.
        test: {
          name: 'scripts (backend-free)',
          root: 'scripts',
          include: ['*.test.ts'],
          env: BACKEND_ENVIRONMENT.wasm,
        },
      },
    ],
  },
});
