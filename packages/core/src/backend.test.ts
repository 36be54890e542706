import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { initBackend } from './backend.js';
import { initBackend as initBackendInNode } from './backend-node.js';
import { BackendError } from './errors.js';
import { WASM_GRADIENT_KERNELS } from './wasm-gradient-kernels.js';

// The setup file chose a backend (wasm, or MUP2_BACKEND); each test switches to the other of
// cpu and wasm, so that a no-op initBackend cannot pass, and puts everything back afterwards.
// Both initBackends run here: Node's (the `node` export condition) and the one bundlers get,
// which in Node sees only the backends registered here (wasm, cpu): webgpu and webgl register
// themselves in browsers only. apps/e2e runs the latter in Chromium.
let original: string;
let originalEnvironment: string | undefined;
let other: string;

beforeEach(() => {
  original = tf.getBackend();
  originalEnvironment = process.env.MUP2_BACKEND;
  other = original === 'cpu' ? 'wasm' : 'cpu';
});

afterEach(async () => {
  if (originalEnvironment === undefined) delete process.env.MUP2_BACKEND;
  else process.env.MUP2_BACKEND = originalEnvironment;
  await tf.setBackend(original);
  await tf.ready();
  expect(tf.getBackend()).toBe(original);
});

describe('initBackend in Node', () => {
  it('uses an explicitly requested backend and says so through `log`', async () => {
    const messages: string[] = [];
    const chosen = await initBackendInNode({ backend: other, log: (message) => messages.push(message) });
    expect(chosen).toBe(other);
    expect(tf.getBackend()).toBe(other);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain(other);
    expect(messages[0]).toContain('requested');
  });

  it('respects MUP2_BACKEND when no backend is passed', async () => {
    process.env.MUP2_BACKEND = other;
    const chosen = await initBackendInNode({ log: () => {} });
    expect(chosen).toBe(other);
    expect(tf.getBackend()).toBe(other);
  });

  it('prefers the backend option over MUP2_BACKEND', async () => {
    process.env.MUP2_BACKEND = 'no-such-backend';
    expect(await initBackendInNode({ backend: other, log: () => {} })).toBe(other);
  });

  it('rejects an unknown backend with a BackendError naming it and listing the known ones', async () => {
    const call = () => initBackendInNode({ backend: 'quantum', log: () => {} });
    await expect(call()).rejects.toThrowError(BackendError);
    await expect(call()).rejects.toThrowError(/'quantum'.*tensorflow, wasm, cpu/);
    expect(tf.getBackend()).toBe(original);
  });

  it('rejects an unknown MUP2_BACKEND the same way', async () => {
    process.env.MUP2_BACKEND = 'quantum-env';
    await expect(initBackendInNode({ log: () => {} })).rejects.toThrowError(/'quantum-env'/);
  });

  it('without a request picks tensorflow when @tensorflow/tfjs-node loads (pnpm native:install), else wasm', async () => {
    delete process.env.MUP2_BACKEND;
    // Independently of initBackend: can this workspace load tfjs-node and its addon?
    const nativeLoads = await import('@tensorflow/tfjs-node').then(
      () => true,
      () => false,
    );
    const expected = nativeLoads ? 'tensorflow' : 'wasm';
    const messages: string[] = [];
    const chosen = await initBackendInNode({ log: (message) => messages.push(message) });
    expect(chosen).toBe(expected);
    expect(tf.getBackend()).toBe(expected);
    expect(messages.join('\n')).toMatch(new RegExp(`backend: ${expected}`));
  });
});

describe('initBackend outside Node', () => {
  it('uses a requested backend that is registered, and says so through `log`', async () => {
    const messages: string[] = [];
    expect(await initBackend({ backend: other, log: (message) => messages.push(message) })).toBe(other);
    expect(tf.getBackend()).toBe(other);
    expect(messages).toEqual([`[mup2] backend: ${other} (requested)`]);
  });

  it('rejects a requested backend that is not registered, naming the package to import, and changes nothing', async () => {
    expect(tf.findBackendFactory('webgpu')).toBeNull();
    const call = initBackend({ backend: 'webgpu', log: () => {} });
    await expect(call).rejects.toThrowError(BackendError);
    await expect(initBackend({ backend: 'webgpu', log: () => {} })).rejects.toThrowError(
      "backend 'webgpu' was requested but cannot be used: it is not registered; import " +
        '@tensorflow/tfjs-backend-webgpu before initBackend. Expected one of webgpu, webgl, wasm, cpu, ' +
        'registered by importing its package.',
    );
    expect(tf.getBackend()).toBe(original);
  });

  it('without a request takes the first registered one of webgpu, webgl, wasm, cpu, and ignores MUP2_BACKEND', async () => {
    await tf.setBackend('cpu');
    process.env.MUP2_BACKEND = 'cpu';
    const messages: string[] = [];
    expect(await initBackend({ log: (message) => messages.push(message) })).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(/^\[mup2\] backend: wasm \(unavailable: webgpu: it is not registered; .*webgl: /);
  });
});

describe('initBackend on wasm', () => {
  // The kernel registry is global: put back what was registered before the test.
  let saved: Array<tf.KernelConfig | undefined> = [];
  beforeEach(() => {
    saved = WASM_GRADIENT_KERNELS.map((name) => tf.getKernel(name, 'wasm'));
    for (const name of WASM_GRADIENT_KERNELS) if (tf.getKernel(name, 'wasm')) tf.unregisterKernel(name, 'wasm');
  });
  afterEach(() => {
    for (const name of WASM_GRADIENT_KERNELS) if (tf.getKernel(name, 'wasm')) tf.unregisterKernel(name, 'wasm');
    for (const config of saved) if (config !== undefined) tf.registerKernel(config);
  });

  for (const [entry, choose] of [
    ['Node', initBackendInNode],
    ['a browser', initBackend],
  ] as const) {
    it(`(${entry}) registers the convolution gradient kernels wasm lacks and names them in its one log line`, async () => {
      const messages: string[] = [];
      expect(await choose({ backend: 'wasm', log: (message) => messages.push(message) })).toBe('wasm');
      expect(messages).toEqual([
        `[mup2] backend: wasm (requested) + convolution gradients from @mup2/core (${WASM_GRADIENT_KERNELS.join(', ')})`,
      ]);
      for (const name of WASM_GRADIENT_KERNELS) expect(tf.getKernel(name, 'wasm')).toBeDefined();
      // A second call has nothing left to register and says only which backend won.
      await choose({ backend: 'wasm', log: (message) => messages.push(message) });
      expect(messages[1]).toBe('[mup2] backend: wasm (requested)');
    });
  }

  it('registers nothing with wasmGradientKernels: false', async () => {
    const messages: string[] = [];
    await initBackendInNode({ backend: 'wasm', wasmGradientKernels: false, log: (message) => messages.push(message) });
    expect(messages).toEqual(['[mup2] backend: wasm (requested)']);
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined();
  });
});
