import { describe, expect, it } from 'vitest';
import { RuleSpecificationError } from './errors.js';
import type { PerturbationRule, PerturbationScaling } from './perturbation-rule.js';
import { assertRuleDescriptor, defineRule, type RuleDescriptor } from './rule-descriptor.js';

/** A SAM-like rule written here, so that core's tests need no rule package. */
function plainRule(name: string, rho: number, scaling: PerturbationScaling): PerturbationRule {
  return {
    specificationVersion: 'v1',
    name,
    radius: rho,
    scaling,
    selects: () => true,
    layerScale: () => ({ perturbation: 1, norm: 1 }),
    direction: ({ gradient }) => ({ direction: gradient, normTerm: gradient }),
  };
}

const good: RuleDescriptor = {
  specificationVersion: 'v1',
  name: 'plain-sam',
  label: 'Plain SAM',
  description: 'SAM without a width scaling, for these tests',
  create: ({ rho, scaling }) => plainRule('plain-sam', rho, scaling),
  defaults: { rho: 0.05 },
  options: { eta: { description: 'an offset', default: 0.01 } },
};

const brokenBy = (change: Record<string, unknown>) => ({ ...good, ...change });

describe('assertRuleDescriptor', () => {
  it('accepts a complete descriptor, and defineRule returns it', () => {
    expect(() => assertRuleDescriptor(good, 'test')).not.toThrow();
    expect(defineRule(good)).toBe(good);
  });

  it('refuses another specificationVersion, naming the one it reads', () => {
    const check = () => assertRuleDescriptor(brokenBy({ specificationVersion: 'v2' }), '@someone/rule');
    expect(check).toThrowError(RuleSpecificationError);
    expect(check).toThrowError(/from @someone\/rule: specificationVersion is "v2"; this @mup2\/core reads 'v1'/);
  });

  const cases: Array<[string, Record<string, unknown> | null, RegExp]> = [
    ['not an object', null, /expected an object .* got null/],
    ['a name that is not kebab-case', { name: 'Plain_SAM' }, /name 'Plain_SAM' is not a kebab-case name/],
    ['the reserved name sgd', { name: 'sgd' }, /name 'sgd' is reserved/],
    ['no label', { label: undefined }, /needs a one-line label string, got undefined/],
    ['a description of two lines', { description: 'one\ntwo' }, /needs a one-line description string/],
    ['no create function', { create: 'sam' }, /has no create function \(got string\)/],
    ['a negative default radius', { defaults: { rho: -1 } }, /defaults\.rho, a finite number >= 0, got -1/],
    ['no defaults', { defaults: undefined }, /defaults\.rho, a finite number >= 0, got undefined/],
    ['an option named rho', { options: { rho: { description: 'x', default: 1 } } }, /declares option 'rho'/],
    [
      'an option without a default',
      { options: { eta: { description: 'x' } } },
      /option 'eta' .* finite number default/,
    ],
    [
      'a factory whose rules carry another name',
      { create: ({ rho, scaling }: { rho: number; scaling: PerturbationScaling }) => plainRule('sam', rho, scaling) },
      /gave a rule with name 'sam'; expected 'plain-sam'/,
    ],
    [
      'a factory that ignores the scaling',
      { create: ({ rho }: { rho: number }) => plainRule('plain-sam', rho, 'naive') },
      /scaling: 'global' .* gave a rule with scaling 'naive'; expected 'global'/,
    ],
    [
      'a factory that returns no rule',
      { create: () => ({ name: 'plain-sam' }) },
      /create\(\{ rho: 0\.05, scaling: 'naive' \}\) of 'plain-sam' failed: PerturbationRule 'plain-sam' has specificationVersion undefined/,
    ],
  ];
  for (const [what, change, message] of cases) {
    it(`refuses ${what}, saying what is wrong`, () => {
      const descriptor = change === null ? null : brokenBy(change);
      expect(() => assertRuleDescriptor(descriptor, 'test')).toThrowError(RuleSpecificationError);
      expect(() => assertRuleDescriptor(descriptor, 'test')).toThrowError(message);
    });
  }

  it('defineRule fails where the descriptor is written', () => {
    expect(() => defineRule(brokenBy({ defaults: { rho: Number.NaN } }) as RuleDescriptor)).toThrowError(
      /rule descriptor from defineRule\('plain-sam'\): 'plain-sam' needs defaults\.rho/,
    );
  });
});
