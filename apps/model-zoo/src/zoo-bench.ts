/**
 * Step times of the zoo's models and its layers against the stock TF.js ops,
 * on wasm and cpu. Prints Markdown tables; asserts nothing.
 *
 *   pnpm --filter @mup2/model-zoo exec tsx src/zoo-bench.ts [--backends wasm,cpu] [--reps 5]
 *
 * Only SGD steps and single layers are timed; SAM costs about two of them.
 */
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs';
import { type AttentionWeights, selfAttention } from './layers/attention.js';
import { BatchNorm } from './layers/batch-norm.js';
import { conv2d } from './layers/conv2d.js';
import { gelu } from './layers/gelu.js';
import { createModel, type ModelName } from './models/create-model.js';

interface Options {
  readonly backends: string[];
  readonly reps: number;
}

function parseOptions(argv: string[]): Options {
  const value = (flag: string) => {
    const index = argv.indexOf(flag);
    return index >= 0 ? argv[index + 1] : undefined;
  };
  const reps = Number(value('--reps') ?? 5);
  if (!(Number.isInteger(reps) && reps > 0))
    throw new Error(`--reps must be a positive integer, got ${value('--reps')}.`);
  return { backends: (value('--backends') ?? 'wasm,cpu').split(','), reps };
}

/** Median wall time in ms of `run` (which must leave nothing behind), after one warm-up call. */
function time(run: () => tf.TensorContainer, reps: number): number {
  const once = () => {
    const start = performance.now();
    tf.tidy(() => {
      const result = run();
      for (const tensor of tensorsIn(result)) tensor.dataSync();
      return undefined;
    });
    return performance.now() - start;
  };
  once();
  const samples = Array.from({ length: reps }, once).sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] as number;
}

function tensorsIn(container: tf.TensorContainer): tf.Tensor[] {
  if (container instanceof tf.Tensor) return [container];
  if (Array.isArray(container)) return container.flatMap((item) => tensorsIn(item as tf.TensorContainer));
  if (container && typeof container === 'object') {
    return Object.values(container).flatMap((item) => tensorsIn(item as tf.TensorContainer));
  }
  return [];
}

const format = (ms: number | undefined) => (ms === undefined ? '–' : ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));
const ratio = (slow: number | undefined, fast: number | undefined) =>
  slow === undefined || fast === undefined ? '–' : `${(slow / fast).toFixed(1)}×`;

interface ModelCase {
  readonly model: ModelName;
  readonly widthMult: number;
  readonly imageShape: [number, number, number];
  readonly batch: number;
  readonly label: string;
}

const MODEL_CASES: ModelCase[] = [
  { model: 'mlp', widthMult: 4, imageShape: [28, 28, 1], batch: 128, label: 'MLP 784→256→256→10, batch 128' },
  {
    model: 'resnet18',
    widthMult: 0.25,
    imageShape: [32, 32, 3],
    batch: 32,
    label: 'ResNet-18 k=0.25 (16…128 ch), 32×32, batch 32',
  },
  {
    model: 'vit',
    widthMult: 1,
    imageShape: [32, 32, 3],
    batch: 32,
    label: 'ViT width 64, depth 6, 64 tokens, batch 32',
  },
];

function modelStep(modelCase: ModelCase, reps: number): number {
  const model = createModel({
    model: modelCase.model,
    widthMult: modelCase.widthMult,
    parameterization: 'mup',
    imageShape: modelCase.imageShape,
    classes: 10,
    seed: 0,
  });
  const optimizer = tf.train.sgd(0.01);
  const x = tf.randomNormal([modelCase.batch, ...modelCase.imageShape]);
  const labels = tf.tensor1d(
    Array.from({ length: modelCase.batch }, (_, i) => i % 10),
    'int32',
  );
  const ms = time(
    () =>
      optimizer.minimize(() => model.loss(x, labels, { training: true }), true, model.trainableVariables) as tf.Scalar,
    reps,
  );
  tf.dispose([x, labels]);
  optimizer.dispose();
  model.dispose();
  return ms;
}

interface ConvCase {
  readonly x: [number, number, number, number];
  readonly kernel: [number, number, number, number];
  readonly stride: number;
}

const CONV_CASES: ConvCase[] = [
  { x: [32, 32, 32, 16], kernel: [3, 3, 16, 16], stride: 1 },
  { x: [32, 16, 16, 32], kernel: [3, 3, 32, 64], stride: 2 },
  { x: [32, 8, 8, 64], kernel: [3, 3, 64, 64], stride: 1 },
];

/** Forward + both gradients of sum(conv(x, w)); the stock form only where its kernels exist. */
function convTimes(convCase: ConvCase, reps: number) {
  const x = tf.randomNormal(convCase.x) as tf.Tensor4D;
  const kernel = tf.randomNormal(convCase.kernel) as tf.Tensor4D;
  const train = (convolve: (a: tf.Tensor4D, b: tf.Tensor4D) => tf.Tensor) => () =>
    tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(convolve(a as tf.Tensor4D, b as tf.Tensor4D)))([x, kernel]);
  const ours = time(
    train((a, b) => conv2d(a, b, { stride: convCase.stride })),
    reps,
  );
  const canTrainStock = tf.getKernel('Conv2DBackpropFilter', tf.getBackend()) !== undefined;
  const stock = canTrainStock
    ? time(
        train((a, b) => tf.conv2d(a, b, convCase.stride, 'same')),
        reps,
      )
    : undefined;
  // Forward and input gradient only: what the stock layer can do everywhere.
  const inputOnly = (convolve: (a: tf.Tensor4D, b: tf.Tensor4D) => tf.Tensor) => () =>
    tf.grad((a: tf.Tensor) => tf.sum(convolve(a as tf.Tensor4D, kernel)))(x);
  const oursInput = time(
    inputOnly((a, b) => conv2d(a, b, { stride: convCase.stride })),
    reps,
  );
  const stockInput = time(
    inputOnly((a, b) => tf.conv2d(a, b, convCase.stride, 'same')),
    reps,
  );
  tf.dispose([x, kernel]);
  return { ours, stock, oursInput, stockInput };
}

/** The stock-op attention (tf.matMul with transposeB, stock gradients) for comparison. */
function stockAttention(x: tf.Tensor2D, w: AttentionWeights, batch: number, tokens: number, heads: number) {
  const width = x.shape[1];
  const headSize = width / heads;
  const split = (t: tf.Tensor) =>
    tf.transpose(tf.reshape(t, [batch, tokens, heads, headSize]), [0, 2, 1, 3]) as tf.Tensor4D;
  const q = split(tf.add(tf.matMul(x, w.query), w.queryBias));
  const k = split(tf.add(tf.matMul(x, w.key), w.keyBias));
  const v = split(tf.add(tf.matMul(x, w.value), w.valueBias));
  const probabilities = tf.softmax(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(headSize)));
  const context = tf.reshape(tf.transpose(tf.matMul(probabilities, v), [0, 2, 1, 3]), [batch * tokens, width]);
  return tf.add(tf.matMul(context, w.output), w.outputBias);
}

function attentionTimes(batch: number, tokens: number, width: number, heads: number, reps: number) {
  const x = tf.randomNormal([batch * tokens, width]) as tf.Tensor2D;
  const matrix = () => tf.randomNormal([width, width], 0, 1 / Math.sqrt(width)) as tf.Tensor2D;
  const vector = () => tf.zeros([width]) as tf.Tensor1D;
  const parameters = [matrix(), matrix(), matrix(), matrix(), vector(), vector(), vector(), vector()];
  const weightsOf = (p: tf.Tensor[]): AttentionWeights => {
    const [query, key, value, output, queryBias, keyBias, valueBias, outputBias] = p as [
      tf.Tensor2D,
      tf.Tensor2D,
      tf.Tensor2D,
      tf.Tensor2D,
      tf.Tensor1D,
      tf.Tensor1D,
      tf.Tensor1D,
      tf.Tensor1D,
    ];
    return { query, key, value, output, queryBias, keyBias, valueBias, outputBias };
  };
  const train = (layer: (input: tf.Tensor2D, weights: AttentionWeights) => tf.Tensor) => () =>
    tf.grads((...args: tf.Tensor[]) => tf.sum(layer(args[0] as tf.Tensor2D, weightsOf(args.slice(1)))))([
      x,
      ...parameters,
    ]);
  const scale = 1 / Math.sqrt(width / heads);
  const ours = (kernel: 'grouped-conv' | 'batched-matmul') =>
    time(
      train((input, weights) => selfAttention(input, weights, { batch, tokens, heads, scale, kernel }).output),
      reps,
    );
  const result = {
    groupedConv: ours('grouped-conv'),
    batchedMatMul: ours('batched-matmul'),
    stock: time(
      train((input, weights) => stockAttention(input, weights, batch, tokens, heads)),
      reps,
    ),
  };
  tf.dispose([x, ...parameters]);
  return result;
}

/** GELU and training-mode BatchNorm, ours against the stock-op composition, forward + backward. */
function elementwiseTimes(reps: number) {
  const x = tf.randomNormal([8192, 256]);
  const geluOurs = time(() => tf.grad((a: tf.Tensor) => tf.sum(gelu(a)))(x), reps);
  const geluStock = time(
    () => tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.mul(a, 0.5), tf.add(tf.erf(tf.mul(a, Math.SQRT1_2)), 1))))(x),
    reps,
  );
  const images = tf.variable(tf.randomNormal([32, 16, 16, 64]), true, 'zoo_bench_images');
  const norm = new BatchNorm('zoo_bench_bn', 64);
  const variables = [images, norm.gamma, norm.beta];
  const trainNorm = (normalize: () => tf.Tensor) => () => {
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(normalize())) as tf.Scalar, variables);
    return [value, ...Object.values(grads)];
  };
  const bnOurs = time(
    trainNorm(() => norm.apply(images, { training: true, updateStatistics: false })),
    reps,
  );
  const bnStock = time(
    trainNorm(() => {
      const { mean, variance } = tf.moments(images, [0, 1, 2]);
      return tf.add(
        tf.mul(tf.div(tf.sub(images, mean), tf.sqrt(tf.add(variance, norm.epsilon))), norm.gamma),
        norm.beta,
      );
    }),
    reps,
  );
  norm.dispose();
  tf.dispose([x, images]);
  return { geluOurs, geluStock, bnOurs, bnStock };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const results = new Map<string, Record<string, number | undefined>>();
  const put = (backend: string, key: string, ms: number | undefined) =>
    results.set(backend, { ...(results.get(backend) ?? {}), [key]: ms });
  for (const backend of options.backends) {
    if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} failed to initialise`);
    await tf.ready();
    console.error(`measuring on ${backend} …`);
    for (const modelCase of MODEL_CASES) put(backend, `model:${modelCase.model}`, modelStep(modelCase, options.reps));
    CONV_CASES.forEach((convCase, i) => {
      const times = convTimes(convCase, options.reps);
      for (const [key, ms] of Object.entries(times)) put(backend, `conv${i}:${key}`, ms);
    });
    for (const [key, ms] of Object.entries(attentionTimes(32, 64, 64, 4, options.reps)))
      put(backend, `attention:${key}`, ms);
    for (const [key, ms] of Object.entries(elementwiseTimes(options.reps))) put(backend, `elementwise:${key}`, ms);
  }
  const get = (backend: string, key: string) => results.get(backend)?.[key];
  const backends = options.backends;
  const lines: string[] = [];
  lines.push(`TF.js ${tf.version.tfjs}, Node ${process.version}, median of ${options.reps} after a warm-up, ms.`, '');
  lines.push(
    `| SGD step | ${backends.join(' | ')} |${backends.length > 1 ? ` ${backends[1]} / ${backends[0]} |` : ''}`,
  );
  lines.push(`|---|${backends.map(() => '---:').join('|')}|${backends.length > 1 ? '---:|' : ''}`);
  for (const modelCase of MODEL_CASES) {
    const values = backends.map((backend) => get(backend, `model:${modelCase.model}`));
    lines.push(
      `| ${modelCase.label} | ${values.map(format).join(' | ')} |${backends.length > 1 ? ` ${ratio(values[1], values[0])} |` : ''}`,
    );
  }
  lines.push(
    '',
    '| conv forward + both gradients | backend | ours | stock | speed-up | fwd + ∂x only: ours (computes ∂w too) / stock | speed-up |',
  );
  lines.push('|---|---|---:|---:|---:|---:|---:|');
  for (const backend of backends) {
    CONV_CASES.forEach((convCase, i) => {
      const at = (key: string) => get(backend, `conv${i}:${key}`);
      const label = `[${convCase.x.join(',')}] * ${convCase.kernel[0]}×${convCase.kernel[1]}×${convCase.kernel[2]}→${convCase.kernel[3]}, stride ${convCase.stride}`;
      const stock = at('stock') === undefined ? 'cannot train (no Conv2DBackpropFilter)' : format(at('stock'));
      lines.push(
        `| ${label} | ${backend} | ${format(at('ours'))} | ${stock} | ${ratio(at('stock'), at('ours'))} | ${format(at('oursInput'))} / ${format(at('stockInput'))} | ${ratio(at('stockInput'), at('oursInput'))} |`,
      );
    });
  }
  lines.push(
    '',
    '| self-attention fwd + bwd, batch 32, 64 tokens, width 64, 4 heads | backend | grouped-conv | batched-matmul | stock | best speed-up |',
  );
  lines.push('|---|---|---:|---:|---:|---:|');
  for (const backend of backends) {
    const at = (key: string) => get(backend, `attention:${key}`);
    const best = Math.min(
      at('groupedConv') ?? Number.POSITIVE_INFINITY,
      at('batchedMatMul') ?? Number.POSITIVE_INFINITY,
    );
    lines.push(
      `| | ${backend} | ${format(at('groupedConv'))} | ${format(at('batchedMatMul'))} | ${format(at('stock'))} | ${ratio(at('stock'), best)} |`,
    );
  }
  lines.push('', '| fwd + bwd | backend | ours | stock composition | speed-up |', '|---|---|---:|---:|---:|');
  for (const backend of backends) {
    const at = (key: string) => get(backend, `elementwise:${key}`);
    lines.push(
      `| GELU [8192, 256] | ${backend} | ${format(at('geluOurs'))} | ${format(at('geluStock'))} | ${ratio(at('geluStock'), at('geluOurs'))} |`,
    );
    lines.push(
      `| BatchNorm [32,16,16,64] | ${backend} | ${format(at('bnOurs'))} | ${format(at('bnStock'))} | ${ratio(at('bnStock'), at('bnOurs'))} |`,
    );
  }
  console.log(lines.join('\n'));
}

await main();
