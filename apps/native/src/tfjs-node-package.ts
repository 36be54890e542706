import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the workspace whose root package.json lists @tensorflow/tfjs-node. */
export const REPOSITORY_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Where tfjs-node is installed and where its parts go. */
export interface TfjsNodePackage {
  /** The package folder (real path, inside node_modules/.pnpm). */
  readonly dir: string;
  readonly version: string;
  /** deps/lib: libtensorflow.so and libtensorflow_framework.so, as binding.gyp links them. */
  readonly libDir: string;
  /** deps/include: the C API headers. */
  readonly includeDir: string;
  /** The addon path tfjs-node loads (node-pre-gyp's find, the same call its index.js makes). */
  readonly addon: string;
}

export class TfjsNodeNotInstalledError extends Error {
  constructor(cause: unknown) {
    super(
      '@tensorflow/tfjs-node is not in node_modules: run `pnpm install --frozen-lockfile` at the repository root first ' +
        `(it installs the package without its install script, which would download libtensorflow from Google's CDN). ` +
        `(${cause instanceof Error ? cause.message : String(cause)})`,
    );
    this.name = 'TfjsNodeNotInstalledError';
  }
}

export function locateTfjsNode(root = REPOSITORY_ROOT): TfjsNodePackage {
  const fromRoot = createRequire(join(root, 'package.json'));
  let manifestPath: string;
  try {
    manifestPath = realpathSync(fromRoot.resolve('@tensorflow/tfjs-node/package.json'));
  } catch (error) {
    throw new TfjsNodeNotInstalledError(error);
  }
  const dir = dirname(manifestPath);
  const fromPackage = createRequire(manifestPath);
  const manifest = fromPackage('./package.json') as { version: string };
  const nodePreGyp = fromPackage('@mapbox/node-pre-gyp') as { find: (packageJson: string) => string };
  return {
    dir,
    version: manifest.version,
    libDir: join(dir, 'deps', 'lib'),
    includeDir: join(dir, 'deps', 'include'),
    addon: nodePreGyp.find(manifestPath),
  };
}
