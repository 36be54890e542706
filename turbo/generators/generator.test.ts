import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// `turbo gen rule` in a copy of the repository (root files, packages/core, the two apps, the
// generator), so the generated package never touches this work tree, its lockfile or its workspace
// state. The copy then goes the user's way: pnpm install, pnpm build, and the apps train with the
// new rule, found by its package's keyword, while no file of the apps changes.
// `--prefer-offline`: pnpm takes packages from its store (filled by the repository's own install)
// and asks the registry only for metadata it lacks, which a fresh machine's frozen-lockfile
// install never wrote (`--offline` fails there with ERR_PNPM_NO_OFFLINE_META).
// `--tag <installed @turbo/gen>` lets turbo's npx use the local @turbo/gen instead of asking
// the registry for `latest`.

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const RULE = 'probe-rule';
const FACTORY = 'probeRule';
/** A second package, from the generator of v2 rules (`turbo gen rule-v2`). */
const RULE_V2 = 'probe-state-rule';
const STEP_TIMEOUT_MS = 300_000;
/** Copy, install, generate, install and build: each step is bounded by STEP_TIMEOUT_MS. */
const SETUP_TIMEOUT_MS = 4 * STEP_TIMEOUT_MS;
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
// The bench and the zoo, what the bench depends on in the workspace (its native-backend installer),
// and the patches package.json's pnpm.patchedDependencies names (pnpm install fails without them).
const COPIED_DIRECTORIES = [
  'patches',
  'packages/core',
  'packages/coord',
  'apps/model-zoo',
  'apps/bench',
  'apps/native',
  'turbo/generators',
];
const SKIPPED_DIRECTORIES = new Set(['node_modules', 'dist', '.turbo', 'results']);

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

function generate(name: string, generatorName = 'rule'): Promise<string> {
  return run(
    join(copy, 'node_modules', '.bin', 'turbo'),
    ['gen', generatorName, '--tag', turboGenVersion, '--args', name],
    copy,
  );
}

const packageDir = () => join(copy, 'packages', RULE);
const read = (path: string) => readFileSync(join(copy, path), 'utf8');

/** SHA-256 of every file under `dir` (installed modules and build output left out), by relative path. */
function fileHashes(dir: string): Record<string, string> {
  const hashes: Record<string, string> = {};
  const walk = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      if (SKIPPED_DIRECTORIES.has(entry.name)) continue;
      const path = join(current, entry.name);
      if (entry.isDirectory()) walk(path);
      else hashes[relative(dir, path)] = createHash('sha256').update(readFileSync(path)).digest('hex');
    }
  };
  walk(dir);
  return hashes;
}

let appsBefore: Record<string, string>;
let installOutput: string;

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
  for (const directory of COPIED_DIRECTORIES) {
    cpSync(join(repoRoot, directory), join(copy, directory), { recursive: true, filter: skip });
  }
  await run('pnpm', ['install', '--prefer-offline', '--no-frozen-lockfile'], copy);
  appsBefore = fileHashes(join(copy, 'apps'));
  await generate(RULE);
  await generate(RULE_V2, 'rule-v2');
  // All it takes after generating, as the generator says: install and build.
  installOutput = await run('pnpm', ['install', '--prefer-offline', '--no-frozen-lockfile'], copy);
  await run('pnpm', ['build'], copy);
}, SETUP_TIMEOUT_MS);

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
      'src/rule-descriptor.ts',
      `src/${RULE}.test.ts`,
      'src/conformance.test.ts',
      `src/${RULE}.scaling.test.ts`,
    ]) {
      expect(existsSync(join(packageDir(), file)), file).toBe(true);
    }
    const manifest = JSON.parse(read(`packages/${RULE}/package.json`));
    expect(manifest.name).toBe(`@mup2/${RULE}`);
    expect(manifest.dependencies).toEqual({ '@mup2/core': 'workspace:^' });
    expect(manifest.peerDependencies).toEqual({ '@tensorflow/tfjs-core': '^4.22.0' });
    expect(manifest.exports['.'].types).toBe('./dist/index.d.ts');
    expect(manifest.keywords, 'the keyword the apps find rule packages by').toContain('mup2-rule');
    const rule = read(`packages/${RULE}/src/${RULE}.ts`);
    expect(rule).toContain(`export function ${FACTORY}(`);
    expect(rule).toContain("specificationVersion: 'v1'");
    expect(read(`packages/${RULE}/src/rule-descriptor.ts`)).toContain(`name: '${RULE}'`);
    expect(read(`packages/${RULE}/src/index.ts`)).toContain('ruleDescriptor');
    expect(read(`packages/${RULE}/src/conformance.test.ts`)).toContain('runRuleConformance(ruleDescriptor)');
    expect(read(`.changeset/${RULE}-first-release.md`)).toContain(`'@mup2/${RULE}': minor`);
    expect(read('vitest.config.ts')).toMatch(new RegExp(`^\\s*(project\\()?'packages/${RULE}'\\)?,$`, 'm'));
  });

  it(
    'gives a package that installs, builds, typechecks, passes biome and passes its tests with the conformance suite',
    async () => {
      expect(installOutput).not.toMatch(/ERR_PNPM/);
      expect(existsSync(join(packageDir(), 'dist', 'index.js'))).toBe(true);
      expect(existsSync(join(packageDir(), 'dist', 'index.d.ts'))).toBe(true);
      await run(join(copy, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], packageDir());
      await run(join(copy, 'node_modules', '.bin', 'biome'), ['check', `packages/${RULE}`, 'vitest.config.ts'], copy);
      const output = await run(join(copy, 'node_modules', '.bin', 'vitest'), ['run', '--project', RULE], copy);
      expect(output).toContain(`PerturbationRule conformance: ${RULE}`);
      // The options, the conformance suite, and deriveScaling finding the SAM copy's a = b = m_p.
      expect(output).toMatch(/Test Files\s+3 passed \(3\)/);
      expect(output).toMatch(/derived µP² scaling input a = r, b = r/);
      expect(output).not.toMatch(/failed/);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    "with interface v2 gives a rule with state that passes its tests, the v2 conformance suite's state checks included",
    async () => {
      const rule = read(`packages/${RULE_V2}/src/${RULE_V2}.ts`);
      expect(rule).toContain("specificationVersion: 'v2'");
      expect(rule).toContain('state: { mean }');
      await run(join(copy, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], join(copy, 'packages', RULE_V2));
      const output = await run(
        join(copy, 'node_modules', '.bin', 'vitest'),
        ['run', '--project', RULE_V2, '--reporter', 'verbose'],
        copy,
      );
      expect(output).toContain(`PerturbationRule conformance: ${RULE_V2}`);
      expect(output).toContain('carries its state in getWeights/setWeights');
      expect(output).toMatch(/Test Files\s+3 passed \(3\)/);
      expect(output).not.toMatch(/failed/);
    },
    STEP_TIMEOUT_MS,
  );

  it(
    'plugs into the zoo and the bench after install and build alone: --help lists it, zoo train and bench sweep train with it, no app file changed',
    async () => {
      const help = await run('pnpm', ['zoo', 'train', '--help'], copy);
      expect(help).toMatch(
        new RegExp(`\\n {2}${RULE} +the ${RULE} perturbation rule .*\\[@mup2/${RULE}; default rho 0\\.05\\]`),
      );
      const trained = await run(
        'pnpm',
        ['zoo', 'train', '--rule', RULE, '--epochs', '1', '--limit', '256', '--batch', '64', '--backend', 'wasm'],
        copy,
      );
      expect(trained).toContain(`rule ${RULE}, preset mup2`);
      expect(trained).toMatch(/done: final test acc \d/);
      const out = join(copy, 'sweep-results');
      const swept = await run(
        'pnpm',
        ['bench', 'sweep', '--rules', RULE, '--limit', '256', '--batches', '64', '--backend', 'wasm', '--out', out],
        copy,
      );
      expect(swept).toMatch(/1 cells, 0 done before, 1 ok, 0 diverged, 0 failed/);
      const rows = readFileSync(join(out, 'results.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ status: 'ok', config: { rule: RULE, rho: 0.1 } });
      // Trained, not just run: above the 10% of chance on the held-out digits.
      expect(rows[0].finalTestAccuracy).toBeGreaterThan(0.2);
      expect(fileHashes(join(copy, 'apps')), 'files of apps/ after generate, install, build and the runs').toEqual(
        appsBefore,
      );
    },
    STEP_TIMEOUT_MS,
  );

  it(
    'refuses a name that is not kebab-case or is taken, and creates nothing',
    async () => {
      for (const [name, message] of [
        ['Bad_Name', 'is not a kebab-case name'],
        [RULE, `packages/${RULE} already exists`],
      ] as const) {
        const output = await generate(name);
        expect(output, name).toContain(message);
      }
      expect(existsSync(join(copy, 'packages', 'Bad_Name'))).toBe(false);
      // Two turbo gen runs: each starts turbo and @turbo/gen's TypeScript loader.
    },
    STEP_TIMEOUT_MS,
  );
});
