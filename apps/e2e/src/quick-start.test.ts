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

// docs/quick-start.md as a new user follows it: a project made by its install line (our packages as
// packed tarballs, the others from the registry at the workspace's versions), then every js block,
// in order, as a program of its own (the save-and-resume blocks share the folder, as a user's runs do).

const GUIDE = 'quick-start.md';
const blocks = codeBlocks(GUIDE);
const installBlocks = blocks.filter((block) => block.language === 'sh');
const programs = blocks.filter((block) => block.language === 'js');
const installLine = installBlocks.flatMap(installedPackages);

const workspaceVersion = (name: string) =>
  (
    JSON.parse(readFileSync(join(REPO_ROOT, 'apps/e2e/node_modules', name, 'package.json'), 'utf8')) as {
      version: string;
    }
  ).version;

describe(`docs/${GUIDE}, followed literally against the packed tarballs`, () => {
  let project: PackedProject | undefined;

  it('has only the install line and js programs, and the install line holds everything the programs import', () => {
    expect(blocks.map((block) => block.language).filter((language) => language !== 'js')).toEqual(['sh']);
    expect(installLine).toEqual(['@mup2/core', '@mup2/sam', '@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm']);
    for (const program of programs) {
      for (const name of importedPackages(program.code)) {
        expect(installLine, `line ${program.line} imports ${name}`).toContain(name);
      }
    }
  });

  beforeAll(async () => {
    const ours = installLine.filter((name) => name.startsWith('@mup2/'));
    project = await createPackedProject(
      ours.map((name) => `packages/${name.slice('@mup2/'.length)}`),
      installLine.filter((name) => !name.startsWith('@mup2/')).map((name) => `${name}@${workspaceVersion(name)}`),
    );
  }, PACKED_PROJECT_TIMEOUT_MS);

  afterAll(() => project?.remove());

  for (const [index, program] of programs.entries()) {
    it(`runs the js block at line ${program.line} as written`, async () => {
      const file = `quick-start-${index + 1}.mjs`;
      writeFileSync(join(project?.projectDir ?? '', file), program.code);
      // As a user runs it: without the test setup's backend request.
      const { stdout, stderr } = await run('node', [file], project?.projectDir ?? '', 180_000, {
        MUP2_BACKEND: undefined,
      });
      // No tfjs-node in this project: the default backend is wasm, with our convolution gradients.
      expect(stderr).toMatch(
        /^\[mup2\] backend: wasm \(unavailable: tensorflow: .*\) \+ convolution gradients from @mup2\/core/m,
      );
      expect(stdout).not.toMatch(/NaN/);
      expect(stdout.trim()).not.toBe('');
    }, 240_000);
  }
});
