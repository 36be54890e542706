import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeBlocks, importedPackages, installedPackages } from './docs-code-blocks.js';
import {
  createPackedProject,
  PACKED_PROJECT_TIMEOUT_MS,
  type PackedProject,
  REPO_ROOT,
  run,
} from './packed-project.js';

// docs/sam-variants.md as a user follows it: its install line (the rule packages as packed tarballs,
// each installed with nothing of this repository but @mup2/core's tarball), then its js program.

const GUIDE = 'sam-variants.md';
const blocks = codeBlocks(GUIDE);
const installLine = blocks.filter((block) => block.language === 'sh').flatMap(installedPackages);
const programs = blocks.filter((block) => block.language === 'js');

const workspaceVersion = (name: string) =>
  (
    JSON.parse(readFileSync(join(REPO_ROOT, 'apps/e2e/node_modules', name, 'package.json'), 'utf8')) as {
      version: string;
    }
  ).version;

describe(`docs/${GUIDE}, followed literally against the packed tarballs`, () => {
  let project: PackedProject | undefined;

  it('has an install line that holds everything its program imports', () => {
    expect(installLine).toEqual([
      '@mup2/core',
      '@mup2/gsam',
      '@mup2/friendly-sam',
      '@mup2/looksam',
      '@tensorflow/tfjs',
      '@tensorflow/tfjs-backend-wasm',
    ]);
    expect(programs).toHaveLength(1);
    for (const name of importedPackages(programs[0]?.code ?? '')) expect(installLine).toContain(name);
  });

  beforeAll(async () => {
    project = await createPackedProject(
      installLine.filter((name) => name.startsWith('@mup2/')).map((name) => `packages/${name.slice('@mup2/'.length)}`),
      installLine.filter((name) => !name.startsWith('@mup2/')).map((name) => `${name}@${workspaceVersion(name)}`),
    );
  }, PACKED_PROJECT_TIMEOUT_MS);

  afterAll(() => project?.remove());

  it('installs each rule package with one copy of @mup2/core, and runs the program: every run trains', async () => {
    const lock = JSON.parse(readFileSync(join(project?.projectDir ?? '', 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { resolved?: string }>;
    };
    const installed = Object.keys(lock.packages);
    expect(installed.filter((path) => path.endsWith('node_modules/@mup2/core'))).toEqual(['node_modules/@mup2/core']);
    for (const rule of ['gsam', 'friendly-sam', 'looksam']) {
      expect(lock.packages[`node_modules/@mup2/${rule}`]?.resolved, rule).toMatch(/^file:/);
    }
    writeFileSync(join(project?.projectDir ?? '', 'variants.mjs'), programs[0]?.code ?? '');
    const { stdout } = await run('node', ['variants.mjs'], project?.projectDir ?? '', 180_000, {
      MUP2_BACKEND: undefined,
    });
    const lines = stdout.split('\n').filter((line) => / steps$/.test(line));
    expect(lines, stdout).toHaveLength(4);
    for (const line of lines) {
      const losses = [...line.matchAll(/(\d+\.\d+)/g)].map((match) => Number(match[1]));
      expect(losses.every(Number.isFinite), line).toBe(true);
      expect(losses.at(-1) as number, `${line}: the loss falls`).toBeLessThan(losses[0] as number);
      expect(line, 'one step per batch of 64 over 3 epochs of 256').toMatch(/, 12 steps$/);
    }
  }, 240_000);
});
