import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { codeBlocks } from './docs-code-blocks.js';

// docs/browser.md's snippets are for a bundler, so they run where a bundler runs them: the page of
// fixtures/packed-page, which Vite builds from the packed tarballs and packed-packages.test.ts loads in
// Chromium on webgl, wasm and cpu. This keeps the guide's wasm-files setup that page's own code.

const page = readFileSync(new URL('./fixtures/packed-page/main.ts', import.meta.url), 'utf8');
const lines = (code: string) =>
  code
    .split('\n')
    .map((line) => line.replace(/\s+\/\/.*$/, '').trim())
    .filter((line) => line !== '');

describe('docs/browser.md', () => {
  it('its wasm-files block is, line for line, code of the page the e2e test runs in Chromium', () => {
    const block = codeBlocks('browser.md').find((candidate) => candidate.code.includes('setWasmPaths('));
    expect(block, 'browser.md has the setWasmPaths block').toBeDefined();
    const pageLines = new Set(lines(page));
    for (const line of lines(block?.code ?? '')) expect(pageLines, `browser.md line: ${line}`).toContain(line);
  });
});
