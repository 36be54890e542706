export { LOOKSAM_DEFAULTS, type LookSamOptions, lookSam } from './looksam.js';
export { ruleDescriptor } from './rule-descriptor.js';
