import { runRuleConformance } from '@mup2/core/testing';
import { sam } from './sam.js';

runRuleConformance(sam);
