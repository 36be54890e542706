import { runRuleConformance } from '@mup2/core/testing';
import { ruleDescriptor } from './rule-descriptor.js';

// The descriptor's checks, then the rule it builds: interface, shapes, no leaks, ρ = 0, r = 1,
// zero gradients, determinism and the coordinate check of 'mup2' (docs/adding-a-rule.md).
runRuleConformance(ruleDescriptor);
