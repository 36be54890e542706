import { logLogSlope, type ParamRole, type ParamSpec, type PerturbationRule } from '@mup2/core';

/** The width exponents of one role's constants: a_p = r^perturbation, b_p = r^norm. */
export interface Exponents {
  readonly perturbation: number;
  readonly norm: number;
}

/**
 * The exponents of a rule's own a_p, b_p per role, read from its `layerScale` at the
 * parameters and width multipliers of real models (at least two different multipliers).
 */
export function ruleExponents(
  rule: PerturbationRule,
  scaled: readonly { readonly spec: ParamSpec; readonly widthMultiplier: number }[],
): Map<ParamRole, Exponents> {
  const byRole = new Map<ParamRole, Array<{ r: number; a: number; b: number }>>();
  for (const { spec, widthMultiplier } of scaled) {
    const { perturbation, norm } = rule.layerScale(spec, widthMultiplier);
    byRole.set(spec.role, [...(byRole.get(spec.role) ?? []), { r: widthMultiplier, a: perturbation, b: norm }]);
  }
  const exponents = new Map<ParamRole, Exponents>();
  for (const [role, points] of byRole) {
    if (new Set(points.map((point) => point.r)).size < 2) continue;
    const rs = points.map((point) => point.r);
    exponents.set(role, {
      perturbation: logLogSlope(
        rs,
        points.map((point) => point.a),
      ),
      norm: logLogSlope(
        rs,
        points.map((point) => point.b),
      ),
    });
  }
  return exponents;
}

/** How one role's derived exponents compare with a reference scaling's. */
export interface RoleComparison {
  readonly role: ParamRole;
  readonly reference: Exponents;
  /** The derived (measured) exponents moved into the reference's gauge (see `compareExponents`). */
  readonly derived: Exponents;
  /** The largest |derived − reference| of the two. */
  readonly difference: number;
}

export interface ExponentComparison {
  /**
   * γ: the derived constants equal the reference's times r^γ (a) and r^(2γ) (b). Scaling every
   * a_p by c and every b_p by c² leaves ε unchanged, so two scalings that differ only by γ are
   * the same rule (ASAM's shipped a = √r, b = 1 is a = b = r with γ = 1/2).
   */
  readonly gauge: number;
  readonly roles: RoleComparison[];
  /** The largest difference over every role. */
  readonly largestDifference: number;
}

/**
 * Compares derived exponents with a reference's up to the one freedom that leaves ε unchanged,
 * (a, b) → (c·a, c²·b): γ is fitted by least squares over every role, then each role's
 * difference is read in the reference's gauge.
 */
export function compareExponents(
  derived: ReadonlyMap<ParamRole, Exponents>,
  reference: ReadonlyMap<ParamRole, Exponents>,
): ExponentComparison {
  const roles = [...derived.keys()].filter((role) => reference.has(role));
  let numerator = 0;
  for (const role of roles) {
    const d = derived.get(role) as Exponents;
    const s = reference.get(role) as Exponents;
    numerator += d.perturbation - s.perturbation + 2 * (d.norm - s.norm);
  }
  // Least squares of Σ(Δa − γ)² + Σ(Δb − 2γ)² over the roles.
  const gauge = roles.length > 0 ? numerator / (5 * roles.length) : 0;
  const compared = roles.map((role) => {
    const d = derived.get(role) as Exponents;
    const s = reference.get(role) as Exponents;
    const moved = { perturbation: d.perturbation - gauge, norm: d.norm - 2 * gauge };
    return {
      role,
      reference: s,
      derived: moved,
      difference: Math.max(Math.abs(moved.perturbation - s.perturbation), Math.abs(moved.norm - s.norm)),
    };
  });
  return { gauge, roles: compared, largestDifference: Math.max(0, ...compared.map((role) => role.difference)) };
}
