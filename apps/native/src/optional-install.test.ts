import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { failureReason, skippedLine, unsupportedPlatform } from './optional-install.js';
import { findBuildTools } from './prerequisites.js';

const CLI = fileURLToPath(new URL('./cli.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const MISSING_TOOLS = { MUP2_PYTHON: '/nonexistent/python3', CXX: '/nonexistent/g++' };

function missingToolsError(): unknown {
  const saved = { python: process.env.MUP2_PYTHON, cxx: process.env.CXX };
  Object.assign(process.env, MISSING_TOOLS);
  try {
    findBuildTools();
  } catch (error) {
    return error;
  } finally {
    for (const [key, value] of [
      ['MUP2_PYTHON', saved.python],
      ['CXX', saved.cxx],
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
  return undefined;
}

describe('native:install --if-possible', () => {
  it('knows the platforms the wheel serves: Linux x86-64 only, naming any other', () => {
    expect(unsupportedPlatform('linux', 'x64')).toBeUndefined();
    expect(unsupportedPlatform('darwin', 'arm64')).toContain('darwin-arm64');
    expect(unsupportedPlatform('linux', 'arm64')).toContain('linux-arm64');
    expect(unsupportedPlatform('win32', 'x64')).toContain('win32-x64');
  });

  it('says what is missing in a few words, with the Debian packages, on one line', () => {
    const reason = failureReason(missingToolsError());
    expect(reason).toMatch(/^missing Python ≥ 3\.9, a C\+\+ compiler \(Debian: apt-get install /);
    expect(reason).toContain('g++');
    expect(reason).toContain('python3-pip');
    const line = skippedLine(reason);
    expect(line).not.toContain('\n');
    expect(line).toContain('runs on wasm');
  });

  it('exits 0 with one line saying why when it cannot build, and changes nothing', async () => {
    // --force skips the check that the backend already works here, so the missing tools are met.
    // Rejects (failing the test, with the output) unless the command exits 0. Not spawnSync: a test
    // worker's event loop held for long fails vitest's own RPC.
    const result = await promisify(execFile)(process.execPath, ['--import', TSX, CLI, '--if-possible', '--force'], {
      encoding: 'utf8',
      env: { ...process.env, ...MISSING_TOOLS },
    });
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^native:install: cannot build the native tensorflow backend here: missing Python/);
    expect(lines[0]).toContain('runs on wasm');
    expect(result.stderr.trim()).toBe('');
  });
});
