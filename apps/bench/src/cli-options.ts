import { InvalidArgumentError } from 'commander';

/** A commander parser for a positive integer option. */
export function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed) || parsed < 1) {
    throw new InvalidArgumentError(`expected a positive integer, got '${value}'.`);
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

/** A commander parser for a comma-separated list of positive integers. */
export function positiveIntegerList(value: string): number[] {
  const items = value.split(',').map((item) => item.trim());
  if (items.length === 0 || items.some((item) => item === '')) {
    throw new InvalidArgumentError(`expected a comma-separated list of positive integers, got '${value}'.`);
  }
  return items.map((item) => {
    const parsed = Number(item);
    if (!Number.isSafeInteger(parsed) || parsed < 1) {
      throw new InvalidArgumentError(`expected positive integers, got '${item}' in '${value}'.`);
    }
    return parsed;
  });
}

/** A commander parser for a comma-separated list of names from `allowed`. */
export function nameList<T extends string>(allowed: readonly T[]): (value: string) => T[] {
  return (value: string) => {
    const items = value.split(',').map((item) => item.trim());
    for (const item of items) {
      if (!allowed.includes(item as T)) {
        throw new InvalidArgumentError(`unknown name '${item}'; expected some of ${allowed.join(', ')}.`);
      }
    }
    return items as T[];
  };
}

/** A commander parser for one name of `allowed`. */
export function oneName<T extends string>(allowed: readonly T[]): (value: string) => T {
  return (value: string) => {
    if (!allowed.includes(value as T)) {
      throw new InvalidArgumentError(`unknown name '${value}'; expected one of ${allowed.join(', ')}.`);
    }
    return value as T;
  };
}

/** A commander parser for a comma-separated list of names (checked later, against what is installed). */
export function commaList(value: string): string[] {
  const items = value.split(',').map((item) => item.trim());
  if (items.some((item) => item === '')) {
    throw new InvalidArgumentError(`expected a comma-separated list of names, got '${value}'.`);
  }
  return items;
}
