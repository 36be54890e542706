import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { REPO_ROOT } from './packed-project.js';

export interface CodeBlock {
  /** The fence's language ('js', 'sh', …; '' when none). */
  readonly language: string;
  readonly code: string;
  /** 1-based line of the opening fence in the guide. */
  readonly line: number;
}

/** Every fenced code block of docs/<guide>, in order. */
export function codeBlocks(guide: string): CodeBlock[] {
  const lines = readFileSync(join(REPO_ROOT, 'docs', guide), 'utf8').split('\n');
  const blocks: CodeBlock[] = [];
  let open: { language: string; line: number; body: string[] } | undefined;
  lines.forEach((text, index) => {
    const fence = /^```(\S*)\s*$/.exec(text);
    if (open === undefined) {
      if (fence) open = { language: fence[1] ?? '', line: index + 1, body: [] };
    } else if (fence && fence[1] === '') {
      blocks.push({ language: open.language, code: `${open.body.join('\n')}\n`, line: open.line });
      open = undefined;
    } else {
      open.body.push(text);
    }
  });
  if (open !== undefined) throw new Error(`docs/${guide}: the code block at line ${open.line} is never closed`);
  return blocks;
}

/** The packages a shell block installs with `npm i` / `npm install` (flags left out). */
export function installedPackages(block: CodeBlock): string[] {
  return block.code
    .split('\n')
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter((line) => /^npm (i|install) /.test(line))
    .flatMap((line) => line.split(/\s+/).slice(2))
    .filter((word) => !word.startsWith('-'));
}

/** The bare package names a module imports (node: built-ins left out), e.g. '@tensorflow/tfjs' for '@tensorflow/tfjs/dist/x'. */
export function importedPackages(code: string): string[] {
  const specifiers = [...code.matchAll(/^\s*import\s+(?:[^'"]*?\s+from\s+)?['"]([^'"]+)['"]/gm)].map(
    (match) => match[1] as string,
  );
  return [
    ...new Set(
      specifiers
        .filter((specifier) => !specifier.startsWith('node:') && !builtinModules.includes(specifier))
        .map((specifier) =>
          specifier
            .split('/')
            .slice(0, specifier.startsWith('@') ? 2 : 1)
            .join('/'),
        ),
    ),
  ];
}
