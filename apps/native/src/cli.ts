// pnpm native:install — the native TF.js backend without Google's CDN (docs/native-backend.md).
import { lstatSync, readdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Command } from 'commander';
import { buildAddon } from './addon-build.js';
import { buildFusedOps, fusedOpsCurrent, fusedOpsHeadersPresent } from './fused-ops.js';
import { installedLibtensorflow, installLibtensorflow, obtainWheel, TENSORFLOW_WHEEL } from './libtensorflow.js';
import { failureReason, skippedLine, unsupportedPlatform } from './optional-install.js';
import { findBuildTools, MissingPrerequisiteError } from './prerequisites.js';
import { probeFusedOps, probeNativeBackend } from './probe.js';
import { CommandError } from './run-command.js';
import { locateTfjsNode, REPOSITORY_ROOT, type TfjsNodePackage } from './tfjs-node-package.js';

interface Options {
  readonly force: boolean;
  readonly strip: boolean;
  readonly keepWheel: boolean;
  readonly ifPossible: boolean;
}

const started = performance.now();
const seconds = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
let quiet = false;
const log = (line: string) => {
  if (!quiet) process.stdout.write(`[native:install ${seconds()}] ${line}\n`);
};
/** Said also under --if-possible: that a build of about a minute begins. */
const announce = (line: string) => (quiet ? process.stdout.write(`native:install: ${line}\n`) : log(line));

/** Bytes in files under a folder (symlinks counted as links, not targets). */
function diskUsage(path: string): number {
  let stats: ReturnType<typeof lstatSync>;
  try {
    stats = lstatSync(path);
  } catch {
    return 0;
  }
  if (!stats.isDirectory()) return stats.isFile() ? stats.size : 0;
  return readdirSync(path).reduce((total, name) => total + diskUsage(join(path, name)), 0);
}

/**
 * Builds and checks the fused kernels. Optional: where they fail, the backend works
 * without them (the TF.js compositions run), so this says why in one line and goes on.
 */
async function addFusedOps(pkg: TfjsNodePackage, nodeDir: string): Promise<void> {
  log('building the fused kernels (~1 s)');
  let addon: string;
  try {
    addon = await buildFusedOps(pkg, nodeDir);
  } catch (error) {
    log(`the fused kernels did not build; the backend works without them: ${failureReason(error)}`);
    return;
  }
  const probe = probeFusedOps(addon);
  if (probe.ok) {
    log(`fused kernels: ${relative(REPOSITORY_ROOT, addon)}`);
  } else {
    rmSync(addon, { force: true });
    log(`the fused kernels built but failed their check, so they are removed: ${probe.reason}`);
  }
}

/** Installs (or finds) the backend; returns the libtensorflow version that works. */
async function install(options: Options): Promise<string> {
  const platform = unsupportedPlatform();
  if (platform !== undefined) throw new Error(`cannot install here: ${platform}`);
  const pkg = locateTfjsNode();
  log(`@tensorflow/tfjs-node ${pkg.version} in ${relative(REPOSITORY_ROOT, pkg.dir)}`);
  if (!options.force) {
    const probe = probeNativeBackend();
    if (probe.ok) {
      if (fusedOpsCurrent(pkg)) {
        log(`already installed and working (libtensorflow ${probe.libtensorflow}); nothing to do. --force rebuilds.`);
      } else if (fusedOpsHeadersPresent(pkg)) {
        let nodeDir: string | undefined;
        try {
          nodeDir = findBuildTools().nodeDir;
        } catch (error) {
          log(`the backend works; its fused kernels cannot be built here: ${failureReason(error)}`);
        }
        if (nodeDir !== undefined) await addFusedOps(pkg, nodeDir);
      } else {
        log(
          `already installed and working (libtensorflow ${probe.libtensorflow}), without the fused optimizer ` +
            'kernels, which need headers an install this old did not unpack: --force rebuilds with them.',
        );
      }
      return probe.libtensorflow;
    }
  }
  log('checking build tools (Python with pip, g++, make, node-gyp, Node headers)');
  const tools = findBuildTools();
  log(`  python ${tools.python}, node-gyp ${tools.nodeGyp}, Node headers in ${tools.nodeDir}`);
  announce('building the native tensorflow backend from the tensorflow-cpu wheel (about a minute)');

  const present = options.force ? undefined : installedLibtensorflow(pkg);
  if (present) {
    log(`libtensorflow from ${present.project} ${present.version} already in deps/`);
  } else {
    const cacheDir = join(REPOSITORY_ROOT, 'node_modules', '.cache', 'mup2-native');
    const wheel = await obtainWheel(tools.python, cacheDir, log, { showPip: !quiet });
    await installLibtensorflow(tools.python, wheel, pkg, { strip: options.strip, log });
    if (!process.env.MUP2_TENSORFLOW_WHEEL && !options.keepWheel) rmSync(wheel, { force: true });
  }

  log('building the addon with node-gyp (~30 s)');
  await buildAddon(pkg, tools);
  const probe = probeNativeBackend();
  if (!probe.ok) throw new Error(`the addon was built but tfjs-node does not load: ${probe.reason}`);
  await addFusedOps(pkg, tools.nodeDir);
  const bytes = ['deps', 'build', 'lib'].reduce((total, folder) => total + diskUsage(join(pkg.dir, folder)), 0);
  log(
    `done: backend 'tensorflow' works (libtensorflow ${probe.libtensorflow} from ${TENSORFLOW_WHEEL.project}, ` +
      `tfjs-node ${probe.tfjsNode}); ${(bytes / 1e6).toFixed(0)} MB on disk in ${relative(REPOSITORY_ROOT, pkg.dir)}`,
  );
  return probe.libtensorflow;
}

const program = new Command('native:install')
  .description(
    'Installs the native TF.js backend: @tensorflow/tfjs-node with libtensorflow taken from the ' +
      `${TENSORFLOW_WHEEL.project} ${TENSORFLOW_WHEEL.version} wheel (pip), its addon built with node-gyp ` +
      "against this Node's headers. Never contacts Google's CDN. A second run checks and exits.",
  )
  .option('--force', 'rebuild even if the backend already works, and unpack the wheel again', false)
  .option('--no-strip', 'keep the symbol tables of the libraries (~200 MB more)')
  .option('--keep-wheel', 'keep the downloaded wheel in node_modules/.cache/mup2-native', false)
  .option(
    '--if-possible',
    'for set-up scripts: print one line of progress, and where the backend cannot be built here (not Linux ' +
      'x86-64, no Python with pip, no compiler, a failed build) one line saying why, and exit 0: everything then runs on wasm',
    false,
  )
  .action(async (options: Options) => {
    if (options.ifPossible) {
      quiet = true;
      try {
        const libtensorflow = await install(options);
        process.stdout.write(
          `native:install: the native tensorflow backend works (libtensorflow ${libtensorflow}; ${seconds()}).\n`,
        );
      } catch (error) {
        const reason =
          error instanceof Error && error.message.startsWith('cannot install here: ')
            ? error.message.slice('cannot install here: '.length)
            : failureReason(error);
        process.stdout.write(`${skippedLine(reason)}\n`);
      }
      return;
    }
    try {
      await install(options);
    } catch (error) {
      if (error instanceof MissingPrerequisiteError) {
        process.stderr.write(`${error.message}\n`);
      } else if (error instanceof CommandError) {
        process.stderr.write(
          `${error.output.trim().split('\n').slice(-40).join('\n')}\n\nnative:install: ${error.message}\n`,
        );
      } else {
        process.stderr.write(`native:install: ${error instanceof Error ? error.message : String(error)}\n`);
      }
      process.exitCode = 1;
    }
  });

await program.parseAsync();
