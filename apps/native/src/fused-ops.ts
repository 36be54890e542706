import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand } from './run-command.js';
import type { TfjsNodePackage } from './tfjs-node-package.js';

/**
 * The fused kernels (`@mup2/core`'s FUSED_KERNELS and the model zoo's GELU and LayerNorm on
 * 'tensorflow'): an N-API addon whose loading registers TensorFlow ops, written against
 * TensorFlow's C kernel API. It lives next to libtensorflow in tfjs-node's deps/lib, where the model
 * zoo loads it from the tfjs-node that is running (apps/model-zoo/src/layers/addon-kernels.ts).
 */
const FUSED_OPS_FILE = 'mup2_fused_ops.node';

const SOURCE_DIR = fileURLToPath(new URL('./fused-ops/', import.meta.url));
/** The translation units and the headers they share (the digest covers all of them). */
const SOURCES = [
  'mup2_fused_ops.cc',
  'optimizer-kernels.cc',
  'layer-kernels.cc',
  'loss-kernels.cc',
  'attention-kernels.cc',
  'thin-matmul-kernels.cc',
] as const;
const HEADERS = ['kernel-call.h', 'vector-loops.h'] as const;

/** The headers the source includes beyond tfjs-node's own: they come out of the wheel with them. */
export const FUSED_OPS_HEADERS = [
  'tsl/platform/platform.h',
  'tensorflow/core/common_runtime/next_pluggable_device/c/tf_rendezvous_c_api.h',
] as const;

export function fusedOpsPath(pkg: TfjsNodePackage): string {
  return join(pkg.libDir, FUSED_OPS_FILE);
}

/** Written next to the addon once it is built: the digest of the source and the arguments it was built with. */
const markerPath = (pkg: TfjsNodePackage) => join(pkg.libDir, 'mup2_fused_ops.source.json');
const sourceDigest = () =>
  [...SOURCES, ...HEADERS]
    .reduce((hash, file) => hash.update(file).update(readFileSync(join(SOURCE_DIR, file))), createHash('sha256'))
    .update(JSON.stringify(COMPILE_FLAGS))
    .digest('hex');

/** Whether the addon is there and was built from the source as it is now (else a checkout changed it). */
export function fusedOpsCurrent(pkg: TfjsNodePackage): boolean {
  if (!existsSync(fusedOpsPath(pkg)) || !existsSync(markerPath(pkg))) return false;
  const marker = JSON.parse(readFileSync(markerPath(pkg), 'utf8')) as { source?: string };
  return marker.source === sourceDigest();
}

/** Whether deps/include has every header the source needs (an install from before the fused ops lacks two). */
export function fusedOpsHeadersPresent(pkg: TfjsNodePackage): boolean {
  return FUSED_OPS_HEADERS.every((header) => existsSync(join(pkg.includeDir, header)));
}

/** g++'s flags besides the paths; the digest covers them with the source, so a change of either rebuilds. */
const COMPILE_FLAGS = [
  '-std=c++17',
  '-O3',
  '-fopenmp-simd',
  '-shared',
  '-fPIC',
  '-Wall',
  '-DNODE_GYP_MODULE_NAME=mup2_fused_ops',
  '-l:libtensorflow_framework.so.2',
  // glibc's vector math (expf for GELU), which the layer kernels' loops call.
  '-lmvec',
  '-Wl,-rpath,$ORIGIN',
  // Never unloaded: libtensorflow keeps the registered ops, which point into this library. (Node
  // dlcloses an addon when the last worker thread holding it ends; loaded again, it would
  // register its ops twice, which TensorFlow aborts on.)
  '-Wl,-z,nodelete',
] as const;

/**
 * Compiles the addon (about a second) against deps/include, Node's headers under `nodeDir` and
 * libtensorflow_framework in deps/lib, found at run time next to it ($ORIGIN). Built for the
 * baseline of the architecture, not -march=native (the layer kernels' loops carry AVX2 and
 * AVX-512 clones, chosen at load time). The file takes its name only once complete.
 */
export async function buildFusedOps(pkg: TfjsNodePackage, nodeDir: string): Promise<string> {
  const target = fusedOpsPath(pkg);
  const partial = `${target}.partial`;
  rmSync(partial, { force: true });
  rmSync(markerPath(pkg), { force: true });
  await runCommand(process.env.CXX || 'g++', [
    `-I${join(nodeDir, 'include', 'node')}`,
    `-I${pkg.includeDir}`,
    `-L${pkg.libDir}`,
    ...SOURCES.map((file) => join(SOURCE_DIR, file)),
    '-o',
    partial,
    ...COMPILE_FLAGS,
  ]);
  renameSync(partial, target);
  writeFileSync(markerPath(pkg), `${JSON.stringify({ source: sourceDigest() })}\n`);
  return target;
}
