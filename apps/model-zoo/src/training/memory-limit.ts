import { freemem } from 'node:os';
import { InvalidOptionError, Mup2Error } from '@mup2/core';
import { estimateTrainingMemory, type MemoryEstimate, type MemoryEstimateInput } from './memory-estimate.js';

/** The share of the available memory one training may take unless told otherwise. */
export const DEFAULT_MEMORY_FRACTION = 0.75;

/**
 * How much memory a training may take: `bytes`, a `fraction` of the memory available when it
 * starts, or `none` (no check). Written as '8G', '512M', '75%' or 'none' (see parseMemoryLimit).
 */
export type MemoryLimit =
  | { readonly kind: 'bytes'; readonly bytes: number }
  | { readonly kind: 'fraction'; readonly fraction: number }
  | { readonly kind: 'none' };

const UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** '8G' (GiB), '512M', '1.5T', '123456' (bytes), '75%' (of the available memory), or 'none'. */
export function parseMemoryLimit(text: string): MemoryLimit {
  const trimmed = text.trim();
  if (trimmed.toLowerCase() === 'none') return { kind: 'none' };
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(trimmed);
  if (percent) {
    const fraction = Number(percent[1]) / 100;
    if (fraction > 0 && fraction <= 1) return { kind: 'fraction', fraction };
  }
  const size = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(trimmed);
  if (size) {
    const bytes = Number(size[1]) * (UNITS[(size[2] as string).toUpperCase()] as number);
    if (bytes > 0 && Number.isFinite(bytes)) return { kind: 'bytes', bytes };
  }
  throw new InvalidOptionError(
    `memory limit '${text}': expected a size such as 8G or 512M, a share of the available memory such as 75% (at most 100%), or none.`,
  );
}

/** Memory this process can still take: the system's available memory, within a container's limit where Node knows it. */
export function availableMemory(): number {
  const available = (process as { availableMemory?: () => number }).availableMemory?.();
  return typeof available === 'number' && available > 0 ? available : freemem();
}

/** 1.5 GB, 320 MB: bytes for a message, in powers of 1024 as the limits are written. */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value >= 100 || unit === 0 ? Math.round(value) : value.toPrecision(3)} ${units[unit]}`;
}

/** A training whose estimated memory is beyond the limit: refused before anything is allocated. */
export class ModelTooLargeError extends Mup2Error {
  static override readonly errorName = 'ModelTooLargeError';
  readonly estimate: MemoryEstimate | undefined;
  readonly limitBytes: number | undefined;

  constructor(message: string, options?: { estimate?: MemoryEstimate; limitBytes?: number; cause?: unknown }) {
    super(message, options);
    this.estimate = options?.estimate;
    this.limitBytes = options?.limitBytes;
  }
}

/**
 * Estimates the memory of a training from its config (estimateTrainingMemory) and throws a
 * ModelTooLargeError with the estimate and the limit when it is beyond `limit` (default: 75% of the
 * available memory), `share` being the part of the limit this one training gets (1 / the trainings
 * that run at once). Allocates nothing; returns the estimate.
 */
export function checkTrainingMemory(
  config: MemoryEstimateInput,
  limit: MemoryLimit = { kind: 'fraction', fraction: DEFAULT_MEMORY_FRACTION },
  share = 1,
): MemoryEstimate {
  const estimate = estimateTrainingMemory(config);
  if (limit.kind === 'none') return estimate;
  const available = limit.kind === 'fraction' ? availableMemory() : undefined;
  const limitBytes = (limit.kind === 'bytes' ? limit.bytes : limit.fraction * (available as number)) * share;
  if (estimate.totalBytes <= limitBytes) return estimate;
  const limitText =
    `${formatBytes(limitBytes)} (` +
    (limit.kind === 'fraction'
      ? `${Math.round(limit.fraction * 100)}% of the ${formatBytes(available as number)} of memory available`
      : 'the limit given') +
    `${share < 1 ? `, shared by ${Math.round(1 / share)} trainings at once` : ''})`;
  throw new ModelTooLargeError(
    `${config.model} at width multiplier ${config.widthMult} on ${config.dataset}, batch ${config.batch}: ` +
      `${estimate.parameters.toLocaleString('en-US')} parameters, an estimated ${formatBytes(estimate.totalBytes)} to train ` +
      `(${formatBytes(estimate.parameterBytes)} for the weights, their gradients and the optimizer's ` +
      `${config.rule === 'sgd' ? 'state' : 'and SAM’s buffers'}, ` +
      `${formatBytes(estimate.activationBytes)} for the activations of a batch), more than the limit of ${limitText}; ` +
      'a smaller width or batch fits, or --memory-limit sets another limit (e.g. 90%, 32G, or none).',
    { estimate, limitBytes },
  );
}
