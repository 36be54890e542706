// Test helper: a throwaway redis-server on 127.0.0.1, nothing saved to disk.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisTestServer {
  readonly port: number;
  /** redis://127.0.0.1:PORT (no queue name). */
  readonly url: string;
  stop(): Promise<void>;
}

/** A port that was free a moment ago (the server may lose a race for it; startRedisServer then tries another). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject()));
    });
  });
}

function waitUntilReady(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk;
      if (output.includes('Ready to accept connections')) {
        child.stdout?.off('data', onData);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'ENOENT'
          ? new Error('redis-server is not installed (Debian: apt-get install redis-server); the queue tests need it.')
          : error,
      ),
    );
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code}) before it was ready:\n${output}`)));
  });
}

/**
 * Starts `redis-server` on 127.0.0.1 and a free port, in a temporary folder,
 * without persistence. Stop it in afterAll.
 */
export async function startRedisServer(): Promise<RedisTestServer> {
  const dir = await mkdtemp(join(tmpdir(), 'mup2-redis-'));
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      await waitUntilReady(child);
    } catch (error) {
      lastError = error;
      child.kill('SIGKILL');
      if ((error as Error).message.includes('not installed')) break;
      continue;
    }
    const exited = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
    child.stdout?.resume();
    child.stderr?.resume();
    return {
      port,
      url: `redis://127.0.0.1:${port}`,
      stop: async () => {
        child.kill('SIGKILL');
        await exited;
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
  await rm(dir, { recursive: true, force: true });
  throw lastError;
}
