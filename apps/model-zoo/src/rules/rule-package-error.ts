import { Mup2Error } from '@mup2/core';

/**
 * A rule package or module that cannot be used: not found, not built, no `ruleDescriptor`
 * export, or an import that throws. The message names the package or path and the fault.
 * (A descriptor that is there but wrong is core's RuleSpecificationError.)
 */
export class RulePackageError extends Mup2Error {
  static override readonly errorName = 'RulePackageError';
}
