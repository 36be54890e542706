import type { LayerScale, ParamSpec, PerturbationRule } from '@mup2/core';
import * as tf from '@tensorflow/tfjs-core';

/** A rule that also reports each parameter's ‖N_p‖² while `recording`, optionally with other a_p, b_p. */
export interface ObservedRule {
  readonly rule: PerturbationRule;
  /** ‖N_p‖² of each parameter of the last recorded ε, by variable name. */
  readonly normTerms: Map<string, number>;
  /** Every parameter the optimizer asked a_p, b_p for, with the width multiplier it gave. */
  readonly scaled: Array<{ readonly spec: ParamSpec; readonly widthMultiplier: number }>;
  record(on: boolean): void;
}

/**
 * Wraps `rule` without copying it: the wrapper inherits every member (a rule with state or
 * other methods keeps working) and replaces `direction`, to read N_p, and, when `layerScale` is
 * given, the rule's a_p and b_p. D_p and N_p stay the rule's own, whatever they are.
 */
export function observeRule(
  rule: PerturbationRule,
  layerScale?: (spec: ParamSpec, widthMultiplier: number) => LayerScale,
): ObservedRule {
  const normTerms = new Map<string, number>();
  const scaled: Array<{ spec: ParamSpec; widthMultiplier: number }> = [];
  let recording = false;
  const direction = rule.direction;
  const ownScale = rule.layerScale;
  const wrapped = Object.create(rule, {
    direction: {
      value(input: Parameters<PerturbationRule['direction']>[0], ...rest: unknown[]) {
        const result = (direction as (...args: unknown[]) => ReturnType<PerturbationRule['direction']>).call(
          rule,
          input,
          ...rest,
        );
        // Called inside the optimizer's tidy: the sum is freed with it.
        if (recording)
          normTerms.set(input.spec.variable.name, tf.sum(tf.square(result.normTerm)).dataSync()[0] as number);
        return result;
      },
    },
    layerScale: {
      value(spec: ParamSpec, widthMultiplier: number): LayerScale {
        scaled.push({ spec, widthMultiplier });
        return layerScale ? layerScale(spec, widthMultiplier) : ownScale.call(rule, spec, widthMultiplier);
      },
    },
  }) as PerturbationRule;
  return {
    rule: wrapped,
    normTerms,
    scaled,
    record: (on) => {
      recording = on;
      if (on) normTerms.clear();
    },
  };
}
