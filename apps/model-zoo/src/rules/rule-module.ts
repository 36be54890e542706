import { existsSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { findRulePackages, installedPackageDir } from './find-rule-packages.js';
import { importRuleDescriptor, loadRulePackage } from './rule-package.js';
import { RulePackageError } from './rule-package-error.js';
import type { LoadedRule } from './rule-registry.js';

/** A spec is a path when it starts with '.', '/' or '~' or names something that exists; else a package name. */
function isPathSpec(spec: string, cwd: string): boolean {
  return /^[./~]/.test(spec) || isAbsolute(spec) || existsSync(resolve(cwd, spec));
}

/**
 * Loads the rule of `--rule-module <spec>`: a package name (installed where `cwd` or `workspaceDir`
 * can load it, or a package of the workspace), a package folder, or a module file that exports
 * `ruleDescriptor`. The descriptor gets the same checks as a discovered one.
 */
export async function loadRuleModule(
  spec: string,
  options: { cwd: string; workspaceDir: string },
): Promise<LoadedRule> {
  if (typeof spec !== 'string' || spec.trim() === '') {
    throw new RulePackageError(`rule module spec ${JSON.stringify(spec)} is empty; expected a package name or a path.`);
  }
  if (isPathSpec(spec, options.cwd)) {
    const path = resolve(options.cwd, spec.replace(/^~(?=$|\/)/, process.env.HOME ?? '~'));
    if (!existsSync(path)) throw new RulePackageError(`rule module ${spec}: ${path} does not exist.`);
    if (!statSync(path).isDirectory()) return importRuleDescriptor(path, path);
    if (!existsSync(resolve(path, 'package.json'))) {
      throw new RulePackageError(
        `rule module ${spec}: ${path} is a folder without a package.json; give a package folder or a module file.`,
      );
    }
    return loadRulePackage(path);
  }
  const dir =
    installedPackageDir(spec, options.cwd) ??
    installedPackageDir(spec, options.workspaceDir) ??
    (await findRulePackages(options.workspaceDir)).find((location) => location.name === spec)?.dir;
  if (dir === undefined) {
    throw new RulePackageError(
      `rule module ${spec}: no package of that name is installed for ${options.cwd} or in this workspace; ` +
        `install it (pnpm add -w ${spec}) or give its folder or file as a path.`,
    );
  }
  return loadRulePackage(dir);
}
