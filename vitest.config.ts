import { defineConfig } from 'vitest/config';

const project = (root: string) => ({
  extends: true as const,
  test: { name: root.split('/').pop(), root, include: ['src/**/*.test.ts'] },
});

export default defineConfig({
  test: {
    setupFiles: [new URL('./vitest.setup.ts', import.meta.url).pathname],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      project('packages/core'),
      project('packages/sam'),
      project('packages/asam'),
      project('packages/sam-on'),
      project('apps/model-zoo'),
      project('apps/bench'),
      { extends: true, test: { name: 'generators', root: 'turbo/generators', include: ['*.test.ts'] } },
      // Packed tarballs in Node and in headless Chromium, and the playground page. The browser tests pick
      // their own TF.js backends inside Chromium (webgl, wasm, cpu), so this project runs once, whatever
      // MUP2_BACKEND the Node projects run under.
      project('apps/e2e'),
    ],
  },
});
