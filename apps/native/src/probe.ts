import { spawnSync } from 'node:child_process';
import { REPOSITORY_ROOT } from './tfjs-node-package.js';

export type ProbeResult =
  | { readonly ok: true; readonly libtensorflow: string; readonly tfjsNode: string }
  | { readonly ok: false; readonly reason: string };

/**
 * Loads tfjs-node in a fresh process, as an application in this repository would, and
 * checks one matMul against its hand value: an addon that loads but computes nothing
 * right is not installed.
 */
const PROBE = `
const { createRequire } = require('node:module');
const tf = createRequire(process.argv[1] + '/package.json')('@tensorflow/tfjs-node');
(async () => {
  if (!(await tf.setBackend('tensorflow'))) throw new Error('setBackend("tensorflow") returned false');
  const product = tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5, 6], [7, 8]])).arraySync();
  if (JSON.stringify(product) !== JSON.stringify([[19, 22], [43, 50]])) throw new Error('matMul gave ' + JSON.stringify(product));
  console.log(JSON.stringify({ libtensorflow: tf.backend().binding.TF_Version, tfjsNode: tf.version['tfjs-node'] }));
})().catch((error) => { console.error(error.message); process.exit(1); });
`;

export function probeNativeBackend(root = REPOSITORY_ROOT): ProbeResult {
  const result = spawnSync(process.execPath, ['-e', PROBE, root], {
    encoding: 'utf8',
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' },
  });
  if (result.status === 0) {
    const parsed = JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as {
      libtensorflow: string;
      tfjsNode: string;
    };
    return { ok: true, ...parsed };
  }
  const reason = `${result.stderr}${result.stdout}`.trim().split('\n').slice(-3).join(' ').slice(0, 500);
  return { ok: false, reason: reason || `exit code ${result.status}` };
}
