// The module rules-plugin.ts serves: the descriptors of the installed rule packages.
declare module 'virtual:mup2-rules' {
  import type { RuleDescriptor } from '@mup2/core';
  export const ruleDescriptors: readonly RuleDescriptor[];
}
