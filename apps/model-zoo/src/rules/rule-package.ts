import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { assertRuleDescriptor } from '@mup2/core';
import { exports as resolveExports, legacy as resolveLegacy } from 'resolve.exports';
import { RulePackageError } from './rule-package-error.js';
import type { LoadedRule } from './rule-registry.js';

/** The package.json keyword by which a rule package says it exports a `ruleDescriptor` (and npm search finds it). */
export const RULE_KEYWORD = 'mup2-rule';

/** The export of a rule package (or module) that tools read. */
export const RULE_EXPORT = 'ruleDescriptor';

export interface PackageManifest {
  readonly name?: string;
  readonly keywords?: unknown;
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly devDependencies?: Readonly<Record<string, string>>;
  readonly [member: string]: unknown;
}

/** The package.json of a package folder, or undefined when it has none or it is not JSON. */
export function readManifest(dir: string): PackageManifest | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageManifest;
  } catch {
    return undefined;
  }
}

/** Whether a package.json declares a rule package (the `mup2-rule` keyword). */
export function isRuleManifest(manifest: PackageManifest | undefined): boolean {
  return Array.isArray(manifest?.keywords) && manifest.keywords.includes(RULE_KEYWORD);
}

/** The file Node imports for the package in `dir` (its `exports` '.' for import, else `module`/`main`, else index.js). */
export function packageEntry(dir: string, manifest: PackageManifest): string {
  const name = manifest.name ?? dir;
  let entry: string | undefined;
  try {
    entry =
      resolveExports(manifest as never, '.', { conditions: ['node', 'import'] })?.[0] ??
      (resolveLegacy(manifest as never) as string | undefined);
  } catch (error) {
    throw new RulePackageError(
      `rule package ${name} (${dir}): its package.json "exports" has no entry for import: ${(error as Error).message}`,
    );
  }
  const file = join(dir, entry ?? 'index.js');
  if (!existsSync(file)) {
    throw new RulePackageError(
      `rule package ${name} (${dir}) is not built: its entry ${file} does not exist (run pnpm build, or pnpm turbo run build --filter=${name}).`,
    );
  }
  return file;
}

/** Imports `file` and returns its checked `ruleDescriptor` export; `source` names it in errors. */
export async function importRuleDescriptor(file: string, source: string): Promise<LoadedRule> {
  let namespace: Record<string, unknown>;
  try {
    namespace = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (error) {
    throw new RulePackageError(`rule ${source}: importing ${file} failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (!(RULE_EXPORT in namespace)) {
    const names = Object.keys(namespace);
    throw new RulePackageError(
      `rule ${source}: ${file} has no '${RULE_EXPORT}' export (it exports ${names.length > 0 ? names.join(', ') : 'nothing'}); ` +
        "a rule package exports its descriptor as `export const ruleDescriptor = defineRule({ … })` from '@mup2/core'.",
    );
  }
  const descriptor = namespace[RULE_EXPORT];
  assertRuleDescriptor(descriptor, source);
  return { descriptor, source, file };
}

/** The rule of the package in `dir`: its entry imported, its descriptor checked. */
export async function loadRulePackage(dir: string): Promise<LoadedRule> {
  const manifest = readManifest(dir);
  if (manifest === undefined) throw new RulePackageError(`${dir} has no readable package.json.`);
  return importRuleDescriptor(packageEntry(dir, manifest), manifest.name ?? dir);
}

/** The folder of the nearest package.json at or above `path` (a file or a folder). */
export function packageDirOf(path: string): string | undefined {
  let dir = existsSync(path) && statSync(path).isDirectory() ? path : dirname(path);
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}
