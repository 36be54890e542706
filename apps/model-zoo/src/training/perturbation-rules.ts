import { asam } from '@mup2/asam';
import { InvalidOptionError, type PerturbationRule, type PerturbationScaling } from '@mup2/core';
import { sam } from '@mup2/sam';
import { samOn } from '@mup2/sam-on';

interface RuleOptions {
  readonly rho: number;
  readonly scaling: PerturbationScaling;
}

/**
 * The perturbation rules the zoo trains with, by CLI name. A new rule package
 * is wired in here (and added to RULE_NAMES): its factory takes ρ and the
 * preset's scaling.
 */
const PERTURBATION_RULES = {
  sam: (options: RuleOptions) => sam(options),
  asam: (options: RuleOptions) => asam(options),
  'sam-on': (options: RuleOptions) => samOn(options),
} satisfies Record<string, (options: RuleOptions) => PerturbationRule>;

/** 'sgd' trains with the base optimizer alone; the others wrap it in a SamOptimizer with that rule. */
export const RULE_NAMES = ['sgd', 'sam', 'asam', 'sam-on'] as const;
export type RuleName = (typeof RULE_NAMES)[number];

export function isRuleName(name: string): name is RuleName {
  return (RULE_NAMES as readonly string[]).includes(name);
}

/** The perturbation rule of this name, or undefined for 'sgd' (no perturbation). */
export function createPerturbationRule(name: RuleName, options: RuleOptions): PerturbationRule | undefined {
  if (name === 'sgd') return undefined;
  if (!Object.hasOwn(PERTURBATION_RULES, name)) {
    throw new InvalidOptionError(`unknown rule '${name}'; expected one of ${RULE_NAMES.join(', ')}.`);
  }
  return PERTURBATION_RULES[name](options);
}
