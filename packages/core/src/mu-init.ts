import * as tf from '@tensorflow/tfjs-core';
import { InvalidOptionError } from './errors.js';
import { assertUsableVariable, type ParamSpec } from './param-spec.js';

/** How muInit initialises the readout. */
export interface MuInitOptions {
  /**
   * How the readout (output-role weights) starts: 'scaled' divides its SP
   * initial values by √fanInMult (docs/mup2-explained.md, "µP itself"), 'zero' sets it to zero
   * (the paper's ResNets and ViTs). Default 'scaled'.
   */
  readonly readout?: 'scaled' | 'zero';
}

/**
 * Turns a model initialised in the standard parameterization into µP
 * initialisation, in place. Only the output weights change: input, hidden and
 * vector parameters keep their SP initialisation (µP without forward
 * multipliers, identical to SP at base width). Call it once, before training.
 */
export function muInit(params: readonly ParamSpec[], options: MuInitOptions = {}): void {
  const readout = options.readout ?? 'scaled';
  if (readout !== 'scaled' && readout !== 'zero') {
    throw new InvalidOptionError(`muInit: readout must be 'scaled' or 'zero', got ${JSON.stringify(readout)}.`);
  }
  // Check every spec first: a disposed variable must not leave the model half initialised.
  for (const spec of params) assertUsableVariable(spec.variable, 'muInit');
  for (const spec of params) {
    if (spec.role !== 'output') continue;
    const variable = spec.variable;
    tf.tidy(() => {
      variable.assign(readout === 'zero' ? tf.zerosLike(variable) : tf.div(variable, Math.sqrt(spec.fanInMult)));
    });
  }
}
