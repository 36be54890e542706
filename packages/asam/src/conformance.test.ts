import { runRuleConformance } from '@mup2/core/testing';
import { asam } from './asam.js';

runRuleConformance(asam);
