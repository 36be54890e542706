export { ruleDescriptor } from './rule-descriptor.js';
export { type SamOnOptions, samOn } from './sam-on.js';
