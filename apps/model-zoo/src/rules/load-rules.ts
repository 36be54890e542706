import { fileURLToPath } from 'node:url';
import { Mup2Error } from '@mup2/core';
import { findRulePackages } from './find-rule-packages.js';
import { loadRuleModule } from './rule-module.js';
import { loadRulePackage } from './rule-package.js';
import { createRuleRegistry, type LoadedRule, type RuleProblem, type RuleRegistry } from './rule-registry.js';

/** The workspace a tool runs in is found from the zoo's own folder. */
const ZOO_DIR = fileURLToPath(new URL('.', import.meta.url));

let discovered: Promise<{ rules: LoadedRule[]; problems: RuleProblem[] }> | undefined;

/** The installed rule packages, imported once per process. */
function discoverRules(): Promise<{ rules: LoadedRule[]; problems: RuleProblem[] }> {
  discovered ??= (async () => {
    const rules: LoadedRule[] = [];
    const problems: RuleProblem[] = [];
    for (const location of await findRulePackages(ZOO_DIR)) {
      try {
        rules.push(await loadRulePackage(location.dir));
      } catch (error) {
        if (!Mup2Error.isInstance(error)) throw error;
        problems.push({ source: location.name, message: error.message });
      }
    }
    return { rules, problems };
  })();
  return discovered;
}

export interface LoadRulesOptions {
  /** `--rule-module` specs: package names or paths of rules beyond the installed ones (they win over an installed rule of the same name). */
  readonly modules?: readonly string[];
  /** What relative module paths and package names are resolved from. Default: process.cwd(). */
  readonly cwd?: string;
}

/**
 * The rules a tool can use: every rule package installed in the workspace or as a
 * dependency (found by the `mup2-rule` keyword, see findRulePackages; loaded once per
 * process, a package that fails to load is listed in `problems`) and the rules of `modules`
 * (a module that fails to load throws). Every descriptor is checked by @mup2/core.
 */
export async function loadRules(options: LoadRulesOptions = {}): Promise<RuleRegistry> {
  const { rules, problems } = await discoverRules();
  const extra: LoadedRule[] = [];
  for (const spec of options.modules ?? []) {
    extra.push(await loadRuleModule(spec, { cwd: options.cwd ?? process.cwd(), workspaceDir: ZOO_DIR }));
  }
  return createRuleRegistry([...rules, ...extra], problems);
}
