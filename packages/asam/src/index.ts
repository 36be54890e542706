export { ASAM_DEFAULT_ETA, type AsamOptions, asam, etaScale, isBiasOrOffset } from './asam.js';
export { ruleDescriptor } from './rule-descriptor.js';
