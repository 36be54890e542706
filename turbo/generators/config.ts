import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PlopTypes } from '@turbo/gen';

/** npm-safe, and the camelCase factory and PascalCase options type made from it are valid identifiers. */
const RULE_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

interface Answers {
  readonly name: string;
  readonly turbo: { readonly paths: { readonly root: string } };
}

/** A line of vitest.config.ts that names a package folder's tests: `project('packages/x'),` or `'packages/x',` (a list of roots). */
const PROJECT_LINE = /^\s*(project\()?'packages\/[^']+'\)?,\s*$/;

/**
 * Adds the new package to the projects of the root vitest.config.ts, in the form of the last line
 * there that names a package folder, so its tests run with the others (on every backend the config
 * runs, with the setup file that picks the TF.js backend).
 */
function registerVitestProject(answers: object): string {
  const { name, turbo } = answers as Answers;
  const configPath = join(turbo.paths.root, 'vitest.config.ts');
  const source = readFileSync(configPath, 'utf8');
  if (source.includes(`'packages/${name}'`)) return `vitest.config.ts already runs packages/${name}`;
  const lines = source.split('\n');
  let last = lines.length - 1;
  while (last >= 0 && !PROJECT_LINE.test(lines[last] as string)) last -= 1;
  if (last === -1) {
    throw new Error(`no 'packages/...' project in ${configPath}; add packages/${name} to its projects by hand`);
  }
  lines.splice(last + 1, 0, (lines[last] as string).replace(/'packages\/[^']+'/, `'packages/${name}'`));
  writeFileSync(configPath, lines.join('\n'));
  return `vitest.config.ts now runs packages/${name}`;
}

/** Formats the new package with the repository's formatter, so its line breaks suit any name length. */
function formatPackage(answers: object): string {
  const { name, turbo } = answers as Answers;
  const biome = join(turbo.paths.root, 'node_modules', '.bin', 'biome');
  if (!existsSync(biome)) return `biome is not installed: run pnpm lint --write on packages/${name}`;
  execFileSync(biome, ['format', '--write', join('packages', name)], { cwd: turbo.paths.root, stdio: 'pipe' });
  return `formatted packages/${name}`;
}

/** The generator of a rule package whose rule implements PerturbationRule `version`. */
function ruleGenerator(plop: PlopTypes.NodePlopAPI, version: 'v1' | 'v2'): PlopTypes.PlopGeneratorConfig {
  return {
    description:
      version === 'v1'
        ? 'A perturbation rule package: packages/<name> with a SAM-like rule to edit, its tests and the conformance suite'
        : 'A perturbation rule package with interface v2: a rule with state across steps (and a descent of its own to add), its tests and the conformance suite',
    prompts: [
      {
        type: 'input',
        name: 'name',
        message: 'Rule name, kebab-case (the package becomes @mup2/<name>, e.g. "fisher-sam"):',
        validate: (input: string) => {
          if (!RULE_NAME.test(input)) {
            return `"${input}" is not a kebab-case name (lowercase letters and digits, words joined by "-", starting with a letter)`;
          }
          if (input === 'core' || existsSync(join(plop.getDestBasePath(), 'packages', input))) {
            return `packages/${input} already exists; pick another name`;
          }
          return true;
        },
      },
    ],
    actions: [
      ...[
        ['package.json', 'package.json'],
        ['tsconfig.json', 'tsconfig.json'],
        ['tsup.config.ts', 'tsup.config.ts'],
        ['README.md', 'README.md'],
        ['src/index.ts', 'src/index.ts'],
        ['src/{{name}}.ts', version === 'v2' ? 'src/rule-v2.ts' : 'src/rule.ts'],
        ['src/rule-descriptor.ts', 'src/rule-descriptor.ts'],
        ['src/{{name}}.test.ts', version === 'v2' ? 'src/rule-v2.test.ts' : 'src/rule.test.ts'],
        ['src/conformance.test.ts', 'src/conformance.test.ts'],
        ['src/{{name}}.scaling.test.ts', 'src/scaling.test.ts'],
      ].map(
        ([target, template]): PlopTypes.ActionType => ({
          type: 'add',
          path: `{{ turbo.paths.root }}/packages/{{ name }}/${target}`,
          templateFile: `templates/${template}.hbs`,
          abortOnFail: true,
        }),
      ),
      {
        type: 'add',
        path: '{{ turbo.paths.root }}/.changeset/{{ name }}-first-release.md',
        templateFile: 'templates/changeset.md.hbs',
        abortOnFail: true,
      },
      registerVitestProject,
      formatPackage,
      (answers) => {
        const { name } = answers as Answers;
        return (
          `next: pnpm install && pnpm build; then pnpm exec vitest run --project ${name}, ` +
          `pnpm zoo train --rule ${name}, pnpm bench sweep --rules ${name}; make the rule yours: docs/adding-a-rule.md`
        );
      },
    ],
  };
}

export default function generator(plop: PlopTypes.NodePlopAPI): void {
  plop.setGenerator('rule', ruleGenerator(plop, 'v1'));
  // A separate generator, not a second prompt: `--args <name>` must keep answering every prompt of `rule`.
  plop.setGenerator('rule-v2', ruleGenerator(plop, 'v2'));
}
