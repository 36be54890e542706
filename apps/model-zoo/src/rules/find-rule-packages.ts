import { existsSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { getPackages, type Package } from '@manypkg/get-packages';
import { isRuleManifest, packageDirOf, readManifest } from './rule-package.js';

/** A package that declares itself a rule package (keyword `mup2-rule`), not yet imported. */
export interface RulePackageLocation {
  readonly name: string;
  readonly dir: string;
  /** 'workspace': a package of the monorepo; 'dependency': installed in node_modules. */
  readonly from: 'workspace' | 'dependency';
}

/** The folder Node would load `name` from for code in `dir`: the first node_modules/<name> at or above it. */
export function installedPackageDir(name: string, dir: string): string | undefined {
  for (let current = dir; ; current = dirname(current)) {
    const candidate = join(current, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    if (dirname(current) === current) return undefined;
  }
}

const dependencyNames = (pkg: Package) =>
  Object.keys({
    ...pkg.packageJson.dependencies,
    ...pkg.packageJson.devDependencies,
    ...pkg.packageJson.optionalDependencies,
  });

/**
 * The rule packages installed for the code in `from`: every package of its workspace (the
 * monorepo's `packages` globs, read by @manypkg/get-packages as pnpm, npm and yarn define
 * them) whose package.json has the keyword `mup2-rule`, and every dependency of the
 * workspace root or of a workspace package that has it (a rule installed from npm with
 * `pnpm add -w <package>`). Nothing is imported; a workspace package wins over a
 * dependency of the same name. Outside a workspace, the dependencies of the nearest package.
 */
export async function findRulePackages(from: string): Promise<RulePackageLocation[]> {
  let workspace: Package[];
  try {
    const found = await getPackages(from);
    workspace = [...(found.rootPackage ? [found.rootPackage] : []), ...found.packages];
  } catch {
    const dir = packageDirOf(from);
    const packageJson = dir === undefined ? undefined : readManifest(dir);
    workspace =
      dir && packageJson
        ? [{ dir, relativeDir: '.', packageJson: packageJson as unknown as Package['packageJson'] }]
        : [];
  }
  const found = new Map<string, RulePackageLocation>();
  for (const pkg of workspace) {
    if (isRuleManifest(pkg.packageJson as never)) {
      found.set(pkg.packageJson.name, { name: pkg.packageJson.name, dir: pkg.dir, from: 'workspace' });
    }
  }
  const workspaceNames = new Set(workspace.map((pkg) => pkg.packageJson.name));
  for (const pkg of workspace) {
    for (const name of dependencyNames(pkg)) {
      if (workspaceNames.has(name) || found.has(name)) continue;
      const dir = installedPackageDir(name, pkg.dir);
      if (dir !== undefined && isRuleManifest(readManifest(dir))) found.set(name, { name, dir, from: 'dependency' });
    }
  }
  return [...found.values()];
}
