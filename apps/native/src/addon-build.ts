import { availableParallelism } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import type { BuildTools } from './prerequisites.js';
import { runCommand } from './run-command.js';
import type { TfjsNodePackage } from './tfjs-node-package.js';

/** The N-API version in the addon's folder name (lib/napi-v8): node-pre-gyp's pick for this Node. */
function napiBuildVersion(addon: string): string {
  const match = /napi-v(\d+)/.exec(basename(dirname(addon)));
  if (!match?.[1]) throw new Error(`unexpected addon path ${addon}: expected a lib/napi-v<N> folder.`);
  return match[1];
}

/**
 * Builds tfjs_binding.node with node-gyp against deps/ and the local Node headers,
 * and copies it to the path tfjs-node loads. The variables are the ones node-pre-gyp
 * passes; calling node-gyp directly keeps tfjs-node's install script out of it
 * (that script rewrites the package's package.json, a file pnpm shares from its store).
 * The output folder is passed relative to the build folder, where gyp resolves it: pnpm puts a
 * patched package (tfjs-node is one, patches/) in a folder with an '=' in its name
 * (…_patch_hash=…), which make reads as an assignment in a target's absolute path.
 */
export async function buildAddon(pkg: TfjsNodePackage, tools: BuildTools): Promise<void> {
  const napi = napiBuildVersion(pkg.addon);
  await runCommand(
    process.execPath,
    [
      tools.nodeGyp,
      'rebuild',
      `--nodedir=${tools.nodeDir}`,
      `--python=${tools.python}`,
      `--jobs=${availableParallelism()}`,
      '--module_name=tfjs_binding',
      `--module_path=${relative(join(pkg.dir, 'build'), dirname(pkg.addon))}`,
      `--napi_build_version=${napi}`,
      `--node_napi_label=napi-v${napi}`,
    ],
    { cwd: pkg.dir },
  );
}
