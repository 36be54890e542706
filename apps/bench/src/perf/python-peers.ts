import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commandOutput, localPipIndexes, pipIndexOptions, REPOSITORY_ROOT, runCommand } from '@mup2/native';
import type { PeerCommand } from './peer-process.js';

/** The peers' pinned packages: the versions DESIGN.md §3 measured, on our machines in pip's local index. */
export const PYTHON_PEERS = {
  torch: { label: 'PyTorch', script: 'torch_mlp_steps.py', requirements: ['torch==2.13.0'] },
  jax: {
    label: 'JAX + optax',
    script: 'jax_mlp_steps.py',
    requirements: ['jax==0.10.2', 'jaxlib==0.10.2', 'optax==0.2.8'],
  },
} as const;
export type PythonPeerName = keyof typeof PYTHON_PEERS;
export const PYTHON_PEER_NAMES = Object.keys(PYTHON_PEERS) as PythonPeerName[];

const PEERS_DIR = fileURLToPath(new URL('../../peers/', import.meta.url));
/** PyTorch's CPU wheels: without it, pip takes PyPI's CUDA build of torch (several GB) on Linux. */
const TORCH_CPU_INDEX = 'https://download.pytorch.org/whl/cpu';

/**
 * A virtual environment for the peers under node_modules/.cache (never the system's Python),
 * one per base Python, with each peer's packages installed once (a marker lists what is in).
 */
export async function ensurePeerEnvironment(
  peers: readonly PythonPeerName[],
  log: (line: string) => void,
): Promise<string> {
  const basePython = process.env.MUP2_PYTHON || 'python3';
  const version = commandOutput(basePython, ['--version']);
  if (version === undefined) {
    throw new Error(`no Python to build the peers' environment with (tried ${basePython}; set MUP2_PYTHON).`);
  }
  const key = createHash('sha256').update(`${basePython} ${version}`).digest('hex').slice(0, 8);
  const venv = join(REPOSITORY_ROOT, 'node_modules', '.cache', 'mup2-peers', `venv-${key}`);
  const python = join(venv, 'bin', 'python');
  if (!existsSync(python)) {
    log(`creating a Python environment for the peers in ${venv} (${version})`);
    await runCommand(basePython, ['-m', 'venv', venv]);
  }
  const marker = join(venv, 'mup2-peers.json');
  const installed = new Set<string>(existsSync(marker) ? (JSON.parse(readFileSync(marker, 'utf8')) as string[]) : []);
  const requirements = peers.flatMap((peer) => PYTHON_PEERS[peer].requirements).filter((req) => !installed.has(req));
  if (requirements.length > 0) {
    const indexes = localPipIndexes(commandOutput(python, ['-m', 'pip', 'config', 'list']) ?? '');
    const index = pipIndexOptions(indexes);
    const extra =
      indexes.length === 0 && requirements.some((req) => req.startsWith('torch'))
        ? ['--extra-index-url', TORCH_CPU_INDEX]
        : [];
    log(
      `pip install ${requirements.join(' ')} into it (a few minutes the first time) from ` +
        (indexes.length > 0
          ? `pip's local index ${indexes.join(', ')}`
          : `PyPI${extra.length > 0 ? ` and ${TORCH_CPU_INDEX}` : ''}`),
    );
    await runCommand(python, ['-m', 'pip', 'install', '--quiet', ...index.args, ...extra, ...requirements], {
      env: { ...process.env, ...index.env, PIP_DISABLE_PIP_VERSION_CHECK: '1' },
    });
    for (const req of requirements) installed.add(req);
    writeFileSync(marker, `${JSON.stringify([...installed], null, 2)}\n`);
  }
  return python;
}

/** A Python peer at a thread count; extra environment for torch's BLAS kernel choice. */
export function pythonPeerCommand(
  python: string,
  peer: PythonPeerName,
  options: { threads: number; width: number; batch: number; warmup: number; label?: string },
): PeerCommand {
  // Some machines here set OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE to dodge old-OpenBLAS bugs, which slows
  // a current one: dropped for the peer only.
  const { OPENBLAS_CORETYPE: _coretype, OPENBLAS_L2_SIZE: _l2, ...environment } = process.env;
  return {
    label: options.label ?? `${PYTHON_PEERS[peer].label}, ${options.threads} thread${options.threads > 1 ? 's' : ''}`,
    command: python,
    args: [
      join(PEERS_DIR, PYTHON_PEERS[peer].script),
      '--threads',
      String(options.threads),
      '--width',
      String(options.width),
      '--batch',
      String(options.batch),
      '--warmup',
      String(options.warmup),
    ],
    env: { ...environment, PYTHONUNBUFFERED: '1', TF_CPP_MIN_LOG_LEVEL: '2' },
    cwd: PEERS_DIR,
  };
}

/**
 * Debian's python3-torch (1.13, its BLAS through libblas.so.3: fast only with
 * libopenblas0-pthread) as a second PyTorch, when the system Python has it.
 */
export function debianTorchPython(): string | undefined {
  const probe = 'import torch; print(torch.zeros(1).sum().item())';
  return commandOutput('/usr/bin/python3', ['-I', '-c', probe]) === '0.0' ? '/usr/bin/python3' : undefined;
}
