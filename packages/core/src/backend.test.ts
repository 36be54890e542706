import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { initBackend } from './backend.js';
import { BackendError } from './errors.js';

// The initBackend bundlers get (browsers; DESIGN.md §3), run here in Node, where only wasm (the
// setup file's) and cpu are registered: webgpu and webgl register themselves in browsers only.
// Chromium runs it for real in apps/e2e. Each test puts the setup file's backend back.
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
