import { runRuleConformance } from '@mup2/core/testing';
import { samOn } from './sam-on.js';

runRuleConformance(samOn);
