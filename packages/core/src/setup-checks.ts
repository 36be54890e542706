import type * as tf from '@tensorflow/tfjs-core';
import { InvalidOptionError, MissingParamSpecError } from './errors.js';
import { MuAdamOptimizer } from './mu-adam.js';
import { MuSgdOptimizer } from './mu-sgd.js';
import type { ParamSpec } from './param-spec.js';
import type { PerturbationRule } from './perturbation-rule.js';

/**
 * Throws for a SamOptimizer setup that cannot be what the caller meant: each of these used to
 * train without a word, as plain SAM or with SP learning rates.
 */
export function assertMeaningfulSetup(
  base: tf.Optimizer,
  rule: PerturbationRule,
  params: readonly ParamSpec[] | undefined,
  widthMultiplier: number | undefined,
): void {
  if (params === undefined && rule.explicitScaling === true) {
    const fix =
      'pass params (describeParams(model, baseModel) for a tfjs-layers model, paramSpecs([...]) for your own ' +
      "variables), or scaling: 'naive' for plain SAM";
    if (rule.scaling === 'mup2') {
      throw new MissingParamSpecError(
        `SamOptimizer: rule '${rule.name}' has scaling 'mup2' but no params were given. µP² scales each layer by ` +
          'its role and width multipliers, which come from ParamSpecs; without them every layer has multiplier 1 ' +
          `and this is plain SAM. Expected params: ${fix}.`,
      );
    }
    if (rule.scaling === 'global' && widthMultiplier === undefined) {
      throw new MissingParamSpecError(
        `SamOptimizer: rule '${rule.name}' has scaling 'global' (ρ·r^(-1/2)) but neither params nor widthMultiplier ` +
          `were given, so r = 1 and this is plain SAM. Expected params or widthMultiplier: ${fix}.`,
      );
    }
  }
  // Not instanceof: tf.Optimizer's Symbol.hasInstance, which subclasses inherit, is duck-typed (any optimizer passes).
  const isMuSgd = Object.prototype.isPrototypeOf.call(MuSgdOptimizer.prototype, base);
  if (params !== undefined && (isMuSgd || Object.prototype.isPrototypeOf.call(MuAdamOptimizer.prototype, base))) {
    if ((base as MuSgdOptimizer | MuAdamOptimizer).params === undefined) {
      const name = isMuSgd ? 'muSgd' : 'muAdam';
      throw new InvalidOptionError(
        `SamOptimizer: params were given, but its base ${name} was created without them, so it applies one ` +
          `learning rate to every layer (SP), not µP's per-layer rates. Expected the same params: ${name}(lr, params); ` +
          `for SP learning rates with ParamSpecs (the paper's 'sp-lp'), say so: ${name}(lr, params, { parameterization: 'sp' }).`,
      );
    }
  }
}
