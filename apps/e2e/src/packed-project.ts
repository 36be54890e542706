import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// What a user gets from npm: the packed tarballs, installed with npm into a project outside
// the workspace, so nothing resolves through pnpm's symlinks, the catalog or workspace:^.
// Needs the packages built (the root `test` script builds first) and the npm registry.

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
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

/**
 * Runs a command to its end, with `environment` added to npm's: its outputs, or an error
 * carrying both when it fails. Asynchronous, so that a long install does not stall vitest's
 * worker (it answers the runner's calls from the event loop).
 */
export function run(
  command: string,
  args: readonly string[],
  cwd: string,
  timeout = 120_000,
  environment: NodeJS.ProcessEnv = {},
): Promise<{ stdout: string; stderr: string }> {
  const env = { ...npmEnvironment(), ...environment };
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, env, encoding: 'utf8', timeout, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      if (error)
        reject(new Error(`${command} ${args.join(' ')} failed in ${cwd}: ${error.message}\n${stdout}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

export interface PackedProject {
  /** The temporary folder: tarballs/ and project/. */
  readonly workDir: string;
  /** The npm project with the tarballs installed. */
  readonly projectDir: string;
  /** The file names of the packed tarballs. */
  readonly tarballs: readonly string[];
  remove(): void;
}

/**
 * Packs the workspace packages in `packageDirs` (relative to the repository) with pnpm, which
 * turns workspace:^ into version ranges as a publish would, and installs the tarballs with npm,
 * with `dependencies` from the registry, into a new project outside the workspace.
 */
export async function createPackedProject(
  packageDirs: readonly string[],
  dependencies: readonly string[],
): Promise<PackedProject> {
  for (const dir of packageDirs) {
    if (!existsSync(join(REPO_ROOT, dir, 'dist/index.js'))) {
      throw new Error(`${dir} is not built (${dir}/dist/index.js missing); run \`pnpm build\` first.`);
    }
  }
  const workDir = mkdtempSync(join(tmpdir(), 'mup2-packed-'));
  const tarballDir = join(workDir, 'tarballs');
  const projectDir = join(workDir, 'project');
  mkdirSync(tarballDir);
  mkdirSync(projectDir);
  for (const dir of packageDirs) await run('pnpm', ['pack', '--pack-destination', tarballDir], join(REPO_ROOT, dir));
  const tarballs = readdirSync(tarballDir).filter((file) => file.endsWith('.tgz'));
  writeFileSync(
    join(projectDir, 'package.json'),
    JSON.stringify({ name: 'mup2-packed-check', private: true, type: 'module' }, null, 2),
  );
  await run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      ...tarballs.map((file) => join(tarballDir, file)),
      ...dependencies,
    ],
    projectDir,
    INSTALL_TIMEOUT_MS,
  );
  return { workDir, projectDir, tarballs, remove: () => rmSync(workDir, { recursive: true, force: true }) };
}

/** How long createPackedProject may take on a fresh machine (cold npm cache). */
export const PACKED_PROJECT_TIMEOUT_MS = INSTALL_TIMEOUT_MS + 60_000;
