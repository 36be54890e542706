import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { initBackend } from './backend-node.js';
import { BackendError } from './errors.js';

// The setup file chose a backend (wasm, or MUP2_BACKEND); each test switches to the other of
// cpu and wasm, so that a no-op initBackend cannot pass, and puts everything back afterwards.
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

describe('initBackend', () => {
  it('uses an explicitly requested backend and says so through `log`', async () => {
    const messages: string[] = [];
    const chosen = await initBackend({ backend: other, log: (message) => messages.push(message) });
    expect(chosen).toBe(other);
    expect(tf.getBackend()).toBe(other);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain(other);
    expect(messages[0]).toContain('requested');
  });

  it('respects MUP2_BACKEND when no backend is passed', async () => {
    process.env.MUP2_BACKEND = other;
    const chosen = await initBackend({ log: () => {} });
    expect(chosen).toBe(other);
    expect(tf.getBackend()).toBe(other);
  });

  it('prefers the backend option over MUP2_BACKEND', async () => {
    process.env.MUP2_BACKEND = 'no-such-backend';
    expect(await initBackend({ backend: other, log: () => {} })).toBe(other);
  });

  it('rejects an unknown backend with a BackendError naming it and listing the known ones', async () => {
    const call = () => initBackend({ backend: 'quantum', log: () => {} });
    await expect(call()).rejects.toThrowError(BackendError);
    await expect(call()).rejects.toThrowError(/'quantum'.*tensorflow, wasm, cpu/);
    expect(tf.getBackend()).toBe(original);
  });

  it('rejects an unknown MUP2_BACKEND the same way', async () => {
    process.env.MUP2_BACKEND = 'quantum-env';
    await expect(initBackend({ log: () => {} })).rejects.toThrowError(/'quantum-env'/);
  });

  it('without a request picks a working backend and logs it', async () => {
    delete process.env.MUP2_BACKEND;
    const messages: string[] = [];
    const chosen = await initBackend({ log: (message) => messages.push(message) });
    // No tfjs-node in this workspace, and wasm ships with it: the order of DESIGN §3 gives wasm.
    expect(chosen).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(messages.join('\n')).toMatch(/backend: wasm/);
  });
});
