import type { Tensor } from '@tensorflow/tfjs-core';
import { InvalidOptionError, InvalidRhoError, RuleSpecificationError } from './errors.js';
import type { ParamSpec } from './param-spec.js';
import { type PerturbationRuleV2, RULE_V2_HOOKS } from './perturbation-rule-v2.js';

/** How a rule's perturbation scales with width (docs/mup2-explained.md, "The fix: a layerwise scaling"). */
export type PerturbationScaling = 'naive' | 'global' | 'mup2';
export const PERTURBATION_SCALINGS: readonly PerturbationScaling[] = ['naive', 'global', 'mup2'];

/** The constants a_p and b_p of one parameter: ε_p = ρ · a_p · D_p / (sqrt(Σ_q b_q ‖N_q‖²) + 1e-12). */
export interface LayerScale {
  /** a_p, the factor on the parameter's perturbation. */
  readonly perturbation: number;
  /** b_p, the weight of the parameter's term in the normaliser. */
  readonly norm: number;
}

/** D_p and N_p of one parameter. They may be the same tensor (SAM). */
export interface PerturbationDirection {
  /** D_p: the direction of the parameter's perturbation. */
  readonly direction: Tensor;
  /** N_p: what the parameter contributes to the normaliser, as b_p ‖N_p‖². */
  readonly normTerm: Tensor;
}

/** What a rule sees of one parameter when it computes its direction. */
export interface PerturbationInput {
  readonly gradient: Tensor;
  readonly weight: Tensor;
  readonly spec: ParamSpec;
  /** The model's width multiplier r (1 when no ParamSpecs were given). */
  readonly widthMultiplier: number;
}

/**
 * A perturbation rule of the form (docs/mup2-explained.md, "The fix: a layerwise scaling"):
 *
 *   ε_p = ρ · a_p · D_p / ( sqrt( Σ_{q∈P} b_q · ‖N_q‖² ) + 1e-12 )
 *
 * over the parameters P it selects. The rule declares which parameters it
 * selects, its per-layer constants a_p, b_p for its scaling (computed once per
 * parameter set, not per step), and D_p, N_p (computed per step).
 * SamOptimizer does the rest: the fused normaliser, the ascent step, its removal.
 */
export interface PerturbationRuleV1 {
  readonly specificationVersion: 'v1';
  /** Short name, e.g. 'sam'. */
  readonly name: string;
  /** The radius ρ. */
  readonly radius: number;
  readonly scaling: PerturbationScaling;
  /**
   * Whether the caller chose `scaling` (true) or the rule took its default. SamOptimizer refuses a
   * chosen 'mup2' without `params`, and a chosen 'global' without `params` or `widthMultiplier`:
   * either would silently be plain SAM. Optional: a rule without it is never refused.
   */
  readonly explicitScaling?: boolean;
  /** Whether the rule perturbs this parameter (SAM-ON: norm parameters only). */
  selects(spec: ParamSpec): boolean;
  /** a_p and b_p of one selected parameter at width multiplier r. */
  layerScale(spec: ParamSpec, widthMultiplier: number): LayerScale;
  /** D_p and N_p of one selected parameter. Called inside a tf.tidy. */
  direction(input: PerturbationInput): PerturbationDirection;
}

/**
 * A perturbation rule, of either interface version: v1 (a stateless D_p, N_p) or v2 (the same,
 * with state across steps, its own descent and steps without an ascent: perturbation-rule-v2.ts).
 * SamOptimizer runs both; `specificationVersion` tells them apart.
 */
export type PerturbationRule = PerturbationRuleV1 | PerturbationRuleV2;

/** The interface versions this @mup2/core implements. */
export const RULE_VERSIONS = ['v1', 'v2'] as const;

const RULE_MEMBERS = {
  name: 'string',
  radius: 'number',
  scaling: 'string',
  selects: 'function',
  layerScale: 'function',
  direction: 'function',
} as const;

/** Throws a RuleSpecificationError naming what is wrong with a rule object. */
export function assertPerturbationRule(rule: unknown): asserts rule is PerturbationRule {
  if (typeof rule !== 'object' || rule === null) {
    throw new RuleSpecificationError(
      `Expected a PerturbationRule object, got ${rule === null ? 'null' : typeof rule}.`,
    );
  }
  const candidate = rule as Record<string, unknown>;
  if (!RULE_VERSIONS.includes(candidate.specificationVersion as 'v1')) {
    throw new RuleSpecificationError(
      `PerturbationRule '${String(candidate.name)}' has specificationVersion ${JSON.stringify(candidate.specificationVersion)}; ` +
        "this @mup2/core implements 'v1' and 'v2'.",
    );
  }
  for (const [member, type] of Object.entries(RULE_MEMBERS)) {
    if (typeof candidate[member] !== type) {
      throw new RuleSpecificationError(
        `PerturbationRule '${String(candidate.name)}' is missing member '${member}' (expected a ${type}, got ${typeof candidate[member]}).`,
      );
    }
  }
  if (candidate.specificationVersion === 'v2') {
    for (const hook of RULE_V2_HOOKS) {
      if (candidate[hook] !== undefined && typeof candidate[hook] !== 'function') {
        throw new RuleSpecificationError(
          `PerturbationRule '${String(candidate.name)}' has member '${hook}' of type ${typeof candidate[hook]}; expected a function or nothing.`,
        );
      }
    }
  }
  assertRadius(candidate.radius as number, String(candidate.name));
  assertScaling(candidate.scaling, String(candidate.name));
}

/** Throws an InvalidRhoError unless ρ is a finite number ≥ 0. */
export function assertRadius(rho: unknown, context: string): asserts rho is number {
  if (typeof rho !== 'number' || !Number.isFinite(rho) || rho < 0) {
    throw new InvalidRhoError(`${context}: rho must be a finite number >= 0, got ${String(rho)}.`);
  }
}

/** Throws an InvalidOptionError unless `scaling` is 'naive', 'global' or 'mup2'. */
export function assertScaling(scaling: unknown, context: string): asserts scaling is PerturbationScaling {
  if (!PERTURBATION_SCALINGS.includes(scaling as PerturbationScaling)) {
    throw new InvalidOptionError(
      `${context}: unknown scaling ${JSON.stringify(scaling)}; expected one of ${PERTURBATION_SCALINGS.map((s) => `'${s}'`).join(', ')}.`,
    );
  }
}
