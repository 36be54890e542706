import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import type { RuleRegistry } from '../rules/rule-registry.js';

/** commander's collector for a repeatable option. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** A commander parser for a repeatable `name=value` option with a number value (`--rule-option eta=0.02`). */
export function ruleOption(value: string, previous: Record<string, number> = {}): Record<string, number> {
  const match = /^((?:[a-z][a-z0-9-]*\.)?[A-Za-z][A-Za-z0-9]*)=(.+)$/.exec(value.trim());
  const number = match === null ? Number.NaN : Number(match[2]);
  if (match === null || !Number.isFinite(number)) {
    throw new InvalidArgumentError(`expected name=number (e.g. eta=0.02), got '${value}'.`);
  }
  return { ...previous, [match[1] as string]: number };
}

/**
 * `--rule-module` specs as a worker or a later run can load them: a path (it starts with '.', '/'
 * or '~', or names something under `base`) becomes absolute, a package name stays as it is.
 */
export function absoluteRuleModules(specs: readonly string[] | undefined, base: string): string[] {
  return (specs ?? []).map((spec) =>
    /^[./~]/.test(spec) || isAbsolute(spec) || existsSync(resolve(base, spec))
      ? resolve(base, spec.replace(/^~(?=$|\/)/, process.env.HOME ?? '~'))
      : spec,
  );
}

/** Adds `--rule-module <spec>` (repeatable) to a command. */
export function addRuleModuleOption(command: Command): Command {
  return command.option(
    '--rule-module <spec>',
    'load a rule that is not installed: a package name, a package folder or a module file exporting ruleDescriptor (repeatable)',
    collect,
  );
}

/** Adds the installed rules, with their descriptions, to a command's --help. */
export function addRulesHelp(command: Command, rules: RuleRegistry): Command {
  return command.addHelpText(
    'after',
    `\nRules (installed rule packages, found by the mup2-rule keyword; more with --rule-module):\n${rules.helpText()}\n`,
  );
}
