import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import { median } from './median.js';

/**
 * A process that times step kinds on request (apps/bench/peers/peer_protocol.py; ours is
 * tfjs-peer.ts): after its warm-up it prints one JSON line describing itself with
 * `ready: true`, then answers each "round" line with one JSON line of milliseconds by
 * step kind.
 */
export interface PeerCommand {
  /** Row label, e.g. 'PyTorch, 2 threads'. */
  readonly label: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

export interface PeerTimes {
  readonly label: string;
  /** Why the peer could not be timed (it did not start); then nothing else is set. */
  readonly error?: string;
  /** What the peer said about itself (framework, version, threads, BLAS, backend…). */
  readonly description: Record<string, unknown>;
  /** Median milliseconds by step kind. */
  readonly milliseconds: Record<string, number>;
}

interface RunningPeer {
  readonly command: PeerCommand;
  readonly child: ChildProcessWithoutNullStreams;
  readonly lines: AsyncIterator<string>;
  readonly reader: Interface;
  stderr: string;
}

async function nextJson(peer: RunningPeer, waitingFor: string): Promise<Record<string, unknown>> {
  for (;;) {
    const { value, done } = await peer.lines.next();
    if (done) {
      throw new Error(
        `${peer.command.label}: the process ended while ${waitingFor} (${peer.command.command} ${peer.command.args.join(' ')}):\n` +
          peer.stderr.trim().split('\n').slice(-15).join('\n'),
      );
    }
    const line = value.trim();
    // Libraries may print their own notices on stdout; the protocol's lines are JSON objects.
    if (line.startsWith('{')) return JSON.parse(line) as Record<string, unknown>;
  }
}

async function startPeer(command: PeerCommand): Promise<{ peer: RunningPeer; description: Record<string, unknown> }> {
  const child = spawn(command.command, [...command.args], {
    cwd: command.cwd,
    env: command.env ?? process.env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const reader = createInterface({ input: child.stdout });
  const peer: RunningPeer = { command, child, reader, lines: reader[Symbol.asyncIterator](), stderr: '' };
  child.stderr.on('data', (chunk: Buffer) => {
    peer.stderr = (peer.stderr + chunk.toString()).slice(-20_000);
  });
  child.on('error', (error) => {
    peer.stderr += `\n${error.message}`;
  });
  // A peer that died is reported by the next read; its stdin's EPIPE must not end this process.
  child.stdin.on('error', () => {});
  try {
    return { peer, description: await nextJson(peer, 'starting up') };
  } catch (error) {
    stopPeer(peer);
    throw error;
  }
}

function stopPeer(peer: RunningPeer): void {
  if (peer.child.exitCode === null && peer.child.signalCode === null) {
    peer.child.stdin.end('exit\n');
    peer.child.kill();
  }
  peer.reader.close();
}

/**
 * Starts the peers one after another (so warm-ups do not compete), then sends `rounds`
 * rounds to each in turn, so that every peer meets the same machine load, and reports
 * each step kind's median. A peer that does not start is reported with its error; one
 * that fails later fails the run. Every process is stopped at the end, also on failure.
 */
export async function timePeers(
  commands: readonly PeerCommand[],
  options: { rounds: number; onStarted?: (label: string, description: Record<string, unknown> | Error) => void },
): Promise<PeerTimes[]> {
  const running: Array<{ peer: RunningPeer; description: Record<string, unknown>; samples: Record<string, number[]> }> =
    [];
  const failed: PeerTimes[] = [];
  try {
    for (const command of commands) {
      try {
        const started = await startPeer(command);
        options.onStarted?.(command.label, started.description);
        running.push({ ...started, samples: {} });
      } catch (error) {
        const reason = error instanceof Error ? error : new Error(String(error));
        options.onStarted?.(command.label, reason);
        failed.push({ label: command.label, error: reason.message, description: {}, milliseconds: {} });
      }
    }
    for (let round = 0; round < options.rounds; round++) {
      for (const entry of running) {
        entry.peer.child.stdin.write('round\n');
        const times = await nextJson(entry.peer, `timing round ${round + 1}`);
        for (const [kind, ms] of Object.entries(times)) {
          if (typeof ms !== 'number') continue;
          entry.samples[kind] = [...(entry.samples[kind] ?? []), ms];
        }
      }
    }
  } finally {
    for (const { peer } of running) stopPeer(peer);
  }
  const timed = running.map(({ peer, description, samples }) => ({
    label: peer.command.label,
    description,
    milliseconds: Object.fromEntries(Object.entries(samples).map(([kind, values]) => [kind, median(values)])),
  }));
  return commands.map(
    (command) =>
      (timed.find((entry) => entry.label === command.label) ??
        failed.find((entry) => entry.label === command.label)) as PeerTimes,
  );
}
