import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const GUIDE = fileURLToPath(new URL('../../../docs/coordinate-check.md', import.meta.url));

/** The code block after `<!-- snippet: name -->` in the guide. */
function snippet(name: string): string {
  const text = readFileSync(GUIDE, 'utf8');
  const found = new RegExp(`<!-- snippet: ${name} -->\\n\`\`\`js\\n([\\s\\S]*?)\`\`\``).exec(text);
  if (!found?.[1]) throw new Error(`docs/coordinate-check.md has no js block after <!-- snippet: ${name} -->`);
  return found[1];
}

it("docs/coordinate-check.md: a user's tfjs-layers CNN gets per-layer slopes and an SVG chart, as written", async () => {
  // The script sits in the package folder so that its imports resolve as in a user's project (@mup2/coord
  // by its own name, the rest from the package's dependencies); it runs in its own Node process, on the
  // backend a plain `@tensorflow/tfjs` install gives Node (cpu), and writes into a temporary folder.
  const script = join(PACKAGE_DIR, `.docs-snippet-${process.pid}.mjs`);
  const workDir = mkdtempSync(join(tmpdir(), 'mup2-coord-snippet-'));
  writeFileSync(script, snippet('user-cnn'));
  try {
    const { stdout } = await promisify(execFile)('node', [script], { cwd: workDir, timeout: 180_000 });
    const table = stdout.slice(stdout.indexOf('| preset'));
    expect(table.split('\n')[0]).toBe(
      '| preset | conv2d1/kernel | conv2d1/bias | batchnormalization1/gamma | batchnormalization1/beta | ' +
        'conv2d2/kernel | conv2d2/bias | dense1/kernel | dense1/bias |',
    );
    expect(table).toMatch(/^\| mup-global \|( -?\d\.\d\d\*? \|){8}$/m);
    expect(table).toMatch(/^\| mup2 \|( -?\d\.\d\d\*? \|){8}$/m);
    const svg = readFileSync(join(workDir, 'coord.svg'), 'utf8');
    expect(svg).toMatch(/^<svg/);
    expect(svg).toContain('conv2d1/kernel');
  } finally {
    rmSync(script, { force: true });
    rmSync(workDir, { recursive: true, force: true });
  }
  expect(existsSync(script)).toBe(false);
}, 240_000);
