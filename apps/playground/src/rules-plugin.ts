import { loadRules } from '@mup2/model-zoo';
import type { Plugin } from 'vite';

/** The module the page and its worker import the rule descriptors from. */
export const RULES_MODULE = 'virtual:mup2-rules';
const RESOLVED = `\0${RULES_MODULE}`;

/**
 * A page has no file system to look for rule packages in, so this plugin looks on the server's
 * behalf, as the zoo and the bench do (installed packages with the keyword mup2-rule), and serves
 * a module that imports each one's `ruleDescriptor`: a new rule package shows up on the page after
 * `pnpm install && pnpm build`, with no list of rules in the playground.
 */
export function rulesPlugin(): Plugin {
  return {
    name: 'mup2-rules',
    resolveId: (id) => (id === RULES_MODULE ? RESOLVED : undefined),
    async load(id) {
      if (id !== RESOLVED) return undefined;
      const { rules } = await loadRules();
      const imports = rules.map(
        (rule, index) => `import { ruleDescriptor as rule${index} } from ${JSON.stringify(rule.file)};`,
      );
      return `${imports.join('\n')}\nexport const ruleDescriptors = [${rules.map((_, index) => `rule${index}`).join(', ')}];\n`;
    },
  };
}
