export { FRIENDLY_SAM_DEFAULTS, type FriendlySamOptions, friendlySam } from './friendly-sam.js';
export { ruleDescriptor } from './rule-descriptor.js';
