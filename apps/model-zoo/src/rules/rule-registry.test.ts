import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { InvalidOptionError, RuleSpecificationError } from '@mup2/core';
import { afterAll, describe, expect, it } from 'vitest';
import { findRulePackages } from './find-rule-packages.js';
import { loadRules } from './load-rules.js';
import { loadRuleModule } from './rule-module.js';
import { loadRulePackage } from './rule-package.js';
import { RulePackageError } from './rule-package-error.js';

/**
 * A rule module's source that needs no @mup2/core (the folders below are outside this workspace):
 * the descriptor and its SAM-like rule as plain objects.
 */
function ruleModuleSource(name: string, version = 'v1'): string {
  return `
const rule = (rho, scaling) => ({
  specificationVersion: 'v1', name: ${JSON.stringify(name)}, radius: rho, scaling,
  selects: () => true, layerScale: () => ({ perturbation: 1, norm: 1 }),
  direction: ({ gradient }) => ({ direction: gradient, normTerm: gradient }),
});
export const ruleDescriptor = {
  specificationVersion: ${JSON.stringify(version)}, name: ${JSON.stringify(name)}, label: ${JSON.stringify(name.toUpperCase())},
  description: 'a test rule', defaults: { rho: 0.2 }, create: ({ rho, scaling }) => rule(rho, scaling),
};
`;
}

const root = mkdtempSync(join(tmpdir(), 'mup2-rule-fixtures-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function write(path: string, content: string | object): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), typeof content === 'string' ? content : JSON.stringify(content));
}

const manifest = (name: string, keywords: string[] = ['mup2-rule'], extra: object = {}) => ({
  name,
  version: '1.0.0',
  type: 'module',
  keywords,
  exports: { '.': { import: './dist/index.js' } },
  ...extra,
});

// A pnpm workspace: a built rule, one not built, one with a descriptor of another version, a package
// that is no rule, and a rule installed from a registry as a dependency of the root.
write('workspace/pnpm-workspace.yaml', 'packages:\n  - packages/*\n');
write('workspace/package.json', {
  name: 'fixture-root',
  version: '0.0.0',
  private: true,
  dependencies: { 'ext-rule': '1.0.0' },
});
write('workspace/packages/good-rule/package.json', manifest('@fixture/good-rule'));
write('workspace/packages/good-rule/dist/index.js', ruleModuleSource('good-rule'));
write('workspace/packages/unbuilt-rule/package.json', manifest('@fixture/unbuilt-rule'));
write('workspace/packages/future-rule/package.json', manifest('@fixture/future-rule'));
write('workspace/packages/future-rule/dist/index.js', ruleModuleSource('future-rule', 'v9'));
write('workspace/packages/not-a-rule/package.json', manifest('@fixture/not-a-rule', ['tensorflow']));
write('workspace/node_modules/ext-rule/package.json', manifest('ext-rule', ['mup2-rule'], { exports: './main.js' }));
write('workspace/node_modules/ext-rule/main.js', ruleModuleSource('ext-rule'));
// Outside any workspace: a lone module file, and one that exports no descriptor.
write('elsewhere/my-rule.js', ruleModuleSource('my-rule'));
write('elsewhere/empty.js', 'export const something = 1;\n');

const workspace = join(root, 'workspace');

describe('findRulePackages', () => {
  it('finds the workspace packages and the installed dependencies that carry the mup2-rule keyword, importing nothing', async () => {
    const found = await findRulePackages(join(workspace, 'packages', 'good-rule'));
    expect(found.map(({ name, from }) => `${name} (${from})`).sort()).toEqual([
      '@fixture/future-rule (workspace)',
      '@fixture/good-rule (workspace)',
      '@fixture/unbuilt-rule (workspace)',
      'ext-rule (dependency)',
    ]);
  });

  it('finds sam, asam and sam-on in this repository without a list of them anywhere', async () => {
    const found = await findRulePackages(import.meta.dirname);
    expect(found.map(({ name }) => name)).toEqual(expect.arrayContaining(['@mup2/sam', '@mup2/asam', '@mup2/sam-on']));
    expect(found.map(({ name }) => name)).not.toContain('@mup2/core');
  });
});

describe('loadRulePackage', () => {
  it('imports a built package and checks its descriptor', async () => {
    const loaded = await loadRulePackage(join(workspace, 'packages', 'good-rule'));
    expect(loaded.descriptor.name).toBe('good-rule');
    expect(loaded.source).toBe('@fixture/good-rule');
    expect(loaded.descriptor.create({ rho: 0.1, scaling: 'mup2' }).radius).toBe(0.1);
  });

  it('says a package is not built, naming the entry and the build command', async () => {
    const error = await loadRulePackage(join(workspace, 'packages', 'unbuilt-rule')).catch((caught: unknown) => caught);
    expect(RulePackageError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(
      /@fixture\/unbuilt-rule .* is not built: its entry .*dist\/index\.js does not exist/,
    );
  });

  it('refuses a descriptor of another version with core’s check, naming the package', async () => {
    const error = await loadRulePackage(join(workspace, 'packages', 'future-rule')).catch((caught: unknown) => caught);
    expect(RuleSpecificationError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(
      /from @fixture\/future-rule: specificationVersion is "v9"; this @mup2\/core reads 'v1'/,
    );
  });
});

describe('loadRuleModule (--rule-module)', () => {
  const options = { cwd: join(root, 'elsewhere'), workspaceDir: join(workspace, 'packages', 'good-rule') };

  it('loads a module file by relative or absolute path, a package folder, and a package by name', async () => {
    expect((await loadRuleModule('./my-rule.js', options)).descriptor.name).toBe('my-rule');
    expect((await loadRuleModule(join(root, 'elsewhere', 'my-rule.js'), options)).descriptor.name).toBe('my-rule');
    expect((await loadRuleModule(join(workspace, 'packages', 'good-rule'), options)).descriptor.name).toBe('good-rule');
    expect((await loadRuleModule('ext-rule', options)).source).toBe('ext-rule');
    expect((await loadRuleModule('@fixture/good-rule', options)).descriptor.name).toBe('good-rule');
  });

  it('names a module without a ruleDescriptor export, a missing path and an unknown package', async () => {
    const messages = await Promise.all(
      ['./empty.js', './missing.js', 'no-such-rule-package'].map((spec) =>
        loadRuleModule(spec, options).then(
          () => 'loaded',
          (error: Error) => `${error.name}: ${error.message}`,
        ),
      ),
    );
    expect(messages[0]).toMatch(
      /^RulePackageError: rule .*empty\.js: .* has no 'ruleDescriptor' export \(it exports something\)/,
    );
    expect(messages[1]).toMatch(/^RulePackageError: rule module \.\/missing\.js: .*missing\.js does not exist/);
    expect(messages[2]).toMatch(
      /^RulePackageError: rule module no-such-rule-package: no package of that name is installed/,
    );
  });
});

describe('loadRules', () => {
  it('holds the installed rules with their descriptions, and builds them with their options', async () => {
    const rules = await loadRules();
    expect(rules.names).toEqual(expect.arrayContaining(['asam', 'sam', 'sam-on']));
    expect(rules.problems).toEqual([]);
    expect(rules.descriptor('sam-on').defaults.rho).toBe(0.5);
    const asam = rules.create('asam', { rho: 0.5, scaling: 'naive', ruleOptions: { eta: 0.2 } });
    expect([asam.name, asam.radius, asam.scaling]).toEqual(['asam', 0.5, 'naive']);
    expect(() => rules.create('asam', { rho: 0.5, scaling: 'naive', ruleOptions: { tau: 1 } })).toThrowError(
      "rule 'asam' has no option 'tau'; its options are eta, normalizeBias.",
    );
    expect(() => rules.descriptor('adam')).toThrowError(InvalidOptionError);
    expect(() => rules.descriptor('adam')).toThrowError(/unknown rule "adam"; the installed rules are sgd, .*sam-on/);
    const help = rules.helpText();
    expect(help).toMatch(/^ {2}sgd +no perturbation/);
    expect(help).toContain('[@mup2/sam-on; default rho 0.5]');
    expect(help).toContain('option eta (default 0.01)');
  });

  it('adds the rules of --rule-module specs to the installed ones', async () => {
    const rules = await loadRules({ modules: ['./my-rule.js'], cwd: join(root, 'elsewhere') });
    expect(rules.names).toEqual(expect.arrayContaining(['my-rule', 'sam']));
    expect(rules.create('my-rule', { rho: 0.3, scaling: 'mup2' }).name).toBe('my-rule');
  });
});
