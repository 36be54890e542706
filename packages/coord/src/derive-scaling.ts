import {
  InvalidOptionError,
  type LayerScale,
  type ParamRole,
  type ParamSpec,
  type PerturbationRule,
  type PerturbationScaling,
} from '@mup2/core';
import { type CoordRow, fitSeries, type GroupSlope, groupSlopes, type LayerSlope } from './coord-check.js';
import { type ObservedRule, observeRule } from './observed-rule.js';
import { compareExponents, type ExponentComparison, type Exponents, ruleExponents } from './scaling-exponents.js';
import { assertWidths, type BuildModel, defaultOptimizer, type SweepSettings, sweepWidths } from './width-sweep.js';

export interface DeriveScalingOptions extends Omit<SweepSettings, 'model' | 'widths'> {
  /**
   * The scaling the rule is built with for its direction D_p and normaliser term N_p: constants
   * inside them that the rule scales with width (ASAM's η_T) follow it. a_p and b_p are always
   * replaced by the ones being measured. Default 'mup2'.
   */
  readonly directionScaling?: PerturbationScaling;
  /** Exponents are rounded to multiples of this before the verifying run. Default 0.5. */
  readonly step?: number;
  /** After the derived scaling, every slope must be within ±tolerance of 0. Default 0.3. */
  readonly tolerance?: number;
  /** An exponent whose halves or layers disagree by more than this, or whose seeds' standard error exceeds half of it, has not settled. Default 0.3. */
  readonly settleTolerance?: number;
  /** Called after each model: models done, models in all, and which. */
  readonly onProgress?: (done: number, total: number, label: string) => void;
}

/** One role's derived exponents: a_p = r^perturbation, b_p = r^norm. */
export interface RoleExponents extends Exponents {
  readonly role: ParamRole;
  /** The measured exponents before rounding: −slope of b·‖N‖² under a = b = 1, −slope of ε·x with b in place. */
  readonly measured: Exponents;
  readonly settled: boolean;
  readonly unsettledBecause?: string;
}

/** The slopes of one run of the derivation. */
export interface DerivationRun {
  /** Every quantity of every layer at every width (means over seeds), as `coordCheck` returns them. */
  readonly rows: CoordRow[];
  readonly slopes: LayerSlope[];
  readonly groups: GroupSlope[];
}

export interface DerivedScaling {
  /** The rule's name. */
  readonly rule: string;
  readonly widths: readonly number[];
  /** Per role the rule selects. */
  readonly exponents: RoleExponents[];
  /** The derived a_p, b_p as a rule's `layerScale` would return them. */
  layerScale(spec: Pick<ParamSpec, 'role'>, widthMultiplier: number): LayerScale;
  /** a = b = 1: the rule's naive form, where the normaliser exponents are measured (trained without perturbation). */
  readonly naive: DerivationRun;
  /** a = 1, b derived: the normaliser balanced, where the perturbation exponents are measured (trained without perturbation). */
  readonly balanced: DerivationRun;
  /** a and b derived: the verifying run. */
  readonly derived: DerivationRun;
  /** Every exponent settled (halves, seeds and the layers of a role agree). */
  readonly settled: boolean;
  /** Every normaliser term and effective perturbation of the verifying run is within ±tolerance of 0. */
  readonly verified: boolean;
  /** The rule's own 'mup2' scaling against the derived one. */
  readonly comparison: ExponentComparison;
  /** What happened, in plain sentences. */
  readonly summary: string;
}

const roundTo = (value: number, step: number) => Math.round(value / step) * step || 0;
const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;

/** One role's exponent from its layers' slopes: their mean, settled if each settled and they agree. */
function roleExponent(
  slopes: readonly LayerSlope[],
  role: ParamRole,
  settleTolerance: number,
  what: string,
): { value: number; settled: boolean; reasons: string[] } | undefined {
  const members = slopes.filter((slope) => slope.role === role && !slope.negligible && Number.isFinite(slope.slope));
  if (members.length === 0) return undefined;
  const values = members.map((member) => -member.slope);
  const reasons = members
    .filter((member) => !member.settled)
    .map((member) => `${what} of ${member.layer}: ${member.unsettledBecause}`);
  const spread = Math.max(...values) - Math.min(...values);
  if (spread > settleTolerance) {
    reasons.push(
      `${what}: the ${role} layers disagree (exponents ${Math.min(...values).toFixed(2)} to ${Math.max(...values).toFixed(2)}), so one multiplier per role cannot make them all flat`,
    );
  }
  return { value: mean(values), settled: reasons.length === 0, reasons };
}

/**
 * Derives a rule's µP² scaling by measurement, with the paper's condition: (i) every
 * parameter's normaliser term b_p‖N_p‖² and (ii) every layer's effective perturbation ε·x is
 * Θ(1) in width. Three runs of the coordinate check under µP (init and µP-SGD):
 * 1. a = b = 1: the slope s_N of ‖N_p‖² per role gives b_p = r^(−s_N);
 * 2. a = 1, b as derived (rounded to `step`): the slope s_ε of ε·x per role gives a_p = r^(−s_ε);
 * 3. both as derived, trained with SAM under them: every slope should be ≈ 0 (`verified`).
 * The first two runs train with the base optimizer alone and measure ε at the state it reached.
 * D_p and N_p are the rule's own, whatever they are computed from. Exponents that change
 * between the narrower and the wider widths, differ between seeds or between the layers of one
 * role have not settled: `settled` is false and `summary` says which and why.
 */
export async function deriveScaling(
  rule: (scaling: PerturbationScaling) => PerturbationRule,
  model: BuildModel,
  widths: readonly number[],
  options: DeriveScalingOptions,
): Promise<DerivedScaling> {
  if (typeof rule !== 'function' || typeof model !== 'function') {
    throw new InvalidOptionError(
      'deriveScaling: expected (rule: (scaling) => rule, model: (width, { seed, parameterization }) => model, widths, options).',
    );
  }
  const sorted = assertWidths(widths, 'deriveScaling');
  const step = options.step ?? 0.5;
  if (!(Number.isFinite(step) && step > 0)) {
    throw new InvalidOptionError(`deriveScaling: step must be a positive number, got ${String(options.step)}.`);
  }
  const tolerance = options.tolerance ?? 0.3;
  const settleTolerance = options.settleTolerance ?? 0.3;
  const directionScaling = options.directionScaling ?? 'mup2';
  const learningRate = options.learningRate ?? 0.1;
  const createOptimizer = options.optimizer ?? defaultOptimizer(learningRate);
  const seeds = options.seeds ?? 2;
  const total = 3 * sorted.length * seeds;
  let done = 0;
  const settings: SweepSettings = { ...options, model, widths: sorted };
  const observedRules: ObservedRule[] = [];
  // The measuring runs train with the base optimizer alone (ρ = 0), so that a trial scaling's perturbation,
  // which may blow up at the wide widths, cannot change the trained state it is measured at; the verifying
  // run trains with the derived scaling, as a user would.
  const run = async (
    name: string,
    exponents: ReadonlyMap<ParamRole, Exponents>,
    trainRadius?: number,
  ): Promise<DerivationRun> => {
    const scale = (spec: ParamSpec, r: number): LayerScale => {
      const role = exponents.get(spec.role);
      return { perturbation: r ** (role?.perturbation ?? 0), norm: r ** (role?.norm ?? 0) };
    };
    const series = await sweepWidths(
      settings,
      'mup',
      () => {
        const observed = observeRule(rule(directionScaling), scale);
        observedRules.push(observed);
        return observed;
      },
      createOptimizer,
      (width, seed) => options.onProgress?.(++done, total, `${name} width ${width} seed ${seed}`),
      trainRadius,
    );
    const { rows, slopes } = fitSeries(name, sorted, series.values(), tolerance, settleTolerance);
    return { rows, slopes, groups: groupSlopes(slopes, tolerance) };
  };

  const naive = await run('naive', new Map(), 0);
  const roles = [...new Set(naive.slopes.filter((slope) => slope.quantity === 'normTerm').map((slope) => slope.role))];
  const normExponents = new Map<ParamRole, ReturnType<typeof roleExponent>>();
  for (const role of roles) {
    normExponents.set(
      role,
      roleExponent(
        naive.slopes.filter((slope) => slope.quantity === 'normTerm'),
        role,
        settleTolerance,
        'normaliser term',
      ),
    );
  }
  const balancedExponents = new Map<ParamRole, Exponents>(
    roles.map((role) => [role, { perturbation: 0, norm: roundTo(normExponents.get(role)?.value ?? 0, step) }]),
  );
  const balanced = await run('balanced', balancedExponents, 0);
  const perturbationSlopes = balanced.slopes.filter((slope) => slope.quantity === 'perturbation');
  const exponents: RoleExponents[] = roles.map((role) => {
    const norm = normExponents.get(role);
    const perturbation = roleExponent(perturbationSlopes, role, settleTolerance, 'effective perturbation');
    const reasons = [...(norm?.reasons ?? []), ...(perturbation?.reasons ?? [])];
    if (perturbation === undefined) {
      reasons.push(`no ${role} layer has a measured effective perturbation (a_p left at 1)`);
    }
    const measured = { perturbation: perturbation?.value ?? 0, norm: norm?.value ?? 0 };
    return {
      role,
      perturbation: roundTo(measured.perturbation, step),
      norm: roundTo(measured.norm, step),
      measured,
      settled: reasons.length === 0,
      ...(reasons.length > 0 && { unsettledBecause: reasons.join('; ') }),
    };
  });
  const derivedExponents = new Map<ParamRole, Exponents>(exponents.map((entry) => [entry.role, entry]));
  const derived = await run('derived', derivedExponents);
  const checked = derived.slopes.filter((slope) => slope.quantity === 'normTerm' || slope.quantity === 'perturbation');
  const worst = checked.reduce<LayerSlope | undefined>(
    (current, slope) => (current === undefined || Math.abs(slope.slope) > Math.abs(current.slope) ? slope : current),
    undefined,
  );
  const verified = worst !== undefined && Math.abs(worst.slope) <= tolerance;
  const comparison = compareExponents(
    new Map(exponents.map((entry) => [entry.role, entry.measured])),
    ruleExponents(
      rule('mup2'),
      observedRules.flatMap((observed) => observed.scaled),
    ),
  );
  const settled = exponents.every((entry) => entry.settled);
  const ruleName = rule('naive').name;
  return {
    rule: ruleName,
    widths: sorted,
    exponents,
    layerScale: (spec, r) => {
      const role = derivedExponents.get(spec.role);
      return { perturbation: r ** (role?.perturbation ?? 0), norm: r ** (role?.norm ?? 0) };
    },
    naive,
    balanced,
    derived,
    settled,
    verified,
    comparison,
    summary: summarize(ruleName, exponents, settled, verified, worst, tolerance, comparison),
  };
}

const power = (exponent: number) => (exponent === 0 ? '1' : exponent === 1 ? 'r' : `r^${exponent}`);

function summarize(
  rule: string,
  exponents: readonly RoleExponents[],
  settled: boolean,
  verified: boolean,
  worst: LayerSlope | undefined,
  tolerance: number,
  comparison: ExponentComparison,
): string {
  const lines = [
    `${rule}: derived µP² scaling ${exponents
      .map((entry) => `${entry.role} a = ${power(entry.perturbation)}, b = ${power(entry.norm)}`)
      .join('; ')} (measured exponents ${exponents
      .map((entry) => `${entry.role} ${entry.measured.perturbation.toFixed(2)}/${entry.measured.norm.toFixed(2)}`)
      .join(', ')}).`,
  ];
  if (!settled) {
    lines.push('The exponents did NOT settle, so the derivation is not reliable at these widths:');
    for (const entry of exponents.filter((item) => !item.settled)) {
      lines.push(`- ${entry.role}: ${entry.unsettledBecause}.`);
    }
  }
  if (worst) {
    lines.push(
      verified
        ? `Verified: under the derived scaling every normaliser term and effective perturbation has a slope within ±${tolerance} (largest ${worst.slope.toFixed(2)}, ${worst.layer} ${worst.quantity}).`
        : `NOT verified: under the derived scaling ${worst.layer}'s ${worst.quantity} still has slope ${worst.slope.toFixed(2)} (beyond ±${tolerance}).`,
    );
  }
  if (comparison.roles.length > 0) {
    lines.push(
      `Against the rule's own 'mup2' scaling: largest exponent difference ${comparison.largestDifference.toFixed(2)} ` +
        `after a common factor r^${comparison.gauge.toFixed(2)} on a (r^${(2 * comparison.gauge).toFixed(2)} on b), which leaves ε unchanged.`,
    );
  }
  return lines.join('\n');
}
