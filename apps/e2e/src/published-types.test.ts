import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './packed-project.js';

// What a user's editor shows on hover comes from the packages' built .d.ts files (the ones the
// tarballs ship): every public function, class and class member has a doc comment, and none
// points to a file the user does not have.

const PACKAGES = ['core', 'sam', 'asam', 'sam-on', 'gsam', 'friendly-sam', 'looksam'];

function declarationFiles(name: string): Array<{ file: string; text: string }> {
  const dist = join(REPO_ROOT, 'packages', name, 'dist');
  return readdirSync(dist)
    .filter((file) => file.endsWith('.d.ts'))
    .map((file) => ({ file: `packages/${name}/dist/${file}`, text: readFileSync(join(dist, file), 'utf8') }));
}

/** `Class.member` or `function name` for each public function, class and class member without a doc comment. */
function undocumented(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const documented = (node: ts.Node) => ts.getJSDocCommentsAndTags(node).length > 0;
  const missing: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isFunctionDeclaration(node) && node.name && !documented(node)) missing.push(`function ${node.name.text}`);
    if (ts.isClassDeclaration(node) && node.name) {
      if (!documented(node)) missing.push(`class ${node.name.text}`);
      for (const member of node.members) {
        const hidden = ts.getCombinedModifierFlags(member) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected);
        if (hidden || member.name === undefined || ts.isPrivateIdentifier(member.name)) continue;
        if (!documented(member)) missing.push(`${node.name.text}.${member.name.getText(source)}`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return missing;
}

describe('the published type declarations (hovers)', () => {
  for (const name of PACKAGES) {
    it(`@mup2/${name}: every public function, class and member has a doc comment, and none cites DESIGN.md`, () => {
      const files = declarationFiles(name);
      expect(files.length, `packages/${name}/dist has .d.ts files (pnpm build)`).toBeGreaterThan(0);
      for (const { file, text } of files) {
        expect(text, `${file} cites a file users do not have`).not.toMatch(/DESIGN\.md/);
        expect(undocumented(file, text), file).toEqual([]);
      }
    });
  }
});
