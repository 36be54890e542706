export { ASAM_DEFAULT_ETA, type AsamOptions, asam, etaScale } from './asam.js';
export { ruleDescriptor } from './rule-descriptor.js';
