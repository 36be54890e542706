export { GSAM_DEFAULT_ALPHA, type GsamOptions, gsam } from './gsam.js';
export { ruleDescriptor } from './rule-descriptor.js';
