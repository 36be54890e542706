import { asam } from '@mup2/asam';
import { InvalidOptionError, type PerturbationRule, type PerturbationScaling } from '@mup2/core';
import { sam } from '@mup2/sam';
import { samOn } from '@mup2/sam-on';

/** The perturbation rules the bench knows, by their CLI name. */
export const RULES = {
  sam: (options: { rho: number; scaling: PerturbationScaling }) => sam(options),
  asam: (options: { rho: number; scaling: PerturbationScaling }) => asam(options),
  'sam-on': (options: { rho: number; scaling: PerturbationScaling }) => samOn(options),
} satisfies Record<string, (options: { rho: number; scaling: PerturbationScaling }) => PerturbationRule>;

export type RuleName = keyof typeof RULES;
export const RULE_NAMES = Object.keys(RULES) as RuleName[];

export function createRule(name: string, options: { rho: number; scaling: PerturbationScaling }): PerturbationRule {
  if (!Object.hasOwn(RULES, name)) {
    throw new InvalidOptionError(`unknown rule ${JSON.stringify(name)}; expected one of ${RULE_NAMES.join(', ')}.`);
  }
  return RULES[name as RuleName](options);
}
