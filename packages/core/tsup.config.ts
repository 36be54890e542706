import { defineConfig } from 'tsup';

export default defineConfig({
  // index.node is what Node resolves (the `node` export condition); index the browser's and bundlers' entry.
  entry: { index: 'src/index.ts', 'index.node': 'src/index.node.ts', testing: 'src/testing/index.ts' },
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  external: [/^@tensorflow\//, /^@mup2\//, 'vitest'],
});
