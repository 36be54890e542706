import { ruleDescriptors } from 'virtual:mup2-rules';
import { createRuleRegistry, NO_RULE } from '@mup2/model-zoo';

/** The installed rules, as the server found them (rules-plugin.ts), for the page and its worker alike. */
export const rules = createRuleRegistry(ruleDescriptors);

/** 'sgd' (no perturbation) and every installed rule. */
export const RULE_NAMES: readonly string[] = [NO_RULE, ...rules.names];
