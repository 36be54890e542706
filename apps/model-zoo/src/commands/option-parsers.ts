import { InvalidArgumentError } from 'commander';
import { type MemoryLimit, parseMemoryLimit } from '../training/memory-limit.js';

/** A commander parser for a positive integer option. */
export function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(parsed) || parsed < 1) {
    throw new InvalidArgumentError(`expected a positive integer, got '${value}'.`);
  }
  return parsed;
}

/** A commander parser for an integer >= 0 option. */
export function nonNegativeInteger(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(parsed) || parsed < 0) {
    throw new InvalidArgumentError(`expected an integer >= 0, got '${value}'.`);
  }
  return parsed;
}

/** A commander parser for a finite number > 0. */
export function positiveNumber(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed <= 0) {
    throw new InvalidArgumentError(`expected a positive number, got '${value}'.`);
  }
  return parsed;
}

/** A commander parser for a finite number >= 0. */
export function nonNegativeNumber(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed < 0) {
    throw new InvalidArgumentError(`expected a finite number >= 0, got '${value}'.`);
  }
  return parsed;
}

/** A commander parser for --memory-limit: a size (8G, 512M), a share of the available memory (75%), or none. */
export function memoryLimitOption(value: string): MemoryLimit {
  try {
    return parseMemoryLimit(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message.replace(/^memory limit '[^']*': /, ''));
  }
}
