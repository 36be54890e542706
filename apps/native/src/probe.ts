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

/** Runs a probe script in a fresh Node; its last stdout line, or why it failed (the end of its output). */
function runProbe(script: string, args: readonly string[]): { ok: true; last: string } | { ok: false; reason: string } {
  const result = spawnSync(process.execPath, ['-e', script, ...args], {
    encoding: 'utf8',
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' },
  });
  if (result.status === 0) return { ok: true, last: result.stdout.trim().split('\n').pop() ?? '' };
  const reason = `${result.stderr}${result.stdout}`.trim().split('\n').slice(-3).join(' ').slice(0, 500);
  return { ok: false, reason: reason || `exit code ${result.status}` };
}

export function probeNativeBackend(root = REPOSITORY_ROOT): ProbeResult {
  const result = runProbe(PROBE, [root]);
  if (!result.ok) return result;
  const parsed = JSON.parse(result.last || '{}') as { libtensorflow: string; tfjsNode: string };
  return { ok: true, ...parsed };
}

/**
 * Loads tfjs-node and the fused kernels' addon next to its libtensorflow in a fresh process and
 * checks each kernel against hand values: w = [1, 2], v = [1, −1], g = [0.5, 0.5], lr 0.5, mu 0.5
 * give v' = [1, 0], w' = [0.5, 2], and with the check, the same and 1 (g finite), or 0 for g = [0.5, NaN]; Σ [1, 2, 3]² = 14; GELU(0) = 0 and its slope there σ(0) = ½;
 * LayerNorm of the row [1, 3] (ε 0) is x̂ = [−1, 1], so γ = [2, 2] and β = [1, 1] give [−1, 3], mean
 * 2, 1/σ = 1, and the gradient of Σ y·[1, 0] gives dx = [0, 0], dγ = [−1, 0], dβ = [1, 0]; [1, 2] and
 * [3] are all finite (1), and [1, 2] with [NaN] are not (0); w = [1, 2], d = [2, −4], s = 0.5 give
 * w + s·d = [2, 0]; the same w and d with the norm term [3, 4] (‖·‖² = 25, b = 1), a = 1 and radius 5
 * move to w + 5·d / (5 + 1e-12) = [3, −2] in float32; softmax(2·[3, 3]) = [½, ½], and its gradient for dy = [1, 0] is 2·½·(dy − ½) =
 * [½, −½]; [1, 2] as [1, 2, 1, 1] swapped to [1, 1, 2, 1]; [1, 3] + [1, 1] = [2, 4]; the logits
 * [[0, 0]] against label 1 have the mean cross-entropy ln 2 (to 6 places, 0.693147) and the
 * gradient softmax − onehot = [½, −½]; [[1, 3]]ᵀ · [[1, 2]] (the thin product, a transposed) = [[1, 2], [3, 6]].
 */
const FUSED_PROBE = `
const { createRequire } = require('node:module');
const tf = createRequire(process.argv[1] + '/package.json')('@tensorflow/tfjs-node');
(async () => {
  if (!(await tf.setBackend('tensorflow'))) throw new Error('setBackend("tensorflow") returned false');
  require(process.argv[2]);
  const backend = tf.backend();
  const [w, v] = backend.executeMultipleOutputs('Mup2MomentumStep', [],
    [tf.tensor1d([1, 2]), tf.tensor1d([1, -1]), tf.tensor1d([0.5, 0.5]), tf.scalar(0.5), tf.scalar(0.5)], 2);
  const checked = (g) => backend.executeMultipleOutputs('Mup2CheckedMomentumStep', [],
    [tf.tensor1d([1, 2]), tf.tensor1d([1, -1]), tf.tensor1d(g), tf.scalar(0.5), tf.scalar(0.5)], 3);
  const [checkedW, checkedV, checkedFinite] = checked([0.5, 0.5]);
  const uncheckable = checked([0.5, NaN])[2];
  const sum = backend.executeSingleOutput('Mup2SumOfSquares', [], [tf.tensor1d([1, 2, 3])]);
  const dot = backend.executeSingleOutput('Mup2InnerProduct', [], [tf.tensor1d([1, 2, 3]), tf.tensor1d([4, -5, 6])]);
  const count = (n) => [{ name: 'N', type: backend.binding.TF_ATTR_INT, value: n }];
  const finite = backend.executeSingleOutput('Mup2AllFinite', count(2), [tf.tensor1d([1, 2]), tf.tensor1d([3])]);
  const notFinite = backend.executeSingleOutput('Mup2AllFinite', count(2), [tf.tensor1d([1, 2]), tf.tensor1d([NaN])]);
  const [movedAll, normSquared] = backend.executeMultipleOutputs('Mup2MovedWeights', count(1), [tf.tensor1d([1, 2]),
    tf.tensor1d([2, -4]), tf.tensor1d([3, 4]), tf.tensor1d([1]), tf.tensor1d([1]), tf.scalar(5)], 2);
  const moved = backend.executeSingleOutput('Mup2AddScaled', [],
    [tf.tensor1d([1, 2]), tf.tensor1d([2, -4]), tf.scalar(0.5)]);
  const gelu = backend.executeSingleOutput('Mup2Gelu', [], [tf.tensor1d([0])]);
  const geluGrad = backend.executeSingleOutput('Mup2GeluGrad', [], [tf.tensor1d([1]), tf.tensor1d([0])]);
  const x = tf.tensor2d([[1, 3]]);
  const epsilon = { name: 'epsilon', type: backend.binding.TF_ATTR_FLOAT, value: 0 };
  const norm = backend.executeMultipleOutputs('Mup2LayerNorm', [epsilon],
    [x, tf.tensor1d([2, 2]), tf.tensor1d([1, 1])], 3);
  const normGrad = backend.executeMultipleOutputs('Mup2LayerNormGrad', [],
    [tf.tensor2d([[1, 0]]), x, tf.tensor1d([2, 2]), norm[1], norm[2]], 3);
  const scale = { name: 'scale', type: backend.binding.TF_ATTR_FLOAT, value: 2 };
  const softmax = backend.executeSingleOutput('Mup2Softmax', [scale], [tf.tensor1d([3, 3])]);
  const softmaxGrad = backend.executeSingleOutput('Mup2SoftmaxGrad', [scale], [tf.tensor1d([1, 0]), softmax]);
  const swapped = backend.executeSingleOutput('Mup2SwapAxes', [], [tf.tensor4d([1, 2], [1, 2, 1, 1])]);
  const biased = backend.executeSingleOutput('Mup2BiasAdd', [], [x, tf.tensor1d([1, 1])]);
  const [loss, backprop] = backend.executeMultipleOutputs('Mup2SoftmaxCrossEntropyMean', [],
    [tf.tensor2d([[0, 0]]), tf.tensor1d([1], 'int32')], 2);
  const transposeA = { name: 'transpose', type: backend.binding.TF_ATTR_INT, value: 1 };
  const thin = backend.executeSingleOutput('Mup2ThinMatMul', [transposeA], [x, tf.tensor2d([[1, 2]])]);
  const got = JSON.stringify([w, v, checkedW, checkedV, checkedFinite, uncheckable, sum, dot, finite, notFinite, movedAll, normSquared, moved, gelu, geluGrad, ...norm, ...normGrad,
    softmax, softmaxGrad, swapped, biased, backprop, thin].map((t) => t.arraySync())
    .concat([Math.round(loss.arraySync() * 1e6) / 1e6]));
  const expected = [[0.5, 2], [1, 0], [0.5, 2], [1, 0], 1, 0, 14, 12, 1, 0, [3, -2], 25, [2, 0], [0], [0.5], [[-1, 3]], [2], [1], [[0, 0]], [-1, 0], [1, 0],
    [0.5, 0.5], [0.5, -0.5], [[[[1], [2]]]], [[2, 4]], [[0.5, -0.5]], [[1, 2], [3, 6]], 0.693147];
  if (got !== JSON.stringify(expected)) throw new Error('the fused kernels gave ' + got);
})().catch((error) => { console.error(error.message); process.exit(1); });
`;

/** Whether the fused kernels' addon at `addon` loads next to tfjs-node and computes its hand values. */
export function probeFusedOps(addon: string, root = REPOSITORY_ROOT): { ok: true } | { ok: false; reason: string } {
  const result = runProbe(FUSED_PROBE, [root, addon]);
  return result.ok ? { ok: true } : result;
}
