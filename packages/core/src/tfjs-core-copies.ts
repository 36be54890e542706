import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { version_core } from '@tensorflow/tfjs-core';
import { DuplicateTfjsError } from './errors.js';

/** Packages that import @tensorflow/tfjs-core themselves, each through its own resolution. */
const TFJS_PACKAGES = [
  '@tensorflow/tfjs',
  '@tensorflow/tfjs-layers',
  '@tensorflow/tfjs-converter',
  '@tensorflow/tfjs-data',
  '@tensorflow/tfjs-backend-cpu',
  '@tensorflow/tfjs-backend-webgl',
  '@tensorflow/tfjs-backend-wasm',
  '@tensorflow/tfjs-node',
  '@tensorflow/tfjs-node-gpu',
];

export interface TfjsCoreCopy {
  /** The folder of the copy, symlinks resolved. */
  readonly path: string;
  readonly version: string;
  /** Who resolves @tensorflow/tfjs-core to this copy: '@mup2/core', 'your project', or a @tensorflow package. */
  readonly usedBy: readonly string[];
}

/**
 * The folder of `name` as Node's lookup finds it from `directory`: the nearest node_modules/<name>
 * walking up (these packages have no `exports` map). Global folders (NODE_PATH) are left out: a
 * package manager's script runner sets them, a user's project does not rely on them.
 */
function lookUp(name: string, directory: string): string | undefined {
  for (let folder = directory; ; folder = dirname(folder)) {
    const candidate = join(folder, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    if (dirname(folder) === folder) return undefined;
  }
}

/**
 * The copies of @tensorflow/tfjs-core that Node resolves for @mup2/core (`ourModule`), for the project
 * in `projectDir`, and for each @tensorflow package the project resolves: where they differ, the
 * process loads two copies as soon as both are imported.
 */
export function findTfjsCoreCopies(ourModule: string, projectDir: string): TfjsCoreCopy[] {
  const copies = new Map<string, { version: string; usedBy: string[] }>();
  const note = (directory: string, who: string) => {
    const path = lookUp('@tensorflow/tfjs-core', directory);
    if (path === undefined) return;
    const copy = copies.get(path);
    if (copy !== undefined) {
      if (!copy.usedBy.includes(who)) copy.usedBy.push(who);
      return;
    }
    const { version } = JSON.parse(readFileSync(join(path, 'package.json'), 'utf8')) as { version: string };
    copies.set(path, { version, usedBy: [who] });
  };
  note(dirname(realpathSync(ourModule.startsWith('file:') ? fileURLToPath(ourModule) : ourModule)), '@mup2/core');
  note(projectDir, 'your project');
  for (const name of TFJS_PACKAGES) {
    const folder = lookUp(name, projectDir);
    if (folder !== undefined) note(folder, name);
  }
  return [...copies].map(([path, { version, usedBy }]) => ({ path, version, usedBy }));
}

/**
 * Throws a DuplicateTfjsError naming every copy, its version and who uses it, with the fix, when Node
 * resolves more than one copy of @tensorflow/tfjs-core for this project (as `npm i @tensorflow/tfjs@4.21.0`
 * beside @mup2/core's tfjs-core 4.22 installs).
 */
export function assertSingleTfjsCore(ourModule: string, projectDir: string, context: string): void {
  const copies = findTfjsCoreCopies(ourModule, projectDir);
  if (copies.length <= 1) return;
  const ours = copies.find((copy) => copy.usedBy.includes('@mup2/core'))?.version ?? version_core;
  const listed = copies.map((copy) => `${copy.version} at ${copy.path} (used by ${copy.usedBy.join(', ')})`);
  throw new DuplicateTfjsError(
    `${context}: ${copies.length} copies of @tensorflow/tfjs-core are installed where this project loads them: ` +
      `${listed.join('; ')}. Two copies register kernels and classes twice and break TF.js far from the cause. ` +
      `Install one: give @tensorflow/tfjs (and any other @tensorflow/* package) the version of @mup2/core's copy, ` +
      `e.g. \`npm i @tensorflow/tfjs@${ours}\`, then \`npm dedupe\` (\`npm ls @tensorflow/tfjs-core\` lists the copies).`,
  );
}
