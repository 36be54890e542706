import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../torch/mlp_step_times.py', import.meta.url));
/** Debian's python3-torch installs for the system Python, which may not be the first python3 on PATH. */
const PYTHONS = ['/usr/bin/python3', 'python3'];

export interface TorchPeer {
  readonly python: string;
  readonly torch: string;
  readonly sgdMs: number;
  readonly samMs: number;
  /** The BLAS library torch loaded: the reference BLAS makes PyTorch ~30× slower than OpenBLAS. */
  readonly blas: string;
}

/** The first Python that can import torch, or the reason none can. */
export function findTorchPython(): { python: string } | { missing: string } {
  for (const python of PYTHONS) {
    const probe = spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' });
    if (probe.status === 0) return { python };
  }
  return {
    missing:
      'PyTorch is not importable by /usr/bin/python3 or python3; install it with ' +
      '`apt-get install -y python3-torch libopenblas0-pthread` (Debian) to compare with PyTorch.',
  };
}

/**
 * One thread everywhere PyTorch may take threads from, and OpenBLAS free to pick its
 * own kernel: some machines here set OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE to dodge
 * old-OpenBLAS bugs, which slows a current one; they are dropped for this process only.
 */
function peerEnvironment(): NodeJS.ProcessEnv {
  const { OPENBLAS_CORETYPE: _coretype, OPENBLAS_L2_SIZE: _l2, ...environment } = process.env;
  return { ...environment, OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' };
}

/** The MLP's SGD and SAM step times in PyTorch (one thread), same shapes as ours. */
export function runTorchPeer(python: string, options: { width: number; batch: number; rounds: number }): TorchPeer {
  const output = execFileSync(
    python,
    [SCRIPT, '--width', String(options.width), '--batch', String(options.batch), '--rounds', String(options.rounds)],
    { encoding: 'utf8', env: peerEnvironment() },
  );
  const parsed = JSON.parse(output.trim().split('\n').pop() ?? '{}') as {
    sgd_ms: number;
    sam_ms: number;
    torch: string;
    blas?: string;
  };
  return { python, torch: parsed.torch, sgdMs: parsed.sgd_ms, samMs: parsed.sam_ms, blas: parsed.blas ?? 'unknown' };
}
