import { describe, expect, it } from 'vitest';
import { backendLine } from './backend-line.js';

describe('backendLine', () => {
  it('names tensorflow with its thread count', () => {
    expect(backendLine('tensorflow', undefined, { TF_NUM_INTRAOP_THREADS: '2' })).toBe(
      'Backend: tensorflow (native libtensorflow, 2 intra-op threads per process).',
    );
    expect(backendLine('tensorflow', undefined, { TF_NUM_INTRAOP_THREADS: '1' })).toContain('1 intra-op thread per');
  });

  it('says why on wasm when nobody asked for it: the native backend is missing, and how to build it', () => {
    const line = backendLine('wasm', undefined, {});
    expect(line).toMatch(/^Backend: wasm, because the native tensorflow backend is not installed here/);
    expect(line).toContain('pnpm native:install');
    expect(line).not.toContain('\n');
  });

  it('says only "requested" when --backend or MUP2_BACKEND chose it', () => {
    expect(backendLine('wasm', 'wasm', {})).toBe('Backend: wasm (requested).');
    expect(backendLine('wasm', undefined, { MUP2_BACKEND: 'wasm' })).toBe('Backend: wasm (requested).');
  });
});
