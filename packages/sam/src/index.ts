export { ruleDescriptor } from './rule-descriptor.js';
export { type SamOptions, sam } from './sam.js';
