import { describe, expect, it, vi } from 'vitest';
import {
  DisposedVariableError,
  InvalidOptionError,
  InvalidRhoError,
  MissingParamSpecError,
  Mup2Error,
  ShapeMismatchError,
} from './errors.js';

describe('Mup2Error.isInstance', () => {
  it('matches the class and its base class, not siblings', () => {
    const error = new InvalidRhoError('rho must be >= 0, got -1');
    expect(InvalidRhoError.isInstance(error)).toBe(true);
    expect(Mup2Error.isInstance(error)).toBe(true);
    expect(MissingParamSpecError.isInstance(error)).toBe(false);
    expect(InvalidRhoError.isInstance(new Mup2Error('base'))).toBe(false);
    expect(error.name).toBe('InvalidRhoError');
    expect(error.message).toBe('rho must be >= 0, got -1');
    expect(error).toBeInstanceOf(Error);
  });

  it('is false for other values', () => {
    for (const value of [new Error('x'), null, undefined, 'InvalidRhoError', 42, {}]) {
      expect(Mup2Error.isInstance(value)).toBe(false);
    }
  });

  it('keeps the cause', () => {
    const cause = new Error('root');
    expect(new ShapeMismatchError('outer', { cause }).cause).toBe(cause);
  });

  it('recognises errors thrown by a second copy of the module, where instanceof fails', async () => {
    vi.resetModules();
    const copy = (await import('./errors.js')) as typeof import('./errors.js');
    expect(copy.InvalidRhoError).not.toBe(InvalidRhoError);
    const foreign = new copy.DisposedVariableError('from the other copy');
    expect(foreign).not.toBeInstanceOf(DisposedVariableError);
    expect(DisposedVariableError.isInstance(foreign)).toBe(true);
    expect(Mup2Error.isInstance(foreign)).toBe(true);
    expect(InvalidOptionError.isInstance(foreign)).toBe(false);
    expect(copy.Mup2Error.isInstance(new InvalidRhoError('ours'))).toBe(true);
  });

  it('reads the marker from the global symbol registry, so copies of any version agree', () => {
    const fromElsewhere = {
      [Symbol.for('@mup2/error/Mup2Error')]: true,
      [Symbol.for('@mup2/error/ShapeMismatchError')]: true,
    };
    expect(ShapeMismatchError.isInstance(fromElsewhere)).toBe(true);
    expect(Mup2Error.isInstance(fromElsewhere)).toBe(true);
    expect(InvalidRhoError.isInstance(fromElsewhere)).toBe(false);
  });
});
