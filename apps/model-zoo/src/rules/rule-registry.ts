import { fileURLToPath } from 'node:url';
import {
  InvalidOptionError,
  Mup2Error,
  type PerturbationRule,
  type PerturbationScaling,
  type RuleDescriptor,
} from '@mup2/core';
import { findRulePackages } from './find-rule-packages.js';
import { loadRuleModule } from './rule-module.js';
import { type LoadedRule, loadRulePackage } from './rule-package.js';

/** The rule name that means: train with the base optimizer alone, no perturbation. */
export const NO_RULE = 'sgd';

/** A rule package that declares itself (keyword mup2-rule) but could not be loaded. */
export interface RuleProblem {
  readonly source: string;
  readonly message: string;
}

/** The perturbation rules a tool can use: found installed, or loaded with --rule-module. */
export interface RuleRegistry {
  /** The rules' CLI names, sorted (without 'sgd'). */
  readonly names: readonly string[];
  /** Each rule's descriptor and where it came from. */
  readonly rules: readonly LoadedRule[];
  readonly problems: readonly RuleProblem[];
  /** The descriptor of a rule; an InvalidOptionError listing the known rules for any other name. */
  descriptor(name: string): RuleDescriptor;
  /** Checks a rule's own options (names it declares, finite numbers); throws an InvalidOptionError naming the bad one. */
  checkOptions(name: string, options: Readonly<Record<string, number>>): void;
  /** The rule `name` of this radius and scaling with these options of its own. */
  create(
    name: string,
    options: { rho: number; scaling: PerturbationScaling; ruleOptions?: Readonly<Record<string, number>> },
  ): PerturbationRule;
  /** The rules as help text: one line each, name, description and package, then any that failed to load. */
  helpText(): string;
}

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

function createRegistry(loaded: readonly LoadedRule[], problems: readonly RuleProblem[]): RuleRegistry {
  const byName = new Map<string, LoadedRule>();
  for (const rule of loaded) byName.set(rule.descriptor.name, rule);
  const names = [...byName.keys()].sort();
  const descriptor = (name: string): RuleDescriptor => {
    const found = byName.get(name);
    if (found !== undefined) return found.descriptor;
    const failed = problems.length > 0 ? ` (not loaded: ${problems.map((problem) => problem.message).join('; ')})` : '';
    throw new InvalidOptionError(
      `unknown rule ${JSON.stringify(name)}; the installed rules are ${[NO_RULE, ...names].join(', ')}${failed}. ` +
        'A rule package outside the workspace loads with --rule-module <package or path>.',
    );
  };
  const checkOptions = (name: string, options: Readonly<Record<string, number>>) => {
    const declared = descriptor(name).options ?? {};
    for (const [option, value] of Object.entries(options)) {
      if (!Object.hasOwn(declared, option)) {
        const known = Object.keys(declared);
        throw new InvalidOptionError(
          `rule '${name}' has no option '${option}'; ${known.length > 0 ? `its options are ${known.join(', ')}` : 'it has no options of its own'}.`,
        );
      }
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        throw new InvalidOptionError(`rule option ${name}.${option} must be a finite number, got ${String(value)}.`);
      }
    }
  };
  return {
    names,
    rules: names.map((name) => byName.get(name) as LoadedRule),
    problems,
    descriptor,
    checkOptions,
    create(name, { rho, scaling, ruleOptions = {} }) {
      checkOptions(name, ruleOptions);
      return descriptor(name).create({ ...ruleOptions, rho, scaling });
    },
    helpText() {
      const width = Math.max(NO_RULE.length, ...names.map((name) => name.length));
      const lines = [
        `  ${NO_RULE.padEnd(width)}  no perturbation: the base optimizer alone`,
        ...names.map((name) => {
          const { descriptor: rule, source } = byName.get(name) as LoadedRule;
          const options = Object.entries(rule.options ?? {}).map(
            ([option, entry]) => `${option} (default ${entry.default}): ${entry.description}`,
          );
          return (
            `  ${name.padEnd(width)}  ${rule.description} [${source}; default rho ${rule.defaults.rho}]` +
            options.map((option) => `\n  ${' '.repeat(width)}    option ${option}`).join('')
          );
        }),
        ...problems.map((problem) => `  (${problem.source} not loaded: ${problem.message})`),
      ];
      return lines.join('\n');
    },
  };
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
  return createRegistry([...rules, ...extra], problems);
}
