import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { REPOSITORY_ROOT } from './tfjs-node-package.js';

// libtensorflow 2.21 under tfjs-node 4.22 has one wrong kernel that matters to numeric code:
// Round on int32 returns zeros (float32 Round is right). DESIGN.md §3.

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name === 'node_modules' || entry.name === 'dist') return [];
    const path = join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(path) : entry.name.endsWith('.ts') ? [path] : [];
  });
}

describe('int32 tf.round', () => {
  it('is called nowhere in our sources (on tensorflow it would return zeros)', () => {
    const roots = ['packages', 'apps'].flatMap((folder) =>
      readdirSync(join(REPOSITORY_ROOT, folder)).map((name) => join(REPOSITORY_ROOT, folder, name, 'src')),
    );
    const callers = roots
      .flatMap((root) => {
        try {
          return sourceFiles(root);
        } catch {
          return [];
        }
      })
      .filter((file) => !file.endsWith('tensorflow-kernels.test.ts'))
      .filter((file) => {
        const text = readFileSync(file, 'utf8');
        return /\btf\.round\s*\(/.test(text) || /import\s*\{[^}]*\bround\b[^}]*\}\s*from\s*'@tensorflow\//.test(text);
      })
      .map((file) => relative(REPOSITORY_ROOT, file));
    expect(callers).toEqual([]);
  });

  it(`rounds float32 half to even on ${tf.getBackend()}, as TensorFlow does`, () => {
    const rounded = tf.tidy(() => tf.round(tf.tensor1d([1.4, 2.6, -3.5, 0.5, 2.5])).arraySync());
    expect(rounded).toEqual([1, 3, -4, 0, 2]);
  });

  it(
    tf.getBackend() === 'tensorflow'
      ? 'returns zeros for int32 on tensorflow (the libtensorflow 2.21 kernel; fails once a fixed one ships)'
      : `returns int32 input unchanged on ${tf.getBackend()}`,
    () => {
      const values = [1, 2, -3, 7];
      const rounded = tf.tidy(() => tf.round(tf.tensor1d(values, 'int32')).arraySync());
      expect(rounded).toEqual(tf.getBackend() === 'tensorflow' ? [0, 0, 0, 0] : values);
    },
  );
});
