import { RuleSpecificationError } from './errors.js';
import {
  assertPerturbationRule,
  PERTURBATION_SCALINGS,
  type PerturbationRule,
  type PerturbationScaling,
} from './perturbation-rule.js';

/** The version of the descriptor format this @mup2/core reads. */
export const RULE_DESCRIPTOR_VERSION = 'v1';

/** What a rule package's factory is called with: ρ, the scaling, and the values given for the rule's own options. */
export interface RuleCreateOptions {
  readonly rho: number;
  readonly scaling: PerturbationScaling;
  /** A rule's own options (declared in `options`), by name; those not given are left out and take the rule's default. */
  readonly [option: string]: number | string;
}

/** One numeric option of a rule beyond ρ and the scaling (ASAM's η_T), as tools show and parse it. */
export interface RuleOptionDescriptor {
  /** One line, for --help. */
  readonly description: string;
  /** The value the factory uses when the option is not given. */
  readonly default: number;
}

/**
 * How a rule package describes itself to tools (the model zoo, the bench): once, in the
 * package, exported as `ruleDescriptor`. Tools list and build rules from it and never keep a
 * list of rules of their own. Versioned like PerturbationRule: core checks
 * `specificationVersion` and names the version it expects.
 */
export interface RuleDescriptor {
  readonly specificationVersion: 'v1';
  /** The CLI name, kebab-case, the same as the `name` of the rules `create` returns (e.g. 'sam-on'). */
  readonly name: string;
  /** How tables and charts name the rule (e.g. 'SAM-ON'). */
  readonly label: string;
  /** One line, for --help. */
  readonly description: string;
  /** The rule of this radius and scaling, with the rule's own options where given. */
  create(options: RuleCreateOptions): PerturbationRule;
  readonly defaults: {
    /** The radius ρ at base width tools use when none is given: the one the paper's Table 2 uses for the rule. */
    readonly rho: number;
  };
  /** The rule's own numeric options, by the name `create` reads them under. */
  readonly options?: Readonly<Record<string, RuleOptionDescriptor>>;
  /**
   * How many steps the rule's cost per step takes to repeat with these options (LookSAM: a full
   * step every k). Tools that time steps (`bench perf`) time whole cycles. Default 1: every step
   * costs the same.
   */
  stepCycle?(options: RuleCreateOptions): number;
}

/** kebab-case, as npm package names and CLI choices are: lowercase words of letters and digits joined by '-'. */
const RULE_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
/** Option names are identifiers (they become object keys and camelCase `--rule-option` names). */
const OPTION_NAME = /^[a-zA-Z][a-zA-Z0-9]*$/;
/** Names tools give a meaning of their own: 'sgd' is training without a perturbation. */
const RESERVED_NAMES: readonly string[] = ['sgd'];

const show = (value: unknown): string => (typeof value === 'string' ? `'${value}'` : String(value));

/**
 * Throws a RuleSpecificationError naming the first thing wrong with a rule descriptor and where it
 * came from (`source`, e.g. the package name). Besides the members it builds the rule once for
 * every scaling at the default radius and checks each rule as SamOptimizer does, and that it
 * carries the descriptor's name, the radius and the scaling it was built with. Builds no tensors.
 */
export function assertRuleDescriptor(descriptor: unknown, source: string): asserts descriptor is RuleDescriptor {
  const fail = (what: string): never => {
    throw new RuleSpecificationError(`rule descriptor from ${source}: ${what}.`);
  };
  if (typeof descriptor !== 'object' || descriptor === null) {
    fail(
      `expected an object (export const ruleDescriptor = { … }), got ${descriptor === null ? 'null' : typeof descriptor}`,
    );
  }
  const candidate = descriptor as Record<string, unknown>;
  if (candidate.specificationVersion !== RULE_DESCRIPTOR_VERSION) {
    fail(
      `specificationVersion is ${JSON.stringify(candidate.specificationVersion)}; this @mup2/core reads ` +
        `'${RULE_DESCRIPTOR_VERSION}' (update the rule package or @mup2/core so that they agree)`,
    );
  }
  const { name, label, description, create, defaults, options } = candidate;
  if (typeof name !== 'string' || !RULE_NAME.test(name)) {
    fail(`name ${show(name)} is not a kebab-case name (lowercase letters and digits, words joined by '-')`);
  }
  if (RESERVED_NAMES.includes(name as string)) fail(`name '${name}' is reserved (it means training without a rule)`);
  for (const [member, value] of [
    ['label', label],
    ['description', description],
  ] as const) {
    if (typeof value !== 'string' || value.trim() === '' || /[\r\n]/.test(value)) {
      fail(`'${name}' needs a one-line ${member} string, got ${show(value)}`);
    }
  }
  if (typeof create !== 'function') fail(`'${name}' has no create function (got ${typeof create})`);
  const rho = (defaults as { rho?: unknown } | undefined)?.rho;
  if (
    typeof defaults !== 'object' ||
    defaults === null ||
    typeof rho !== 'number' ||
    !Number.isFinite(rho) ||
    rho < 0
  ) {
    fail(`'${name}' needs defaults.rho, a finite number >= 0, got ${show(rho)}`);
  }
  if (options !== undefined) {
    if (typeof options !== 'object' || options === null)
      fail(`'${name}' has options ${show(options)}; expected an object`);
    for (const [option, entry] of Object.entries(options as object)) {
      if (!OPTION_NAME.test(option) || option === 'rho' || option === 'scaling') {
        fail(`'${name}' declares option ${show(option)}; expected an identifier other than 'rho' and 'scaling'`);
      }
      const { description: text, default: value } = (entry ?? {}) as Partial<RuleOptionDescriptor>;
      if (typeof text !== 'string' || text.trim() === '') fail(`option '${option}' of '${name}' has no description`);
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        fail(`option '${option}' of '${name}' needs a finite number default, got ${show(value)}`);
      }
    }
  }
  const { stepCycle } = candidate;
  if (stepCycle !== undefined && typeof stepCycle !== 'function') {
    fail(`'${name}' has stepCycle ${show(stepCycle)}; expected a function of the create options`);
  }
  for (const scaling of PERTURBATION_SCALINGS) {
    if (typeof stepCycle === 'function') {
      const cycle = (stepCycle as NonNullable<RuleDescriptor['stepCycle']>)({ rho: rho as number, scaling });
      if (!(Number.isSafeInteger(cycle) && cycle >= 1)) {
        fail(
          `stepCycle({ rho: ${rho}, scaling: '${scaling}' }) of '${name}' gave ${show(cycle)}; expected a positive integer`,
        );
      }
    }
    let rule: PerturbationRule;
    try {
      rule = (create as RuleDescriptor['create'])({ rho: rho as number, scaling });
      assertPerturbationRule(rule);
    } catch (error) {
      throw new RuleSpecificationError(
        `rule descriptor from ${source}: create({ rho: ${rho}, scaling: '${scaling}' }) of '${name}' failed: ` +
          `${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
    const built = { name: rule.name, radius: rule.radius, scaling: rule.scaling };
    const expected = { name, radius: rho, scaling };
    for (const member of ['name', 'radius', 'scaling'] as const) {
      if (built[member] !== expected[member]) {
        fail(
          `create({ rho: ${rho}, scaling: '${scaling}' }) gave a rule with ${member} ${show(built[member])}; ` +
            `expected ${show(expected[member])}`,
        );
      }
    }
  }
}

/**
 * Checks a descriptor (see assertRuleDescriptor) and returns it: what a rule package exports as
 * `ruleDescriptor`, so that a broken descriptor fails where it is written, not in a tool.
 */
export function defineRule<const Descriptor extends RuleDescriptor>(descriptor: Descriptor): Descriptor {
  assertRuleDescriptor(descriptor, `defineRule(${show((descriptor as { name?: unknown } | null)?.name)})`);
  return descriptor;
}
