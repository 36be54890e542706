import { Mup2Error } from '@mup2/core';

/** A folder the report cannot render: missing, not a folder, or holding nothing it recognises. */
export class ReportError extends Mup2Error {
  static override readonly errorName = 'ReportError';
}
