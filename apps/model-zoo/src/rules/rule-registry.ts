import {
  assertRuleDescriptor,
  InvalidOptionError,
  type PerturbationRule,
  type PerturbationScaling,
  type RuleDescriptor,
} from '@mup2/core';

// What runs anywhere, browsers included: the registry of rules a tool has loaded. Finding and
// importing installed rule packages is Node's part, in load-rules.ts.

/** The rule name that means: train with the base optimizer alone, no perturbation. */
export const NO_RULE = 'sgd';

/** A rule descriptor, checked by @mup2/core, and where it was loaded from. */
export interface LoadedRule {
  readonly descriptor: RuleDescriptor;
  /** The package name, or the path of a module loaded by path. */
  readonly source: string;
  /** The file imported (none for a descriptor handed over directly). */
  readonly file?: string;
}

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

/**
 * The registry of these rules (a later one wins over an earlier one of the same name). A bare
 * descriptor is checked by @mup2/core first; a browser build hands over the descriptors it bundled.
 */
export function createRuleRegistry(
  entries: readonly (LoadedRule | RuleDescriptor)[],
  problems: readonly RuleProblem[] = [],
): RuleRegistry {
  const loaded = entries.map((entry): LoadedRule => {
    if ('descriptor' in entry) return entry;
    assertRuleDescriptor(entry, `the descriptor of ${JSON.stringify((entry as { name?: unknown }).name)}`);
    return { descriptor: entry, source: entry.name };
  });
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
