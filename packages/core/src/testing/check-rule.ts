import { PERTURBATION_SCALINGS, type PerturbationScaling } from '../perturbation-rule.js';
import { RULE_V2_HOOKS } from '../perturbation-rule-v2.js';

const MEMBERS = {
  name: 'string',
  radius: 'number',
  scaling: 'string',
  selects: 'function',
  layerScale: 'function',
  direction: 'function',
} as const;

/**
 * Everything that is wrong with a rule object's shape, one sentence each naming the
 * member; empty when it has every member of the PerturbationRule interface of `version`
 * (default 'v1'; a v2 rule's optional hooks `ascends` and `descent` must be functions when
 * present). Unlike core's assertPerturbationRule it reports all problems, not the first.
 */
export function checkPerturbationRule(rule: unknown, version: 'v1' | 'v2' = 'v1'): string[] {
  if (typeof rule !== 'object' || rule === null) {
    return [`expected a PerturbationRule object, got ${rule === null ? 'null' : typeof rule}`];
  }
  const candidate = rule as Record<string, unknown>;
  const problems: string[] = [];
  if (candidate.specificationVersion !== version) {
    problems.push(
      `member 'specificationVersion' is ${JSON.stringify(candidate.specificationVersion)}; expected '${version}'`,
    );
  }
  if (version === 'v2') {
    for (const hook of RULE_V2_HOOKS) {
      const actual = typeof candidate[hook];
      if (actual !== 'undefined' && actual !== 'function') {
        problems.push(`member '${hook}' is a ${actual}; expected a function or nothing`);
      }
    }
  }
  for (const [member, type] of Object.entries(MEMBERS)) {
    const actual = typeof candidate[member];
    if (actual === 'undefined') problems.push(`missing member '${member}' (expected a ${type})`);
    else if (actual !== type) problems.push(`member '${member}' is a ${actual}; expected a ${type}`);
  }
  if (typeof candidate.name === 'string' && candidate.name.length === 0) {
    problems.push("member 'name' is empty; expected a short name such as 'sam'");
  }
  if (typeof candidate.radius === 'number' && !(Number.isFinite(candidate.radius) && candidate.radius >= 0)) {
    problems.push(`member 'radius' is ${candidate.radius}; expected a finite number >= 0`);
  }
  if (
    typeof candidate.scaling === 'string' &&
    !PERTURBATION_SCALINGS.includes(candidate.scaling as PerturbationScaling)
  ) {
    problems.push(
      `member 'scaling' is '${candidate.scaling}'; expected one of ${PERTURBATION_SCALINGS.map((s) => `'${s}'`).join(', ')}`,
    );
  }
  return problems;
}
