import { muAdam, muSgd, parsePreset, SamOptimizer } from '@mup2/core';
import type * as tf from '@tensorflow/tfjs';
import type { ZooModel } from '../models/zoo-model.js';
import { NO_RULE, type RuleRegistry } from '../rules/rule-registry.js';
import type { ResolvedTrainConfig } from './train-config.js';

/**
 * The optimizer of a run (DESIGN.md §5, §6). The preset's parameterization
 * decides the learning rates: SP gives one global rate (the base optimizer
 * without specs), µP the per-layer rates of §4 (with the model's specs). Its
 * scaling goes to the perturbation rule, which always sees the specs: 'sp-lp'
 * needs the layerwise multipliers in SP, and SAM-ON finds the norm parameters by them.
 */
export function createOptimizer(config: ResolvedTrainConfig, model: ZooModel, rules: RuleRegistry): tf.Optimizer {
  const preset = parsePreset(config.preset);
  const { parameterization } = preset;
  const base =
    config.optimizer === 'adam'
      ? muAdam(config.lr, model.specs, { weightDecay: config.weightDecay, parameterization })
      : muSgd(config.lr, model.specs, { momentum: config.momentum, weightDecay: config.weightDecay, parameterization });
  if (config.rule === NO_RULE) return base;
  const rule = rules.create(config.rule, { rho: config.rho, scaling: preset.scaling, ruleOptions: config.ruleOptions });
  // A NaN or infinite gradient is let through: the run sees the loss turn NaN and stops as diverged.
  return new SamOptimizer({
    base,
    rule,
    params: model.specs,
    nonFinite: 'ignore',
    ...(config.mSharpness !== null && { mSharpness: config.mSharpness }),
    ...(config.perturbationInterval !== 1 && { perturbationInterval: config.perturbationInterval }),
  });
}
