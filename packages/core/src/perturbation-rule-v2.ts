import type { Tensor } from '@tensorflow/tfjs-core';
import type { ParamSpec } from './param-spec.js';
import type { LayerScale, PerturbationDirection, PerturbationInput, PerturbationScaling } from './perturbation-rule.js';

/**
 * What a v2 rule keeps of one parameter from one step to the next (FriendlySAM's running mean of
 * the gradient, LookSAM's reused gradient component): named tensors of any shape. Names are
 * identifiers; SamOptimizer owns the tensors once a hook has returned them.
 */
export type ParameterState = Readonly<Record<string, Tensor>>;

/** What a v2 rule sees of one parameter when it computes its direction. */
export interface PerturbationInputV2 extends PerturbationInput {
  /** The parameter's state after the last step taken; undefined before the rule's first step. */
  readonly state: ParameterState | undefined;
  /** The optimizer's step count, 0-based (the `iterations` of the step being taken). */
  readonly step: number;
}

/** D_p and N_p of one parameter, and its state after this step. */
export interface PerturbationDirectionV2 extends PerturbationDirection {
  /**
   * The parameter's state after this step, kept if the step is taken (a rejected step keeps the
   * old one). Leave it out to keep the state as it is. Return new tensors (not `gradient`,
   * `weight` or the old state's tensors as they are: those are not the rule's to keep).
   */
  readonly state?: ParameterState;
}

/** One selected parameter as the descent hook sees it. */
export interface DescentParameter {
  readonly spec: ParamSpec;
  /** a_p and b_p of the rule's scaling: b_p weighs the parameter in the normaliser, and so in any inner product the rule takes. */
  readonly scale: LayerScale;
  /** g_p, the gradient at the weights w. */
  readonly gradient: Tensor;
  /** g'_p, the gradient at w + ε; undefined on a step the rule takes without an ascent (see `ascends`). */
  readonly perturbedGradient: Tensor | undefined;
  /** The parameter's state: what `direction` proposed this step, else the state after the last step taken. */
  readonly state: ParameterState | undefined;
}

/** What the descent hook is given: every selected parameter that has a gradient, in the optimizer's order. */
export interface DescentInput {
  readonly parameters: readonly DescentParameter[];
  readonly widthMultiplier: number;
  readonly step: number;
}

/** The descent direction of the selected parameters, and their states after this step. */
export interface DescentOutput {
  /**
   * The direction the base optimizer descends along, by variable name. A parameter left out
   * descends along g'_p (along g_p on a step without an ascent); parameters the rule does not
   * select always do.
   */
  readonly gradients?: Readonly<Record<string, Tensor>>;
  /** States after this step, by variable name (as `direction`'s `state`); they win over `direction`'s. */
  readonly states?: Readonly<Record<string, ParameterState>>;
}

/** What `ascends` is told about the step to come. */
export interface AscentQuery {
  /** The optimizer's step count, 0-based. */
  readonly step: number;
  /** Whether every selected parameter has a state kept from an earlier step. */
  readonly hasState: boolean;
}

/**
 * A perturbation rule of interface version 2: the form of v1 (a rule computes D_p and N_p, and
 * SamOptimizer computes
 *
 *   ε_p = ρ · a_p · D_p / ( sqrt( Σ_{q∈P} b_q · ‖N_q‖² ) + 1e-12 ),
 *
 * the passes, the exact return to w and the descent), and three optional powers v1 has not:
 *
 * - **state across steps**: `direction` receives the parameter's state from the last step taken
 *   and may return the next one. SamOptimizer keeps it per variable, commits it only when a step
 *   is taken, carries it in getWeights/setWeights and disposes it with itself.
 * - **its own descent**: `descent` receives the gradients of both passes (g at w, g' at w + ε)
 *   and returns the direction the base optimizer descends along (GSAM's surrogate-gap term).
 * - **steps without an ascent**: `ascends` may answer false for a step, which then takes one
 *   pass at w and descends along what `descent` makes of g (LookSAM between its full steps).
 *
 * With none of them a v2 rule behaves exactly as the v1 rule with the same members.
 * Every hook runs inside a tf.tidy: intermediates are freed, returned tensors are kept.
 */
export interface PerturbationRuleV2 {
  readonly specificationVersion: 'v2';
  /** Short name, e.g. 'friendly-sam'. */
  readonly name: string;
  /** The radius ρ. */
  readonly radius: number;
  readonly scaling: PerturbationScaling;
  /** As in v1: whether the caller chose `scaling`. */
  readonly explicitScaling?: boolean;
  /** Whether the rule perturbs this parameter. */
  selects(spec: ParamSpec): boolean;
  /** a_p and b_p of one selected parameter at width multiplier r. */
  layerScale(spec: ParamSpec, widthMultiplier: number): LayerScale;
  /** D_p and N_p of one selected parameter, and its next state. */
  direction(input: PerturbationInputV2): PerturbationDirectionV2;
  /** Whether the step takes the ascent and the pass at w + ε. Default: every step does. */
  ascends?(query: AscentQuery): boolean;
  /** The descent direction from the gradients of the passes. Default: g' (the v1 descent). */
  descent?(input: DescentInput): DescentOutput;
}

/** The members every v2 rule has, and their types (the optional hooks are functions when present). */
export const RULE_V2_MEMBERS = {
  name: 'string',
  radius: 'number',
  scaling: 'string',
  selects: 'function',
  layerScale: 'function',
  direction: 'function',
} as const;

/** The optional hooks of v2, each a function when present. */
export const RULE_V2_HOOKS = ['ascends', 'descent'] as const;

/** A state name: an identifier, so that getWeights can name the tensor `<variable>/sam-rule-state/<name>`. */
export const STATE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
