import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// What a user gets from npm: the packed tarballs, installed with npm into a project outside
// the workspace, so nothing resolves through pnpm's symlinks, the catalog or workspace:^.
// Needs the packages built (the root `test` script builds first) and the npm registry for
// @tensorflow/tfjs.

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const packageDirs = { core: join(repoRoot, 'packages/core'), sam: join(repoRoot, 'packages/sam') };
const TFJS_VERSION = '4.22.0';
const INSTALL_TIMEOUT_MS = 300_000;

/**
 * The environment for npm without what pnpm puts there when it runs a script (npm_package_*,
 * npm_lifecycle_*, pnpm-only npm_config_* keys that npm warns about), keeping the user's own
 * registry, cache, proxy and certificate settings.
 */
function npmEnvironment(): NodeJS.ProcessEnv {
  const kept = /^npm_config_(registry|cache|userconfig|cafile|ca|strict_ssl|proxy|https_proxy|noproxy|@.*:registry)$/i;
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key) || kept.test(key)));
}

function run(command: string, args: string[], cwd: string, timeout = 120_000): string {
  try {
    return execFileSync(command, args, { cwd, env: npmEnvironment(), encoding: 'utf8', timeout, stdio: 'pipe' });
  } catch (error) {
    const failure = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `${command} ${args.join(' ')} failed in ${cwd}: ${failure.message}\n${failure.stdout ?? ''}\n${failure.stderr ?? ''}`,
    );
  }
}

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

describe('the packed tarballs, installed with npm outside the workspace', () => {
  let workDir = '';
  let projectDir = '';

  beforeAll(() => {
    for (const [name, dir] of Object.entries(packageDirs)) {
      if (!existsSync(join(dir, 'dist/index.js'))) {
        throw new Error(`@mup2/${name} is not built (${dir}/dist/index.js missing); run \`pnpm build\` first.`);
      }
    }
    workDir = mkdtempSync(join(tmpdir(), 'mup2-packaging-'));
    const tarballDir = join(workDir, 'tarballs');
    projectDir = join(workDir, 'project');
    mkdirSync(tarballDir);
    mkdirSync(projectDir);
    for (const dir of Object.values(packageDirs)) run('pnpm', ['pack', '--pack-destination', tarballDir], dir);
    const tarballs = readdirSync(tarballDir)
      .filter((file) => file.endsWith('.tgz'))
      .map((file) => join(tarballDir, file));
    expect(tarballs.map((file) => file.replace(/.*\//, '')).sort()).toEqual([
      expect.stringMatching(/^mup2-core-.*\.tgz$/),
      expect.stringMatching(/^mup2-sam-.*\.tgz$/),
    ]);
    writeFileSync(
      join(projectDir, 'package.json'),
      JSON.stringify({ name: 'mup2-packaging-check', private: true, type: 'module' }, null, 2),
    );
    run(
      'npm',
      ['install', '--no-audit', '--no-fund', '--prefer-offline', ...tarballs, `@tensorflow/tfjs@${TFJS_VERSION}`],
      projectDir,
      INSTALL_TIMEOUT_MS,
    );
    writeFileSync(join(projectDir, 'train.mjs'), trainScript);
  }, INSTALL_TIMEOUT_MS + 60_000);

  afterAll(() => {
    if (workDir !== '') rmSync(workDir, { recursive: true, force: true });
  });

  it('installs one copy of @mup2/core and of tfjs-core (workspace:^ became a version range)', () => {
    const installedSam = JSON.parse(readFileSync(join(projectDir, 'node_modules/@mup2/sam/package.json'), 'utf8'));
    const coreRange = installedSam.dependencies['@mup2/core'] as string;
    expect(coreRange).toMatch(/^\^\d+\.\d+\.\d+/);
    const lock = JSON.parse(readFileSync(join(projectDir, 'package-lock.json'), 'utf8'));
    const installed = Object.keys(lock.packages as Record<string, unknown>);
    // sam's range must be met by the core tarball, not by a second copy fetched from the registry.
    expect(installed.filter((path) => path.endsWith('node_modules/@mup2/core'))).toEqual(['node_modules/@mup2/core']);
    expect((lock.packages['node_modules/@mup2/core'] as { resolved: string }).resolved).toMatch(/^file:/);
    expect(installed.filter((path) => path.endsWith('node_modules/@tensorflow/tfjs-core'))).toEqual([
      'node_modules/@tensorflow/tfjs-core',
    ]);
  });

  it('trains three SAM steps with µP-SGD from a plain ESM script', () => {
    const output = run('node', ['train.mjs'], projectDir);
    // tfjs prints a hint about tfjs-node on stdout before our line.
    const lastLine = output.trim().split('\n').pop() ?? '';
    const { losses, after, backend } = JSON.parse(lastLine) as { losses: number[]; after: number; backend: string };
    expect(backend).toBe('cpu');
    expect(losses).toHaveLength(3);
    for (const loss of losses) expect(Number.isFinite(loss)).toBe(true);
    // Same batch every step, so the loss must go down.
    expect(losses[2]).toBeLessThan(losses[0] as number);
    expect(after).toBeLessThan(losses[0] as number);
  });

  it('resolves the @mup2/core/testing entry', () => {
    // If the testing kit ever imports vitest at its top level, add vitest to the install above:
    // it is an optional peer of @mup2/core that rule authors have anyway.
    const output = run(
      'node',
      ['-e', "import('@mup2/core/testing').then((kit) => console.log(JSON.stringify(Object.keys(kit))))"],
      projectDir,
    );
    const exported = JSON.parse(output.trim().split('\n').pop() ?? '[]') as string[];
    expect(exported).toContain('createTinyMlp');
  });
});
