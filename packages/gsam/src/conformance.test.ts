import { runRuleConformance } from '@mup2/core/testing';
import { ruleDescriptor } from './rule-descriptor.js';

// The descriptor (what tools read), then the rule it builds: interface, shapes, no leaks, ρ = 0 is
// the base step, r = 1 equals 'naive', zero gradients, determinism, and the perturbation coordinate
// check of 'mup2' (docs/adding-a-rule.md).
runRuleConformance(ruleDescriptor);
