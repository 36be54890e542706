import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { version_core } from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { DuplicateTfjsError } from './errors.js';
import { assertSingleTfjsCore, findTfjsCoreCopies } from './tfjs-core-copies.js';

const backendModule = new URL('./backend-node.ts', import.meta.url).href;

describe('the copies of @tensorflow/tfjs-core Node resolves', () => {
  it('in this workspace: one, the one @mup2/core imports, shared by every @tensorflow package', () => {
    const copies = findTfjsCoreCopies(backendModule, process.cwd());
    expect(copies).toHaveLength(1);
    expect(copies[0]?.version).toBe(version_core);
    expect(copies[0]?.usedBy).toEqual(expect.arrayContaining(['@mup2/core', '@tensorflow/tfjs']));
    expect(() => assertSingleTfjsCore(backendModule, process.cwd(), 'initBackend')).not.toThrow();
  });

  describe('in a project where npm installed @tensorflow/tfjs 4.21 beside @mup2/core (tfjs-core ^4.22)', () => {
    let project = '';
    afterEach(() => rmSync(project, { recursive: true, force: true }));

    /** The layout `npm i @mup2/core @tensorflow/tfjs@4.21.0` makes: 4.21 hoisted, 4.22 nested under @mup2/core. */
    function makeProject(): string {
      project = mkdtempSync(join(tmpdir(), 'mup2-copies-'));
      const write = (path: string, manifest: object) => {
        mkdirSync(dirname(join(project, path)), { recursive: true });
        writeFileSync(join(project, path), JSON.stringify(manifest));
      };
      write('package.json', { name: 'app', dependencies: { '@tensorflow/tfjs': '4.21.0', '@mup2/core': '^0.1.0' } });
      write('node_modules/@tensorflow/tfjs/package.json', { name: '@tensorflow/tfjs', version: '4.21.0' });
      write('node_modules/@tensorflow/tfjs-layers/package.json', {
        name: '@tensorflow/tfjs-layers',
        version: '4.21.0',
      });
      write('node_modules/@tensorflow/tfjs-core/package.json', { name: '@tensorflow/tfjs-core', version: '4.21.0' });
      write('node_modules/@mup2/core/package.json', { name: '@mup2/core', version: '0.1.0' });
      write('node_modules/@mup2/core/node_modules/@tensorflow/tfjs-core/package.json', {
        name: '@tensorflow/tfjs-core',
        version: '4.22.0',
      });
      writeFileSync(join(project, 'node_modules/@mup2/core/index.node.js'), '');
      return pathToFileURL(join(project, 'node_modules/@mup2/core/index.node.js')).href;
    }

    it('finds both, with who uses each', () => {
      const ourModule = makeProject();
      const copies = findTfjsCoreCopies(ourModule, project);
      expect(copies.map(({ version, usedBy }) => [version, [...usedBy].sort()])).toEqual([
        ['4.22.0', ['@mup2/core']],
        ['4.21.0', ['@tensorflow/tfjs', '@tensorflow/tfjs-layers', 'your project']],
      ]);
    });

    it('is refused with a DuplicateTfjsError naming both copies and the fix', () => {
      const ourModule = makeProject();
      const call = () => assertSingleTfjsCore(ourModule, project, 'initBackend');
      expect(call).toThrowError(DuplicateTfjsError);
      expect(call).toThrowError(/2 copies of @tensorflow\/tfjs-core/);
      expect(call).toThrowError(/4\.22\.0 at .*\(used by @mup2\/core\); 4\.21\.0 at .*\(used by your project, /);
      expect(call).toThrowError('npm i @tensorflow/tfjs@4.22.0');
    });
  });
});
