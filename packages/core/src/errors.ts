const markerFor = (errorName: string) => Symbol.for(`@mup2/error/${errorName}`);

/**
 * Base class of every error this project throws. `isInstance` works across
 * duplicate copies of the package (instanceof does not), which matters with
 * TF.js, where two installed copies are a known failure.
 */
export class Mup2Error extends Error {
  /** The error's name, also its `name` and the key of its cross-copy marker. */
  static readonly errorName: string = 'Mup2Error';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    let errorClass: unknown = new.target;
    this.name = (new.target as typeof Mup2Error).errorName;
    // Mark the instance with every class of its chain, so isInstance of a base class matches too.
    while (typeof errorClass === 'function' && 'errorName' in errorClass) {
      Object.defineProperty(this, markerFor(String(errorClass.errorName)), { value: true });
      errorClass = Object.getPrototypeOf(errorClass);
    }
  }

  /** Whether `error` is this error class or a subclass, also when it comes from another copy of the package. */
  static isInstance<T extends typeof Mup2Error>(this: T, error: unknown): error is InstanceType<T> {
    return typeof error === 'object' && error !== null && markerFor(this.errorName) in error;
  }
}

/** A radius ρ that is negative, NaN or infinite. */
export class InvalidRhoError extends Mup2Error {
  /** See Mup2Error.errorName. */
  static override readonly errorName = 'InvalidRhoError';
}
/** An option value outside what the function accepts (unknown scaling, preset, role, …). */
export class InvalidOptionError extends Mup2Error {
  /** See Mup2Error.errorName. */
  static override readonly errorName = 'InvalidOptionError';
}
/** A variable that is optimized but has no ParamSpec although specs were given. */
export class MissingParamSpecError extends Mup2Error {
  /** See Mup2Error.errorName. */
  static override readonly errorName = 'MissingParamSpecError';
}
/** A ParamSpec or variable that was disposed before use. */
export class DisposedVariableError extends Mup2Error {
  /** See Mup2Error.errorName. */
  static override readonly errorName = 'DisposedVariableError';
}
/** A gradient with NaN or ±Infinity entries. */
export class NonFiniteGradientError extends Mup2Error {
  /** See Mup2Error.errorName. */
  static override readonly errorName = 'NonFiniteGradientError';
}
/** Tensors from a second copy of @tensorflow/tfjs-core at run time. */
export class DuplicateTfjsError extends Mup2Error {
  /** See Mup2Error.errorName. */
  static override readonly errorName = 'DuplicateTfjsError';
}
/** A PerturbationRule or RuleDescriptor built for another version of its interface, or missing or wrong members. */
export class RuleSpecificationError extends Mup2Error {
  /** See Mup2Error.errorName. */
  static override readonly errorName = 'RuleSpecificationError';
}
/** Shapes that do not agree (a base model that does not match its model, a wrong base shape). */
export class ShapeMismatchError extends Mup2Error {
  /** See Mup2Error.errorName. */
  static override readonly errorName = 'ShapeMismatchError';
}
/** TF.js lacks a gradient or kernel a step needs; the message names the import or call that provides it. */
export class MissingKernelError extends Mup2Error {
  /** See Mup2Error.errorName. */
  static override readonly errorName = 'MissingKernelError';
}
/** No TF.js backend could be initialised. */
export class BackendError extends Mup2Error {
  /** See Mup2Error.errorName. */
  static override readonly errorName = 'BackendError';
}
