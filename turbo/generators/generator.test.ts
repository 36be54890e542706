import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// `turbo gen rule` in a copy of the repository (root files, packages/core, the generator), so
// the generated package never touches this work tree, its lockfile or its workspace state.
// `--prefer-offline`: pnpm takes packages from its store (filled by the repository's own install)
// and asks the registry only for metadata it lacks, which a fresh machine's frozen-lockfile
// install never wrote (`--offline` fails there with ERR_PNPM_NO_OFFLINE_META).
// `--tag <installed @turbo/gen>` lets turbo's npx use the local @turbo/gen instead of asking
// the registry for `latest`.

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const RULE = 'probe-rule';
const FACTORY = 'probeRule';
const STEP_TIMEOUT_MS = 300_000;
const ROOT_FILES = [
  'package.json',
  'pnpm-lock.yaml',
  'pnpm-workspace.yaml',
  'turbo.json',
  'tsconfig.base.json',
  'vitest.config.ts',
  'vitest.setup.ts',
  'biome.jsonc',
  '.gitignore',
  '.npmrc',
  '.changeset/config.json',
];
const SKIPPED_DIRECTORIES = new Set(['node_modules', 'dist', '.turbo']);

/**
 * The environment without what vitest and the pnpm that started it put there (VITEST_*,
 * npm_package_*, npm_lifecycle_*, …), keeping the user's registry, cache, store and proxy settings.
 */
function childEnvironment(): NodeJS.ProcessEnv {
  const kept =
    /^npm_config_(registry|cache|store_dir|userconfig|cafile|ca|strict_ssl|proxy|https_proxy|noproxy|@.*:registry)$/i;
  const environment = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^VITEST/.test(key) && (!/^npm_/i.test(key) || kept.test(key))),
  );
  return {
    ...environment,
    NO_COLOR: '1',
    FORCE_COLOR: '0',
    TURBO_TELEMETRY_DISABLED: '1',
    DO_NOT_TRACK: '1',
    TURBO_NO_UPDATE_NOTIFIER: '1',
  };
}

/**
 * Runs a command to completion; resolves with its stdout and stderr together, rejects with both
 * on failure. Asynchronous, so the vitest worker keeps answering its runner meanwhile.
 */
function run(command: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: childEnvironment(), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const timer = setTimeout(() => child.kill(), STEP_TIMEOUT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`${command} ${args.join(' ')} could not start in ${cwd}: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`${command} ${args.join(' ')} failed in ${cwd} (exit ${code ?? signal}):\n${output}`));
    });
  });
}

let copy: string;
const turboGenVersion = (
  JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
    devDependencies: Record<string, string>;
  }
).devDependencies['@turbo/gen'] as string;

function generate(name: string): Promise<string> {
  return run(
    join(copy, 'node_modules', '.bin', 'turbo'),
    ['gen', 'rule', '--tag', turboGenVersion, '--args', name],
    copy,
  );
}

const packageDir = () => join(copy, 'packages', RULE);
const read = (path: string) => readFileSync(join(copy, path), 'utf8');

beforeAll(async () => {
  copy = mkdtempSync(join(tmpdir(), 'mup2-generator-'));
  for (const file of ROOT_FILES) {
    if (!existsSync(join(repoRoot, file))) continue;
    mkdirSync(join(copy, file, '..'), { recursive: true });
    cpSync(join(repoRoot, file), join(copy, file));
  }
  const skip = (source: string) =>
    !relative(repoRoot, source)
      .split(sep)
      .some((part) => SKIPPED_DIRECTORIES.has(part));
  for (const directory of ['packages/core', 'turbo/generators']) {
    cpSync(join(repoRoot, directory), join(copy, directory), { recursive: true, filter: skip });
  }
  await run('pnpm', ['install', '--prefer-offline', '--no-frozen-lockfile'], copy);
  await generate(RULE);
}, STEP_TIMEOUT_MS);

afterAll(() => {
  if (copy !== undefined) rmSync(copy, { recursive: true, force: true });
});

describe('turbo gen rule', () => {
  it('scaffolds packages/<name>, its changeset and its vitest project', () => {
    for (const file of [
      'package.json',
      'tsconfig.json',
      'tsup.config.ts',
      'README.md',
      'src/index.ts',
      `src/${RULE}.ts`,
      `src/${RULE}.test.ts`,
      'src/conformance.test.ts',
    ]) {
      expect(existsSync(join(packageDir(), file)), file).toBe(true);
    }
    const manifest = JSON.parse(read(`packages/${RULE}/package.json`));
    expect(manifest.name).toBe(`@mup2/${RULE}`);
    expect(manifest.dependencies).toEqual({ '@mup2/core': 'workspace:^' });
    expect(manifest.peerDependencies).toEqual({ '@tensorflow/tfjs-core': '^4.22.0' });
    expect(manifest.exports['.'].types).toBe('./dist/index.d.ts');
    const rule = read(`packages/${RULE}/src/${RULE}.ts`);
    expect(rule).toContain(`export function ${FACTORY}(`);
    expect(rule).toContain("specificationVersion: 'v1'");
    expect(read(`packages/${RULE}/src/conformance.test.ts`)).toContain(`runRuleConformance(${FACTORY})`);
    expect(read(`.changeset/${RULE}-first-release.md`)).toContain(`'@mup2/${RULE}': minor`);
    expect(read('vitest.config.ts')).toContain(`project('packages/${RULE}'),`);
  });

  it(
    'gives a package that installs, builds, typechecks, passes biome and passes its tests with the conformance suite',
    async () => {
      await run('pnpm', ['install', '--prefer-offline', '--no-frozen-lockfile'], copy);
      await run(join(copy, 'node_modules', '.bin', 'turbo'), ['run', 'build', `--filter=@mup2/${RULE}`], copy);
      expect(existsSync(join(packageDir(), 'dist', 'index.js'))).toBe(true);
      expect(existsSync(join(packageDir(), 'dist', 'index.d.ts'))).toBe(true);
      await run(join(copy, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], packageDir());
      await run(join(copy, 'node_modules', '.bin', 'biome'), ['check', `packages/${RULE}`, 'vitest.config.ts'], copy);
      const output = await run(join(copy, 'node_modules', '.bin', 'vitest'), ['run', '--project', RULE], copy);
      expect(output).toContain(`PerturbationRule conformance: ${RULE}`);
      expect(output).toMatch(/Test Files\s+2 passed \(2\)/);
      expect(output).not.toMatch(/failed/);
    },
    STEP_TIMEOUT_MS,
  );

  it('refuses a name that is not kebab-case or is taken, and creates nothing', async () => {
    for (const [name, message] of [
      ['Bad_Name', 'is not a kebab-case name'],
      [RULE, `packages/${RULE} already exists`],
    ] as const) {
      const output = await generate(name);
      expect(output, name).toContain(message);
    }
    expect(existsSync(join(copy, 'packages', 'Bad_Name'))).toBe(false);
  });
});
