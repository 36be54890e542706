import { availableParallelism } from 'node:os';
import { tsxExecArgv } from '../tsx-loader.js';
import { type PeerCommand, type PeerTimes, timePeers } from './peer-process.js';
import { debianTorchPython, ensurePeerEnvironment, type PythonPeerName, pythonPeerCommand } from './python-peers.js';

const TFJS_PEER = new URL(`./tfjs-peer${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);
/** The MLP of PERF_MODELS.mlp, which tfjs-peer.ts steps: the Python peers build the same one. */
const MLP = { width: 1024, batch: 128 } as const;

export interface PeerComparison {
  readonly rounds: number;
  readonly rows: PeerTimes[];
}

const plural = (threads: number) => `${threads} thread${threads > 1 ? 's' : ''}`;

/** Ours on one backend as a peer process; tensorflow's intra-op pool size is fixed per process, so one per count. */
function tfjsPeerCommand(backend: string, threads: number, warmup: number, fused = true): PeerCommand {
  return {
    label:
      backend === 'wasm'
        ? 'mup2 wasm (1 thread)'
        : `mup2 ${backend}, ${plural(threads)}${fused ? '' : ', without fused kernels'}`,
    command: process.execPath,
    args: [...tsxExecArgv(TFJS_PEER), TFJS_PEER.pathname, '--warmup', String(warmup)],
    env: {
      ...process.env,
      MUP2_BACKEND: backend,
      TF_NUM_INTRAOP_THREADS: String(threads),
      TF_NUM_INTEROP_THREADS: '1',
      // As configureNativeThreads sets it for the zoo and the bench (effective at one thread per core).
      TF_ONEDNN_THREADPOOL_USE_CALLER_THREAD: 'true',
      TF_CPP_MIN_LOG_LEVEL: '2',
      ...(fused ? {} : { MUP2_FUSED_KERNELS: '0' }),
    },
  };
}

/**
 * The MLP's SGD-momentum and SAM steps of ours (wasm; tensorflow at each thread count, with and
 * without the fused optimizer kernels) and
 * of the peers (each at each thread count), every one in its own process, timed round by
 * round across all of them (timePeers).
 */
export async function comparePeers(options: {
  peers: readonly PythonPeerName[];
  threads: readonly number[];
  rounds: number;
  warmup: number;
  log: (line: string) => void;
}): Promise<PeerComparison> {
  const threads = options.threads.filter((count) => count <= availableParallelism());
  const commands: PeerCommand[] = [tfjsPeerCommand('wasm', 1, options.warmup)];
  for (const count of threads) commands.push(tfjsPeerCommand('tensorflow', count, options.warmup));
  // What the fused optimizer kernels (@mup2/core FUSED_KERNELS, built by native:install) buy, in the same rounds.
  for (const count of threads) commands.push(tfjsPeerCommand('tensorflow', count, options.warmup, false));
  if (options.peers.length > 0) {
    const python = await ensurePeerEnvironment(options.peers, options.log);
    for (const peer of options.peers) {
      for (const count of threads) {
        commands.push(pythonPeerCommand(python, peer, { threads: count, ...MLP, warmup: options.warmup }));
      }
    }
    const debian = options.peers.includes('torch') ? debianTorchPython() : undefined;
    if (debian !== undefined) {
      for (const count of threads) {
        commands.push(
          pythonPeerCommand(debian, 'torch', {
            threads: count,
            ...MLP,
            warmup: options.warmup,
            label: `PyTorch (Debian), ${plural(count)}`,
          }),
        );
      }
    }
  }
  const rows = await timePeers(commands, {
    rounds: options.rounds,
    onStarted: (label, description) =>
      options.log(
        description instanceof Error
          ? `${label}: could not start (${description.message.split('\n')[0]})`
          : `${label}: ready (${describe(description)})`,
      ),
  });
  return { rounds: options.rounds, rows };
}

function describe(description: Record<string, unknown>): string {
  return ['framework', 'version', 'backend', 'blas']
    .map((key) => description[key])
    .filter((value) => value !== undefined)
    .join(', ');
}

const ratio = (ours: number | undefined, theirs: number | undefined) =>
  ours === undefined || theirs === undefined ? '–' : (ours / theirs).toFixed(2);

/** Markdown: every row's step times, then every ratio of one of ours to one peer. */
export function peerTables(comparison: PeerComparison): string[] {
  const lines = [
    `MLP 784→1024→1024→10, batch 128, SGD with momentum 0.9 and two-pass SAM; each in its own process, ` +
      `median of ${comparison.rounds} rounds taken in turn across all of them; each round, per step kind, about ` +
      '100 ms of untimed steps and then as many timed ones (ms per step).',
    '',
    '| | what | SGD ms | SAM ms | SAM/SGD |',
    '|---|---|---:|---:|---:|',
  ];
  for (const row of comparison.rows) {
    if (row.error) {
      lines.push(`| ${row.label} | could not start: ${row.error.split('\n')[0]} | – | – | – |`);
      continue;
    }
    const { sgd, sam } = row.milliseconds;
    lines.push(
      `| ${row.label} | ${describe(row.description)} | ${sgd?.toFixed(1) ?? '–'} | ${sam?.toFixed(1) ?? '–'} | ${ratio(sam, sgd)} |`,
    );
  }
  const timed = comparison.rows.filter((row) => !row.error);
  const ours = timed.filter((row) => row.label.startsWith('mup2'));
  const theirs = timed.filter((row) => !row.label.startsWith('mup2'));
  if (theirs.length > 0 && ours.length > 0) {
    lines.push(
      '',
      `Our step / theirs, SGD · SAM:`,
      '',
      `| ours \\ peer | ${theirs.map((row) => row.label).join(' | ')} |`,
    );
    lines.push(`|---|${theirs.map(() => '---:').join('|')}|`);
    for (const row of ours) {
      const cells = theirs.map(
        (peer) =>
          `${ratio(row.milliseconds.sgd, peer.milliseconds.sgd)} · ${ratio(row.milliseconds.sam, peer.milliseconds.sam)}`,
      );
      lines.push(`| ${row.label} | ${cells.join(' | ')} |`);
    }
  }
  return lines;
}
