import { type MeasuredLayer, muInit, type Parameterization } from '@mup2/core';
import * as tf from '@tensorflow/tfjs';
import { type AttentionWeights, selfAttention } from '../layers/attention.js';
import { biasAdd } from '../layers/bias-add.js';
import { fastMatMul } from '../layers/fast-matmul.js';
import { gelu } from '../layers/gelu.js';
import { LayerNorm } from '../layers/layer-norm.js';
import { softmaxCrossEntropy } from '../layers/log-softmax.js';
import { type ParamShape, specsFromLayout } from './param-layout.js';
import type { ZooModel } from './zoo-model.js';

export interface VitOptions {
  /** [height, width, channels]; height and width must be multiples of the patch size. */
  readonly imageShape: readonly [number, number, number];
  readonly classes: number;
  /** Embedding width D (a multiple of `heads`). */
  readonly width: number;
  /** µP's base width: the model equals SP there. Default 384 (ViT-S). */
  readonly baseWidth?: number;
  /** Transformer blocks. Default 6. */
  readonly depth?: number;
  /** Heads, fixed as width grows (d_head = width / heads grows, as in microsoft/mup). Default 4. */
  readonly heads?: number;
  /** Square patches of this many pixels a side. Default 4. */
  readonly patchSize?: number;
  /** Hidden units of each MLP as a multiple of the width. Default 4. */
  readonly mlpRatio?: number;
  /** 'mup': muInit, zero query weights and the 1/d_head attention scale; 'sp': standard. Default 'mup'. */
  readonly parameterization?: Parameterization;
  /** µP readout initialisation. Default 'zero' (the paper's ViTs). */
  readonly readout?: 'scaled' | 'zero';
  readonly seed?: number;
}

interface VitGeometry {
  readonly width: number;
  readonly tokens: number;
  readonly patchFeatures: number;
  readonly hidden: number;
  readonly depth: number;
  readonly classes: number;
}

const PROJECTIONS = ['query', 'key', 'value', 'output'] as const;

function vitLayout(geometry: VitGeometry): ParamShape[] {
  const { width, tokens, patchFeatures, hidden, classes } = geometry;
  const norm = (name: string): ParamShape[] => [
    { name: `${name}/gamma`, shape: [width], norm: true },
    { name: `${name}/beta`, shape: [width], norm: true },
  ];
  const dense = (name: string, fanIn: number, fanOut: number): ParamShape[] => [
    { name: `${name}/kernel`, shape: [fanIn, fanOut] },
    { name: `${name}/bias`, shape: [fanOut] },
  ];
  const blocks = Array.from({ length: geometry.depth }, (_, index) => {
    const block = `block${index + 1}`;
    return [
      ...norm(`${block}/ln1`),
      ...PROJECTIONS.flatMap((projection) => dense(`${block}/attention/${projection}`, width, width)),
      ...norm(`${block}/ln2`),
      ...dense(`${block}/mlp/fc1`, width, hidden),
      ...dense(`${block}/mlp/fc2`, hidden, width),
    ];
  });
  return [
    ...dense('patch', patchFeatures, width),
    // [tokens, width]: fan-in fixed, fan-out grows, so µP treats it as an input weight (an embedding).
    { name: 'position', shape: [tokens, width] },
    ...blocks.flat(),
    ...norm('final_ln'),
    ...dense('readout', width, classes),
  ];
}

interface Dense {
  readonly kernel: tf.Variable;
  readonly bias: tf.Variable;
}

interface Block {
  readonly ln1: LayerNorm;
  readonly attention: Record<(typeof PROJECTIONS)[number], Dense>;
  readonly ln2: LayerNorm;
  readonly fc1: Dense;
  readonly fc2: Dense;
}

let instances = 0;

/**
 * A Vision Transformer: non-overlapping patches → linear embedding + learned
 * position embedding → pre-LN blocks (x + MHSA(LN(x)), x + MLP(LN(x)), GELU,
 * MLP ratio 4) → final LN → mean over tokens (no class token: simpler, and as
 * good for small images) → linear readout. Every kernel starts
 * N(0, 1/fan_in), the position embedding N(0, 0.02²), biases 0, LN γ = 1, β = 0.
 *
 * µP (microsoft/mup's recipe for Transformers): roles from the shapes at the
 * base width and at twice it; the readout and the query weights start at zero;
 * attention logits are scaled by √(d_head,base)/d_head instead of 1/√d_head.
 * After training, q and k are correlated, so q·k grows like d_head, not
 * √d_head; 1/d_head keeps the logits Θ(1) as width grows, and the constant
 * √(d_head,base) makes µP equal SP at the base width (DESIGN.md §4). LN gains
 * and offsets are `norm` parameters.
 */
export function createVit(options: VitOptions): ZooModel {
  const [height, imageWidth, channels] = options.imageShape;
  const { classes, width } = options;
  const baseWidth = options.baseWidth ?? 384;
  const depth = options.depth ?? 6;
  const heads = options.heads ?? 4;
  const patchSize = options.patchSize ?? 4;
  const mlpRatio = options.mlpRatio ?? 4;
  const parameterization = options.parameterization ?? 'mup';
  for (const [what, value] of [
    ['width', width],
    ['baseWidth', baseWidth],
    ['depth', depth],
    ['heads', heads],
    ['patchSize', patchSize],
    ['mlpRatio', mlpRatio],
  ] as const) {
    if (!(Number.isInteger(value) && value > 0))
      throw new Error(`createVit: ${what} must be a positive integer, got ${value}.`);
  }
  for (const [what, value] of [
    ['width', width],
    ['baseWidth', baseWidth],
  ] as const) {
    if (value % heads !== 0) throw new Error(`createVit: ${what} ${value} is not a multiple of ${heads} heads.`);
  }
  if (height % patchSize !== 0 || imageWidth % patchSize !== 0) {
    throw new Error(
      `createVit: image ${height}×${imageWidth} is not divisible into ${patchSize}×${patchSize} patches.`,
    );
  }
  const rows = height / patchSize;
  const cols = imageWidth / patchSize;
  const geometryAt = (embedding: number): VitGeometry => ({
    width: embedding,
    tokens: rows * cols,
    patchFeatures: patchSize * patchSize * channels,
    hidden: mlpRatio * embedding,
    depth,
    classes,
  });
  const geometry = geometryAt(width);
  const { tokens } = geometry;
  const headSize = width / heads;
  const scale = parameterization === 'mup' ? Math.sqrt(baseWidth / heads) / headSize : 1 / Math.sqrt(headSize);

  const seed = options.seed ?? 0;
  const prefix = `vit${instances++}_w${width}`;
  // Offsets start at 1: TF.js treats a seed of 0 as no seed at all (Math.random), so seed 0 must not reach it.
  let seedOffset = 0;
  const variables = new Map<string, tf.Variable>();
  const own = (name: string, variable: tf.Variable) => {
    variables.set(name, variable);
    return variable;
  };
  const normal = (name: string, shape: number[], std: number) =>
    own(
      name,
      tf.tidy(() =>
        tf.variable(tf.randomNormal(shape, 0, std, 'float32', seed * 1000 + ++seedOffset), true, `${prefix}/${name}`),
      ),
    );
  const zeros = (name: string, shape: number[]) =>
    own(
      name,
      tf.tidy(() => tf.variable(tf.zeros(shape), true, `${prefix}/${name}`)),
    );
  const dense = (name: string, fanIn: number, fanOut: number): Dense => ({
    kernel: normal(`${name}/kernel`, [fanIn, fanOut], 1 / Math.sqrt(fanIn)),
    bias: zeros(`${name}/bias`, [fanOut]),
  });
  const layerNorm = (name: string) => {
    const norm = new LayerNorm(`${prefix}/${name}`, width);
    own(`${name}/gamma`, norm.gamma);
    own(`${name}/beta`, norm.beta);
    return norm;
  };

  const patch = dense('patch', geometry.patchFeatures, width);
  const position = normal('position', [tokens, width], 0.02);
  const blocks: Block[] = Array.from({ length: depth }, (_, index) => {
    const block = `block${index + 1}`;
    const ln1 = layerNorm(`${block}/ln1`);
    const attention = {
      query: dense(`${block}/attention/query`, width, width),
      key: dense(`${block}/attention/key`, width, width),
      value: dense(`${block}/attention/value`, width, width),
      output: dense(`${block}/attention/output`, width, width),
    };
    const ln2 = layerNorm(`${block}/ln2`);
    return {
      ln1,
      attention,
      ln2,
      fc1: dense(`${block}/mlp/fc1`, width, geometry.hidden),
      fc2: dense(`${block}/mlp/fc2`, geometry.hidden, width),
    };
  });
  const finalNorm = layerNorm('final_ln');
  const readout = dense('readout', width, classes);

  const specs = specsFromLayout(
    variables,
    (embedding: number) => vitLayout(geometryAt(embedding)),
    baseWidth,
    2 * baseWidth,
  );
  if (parameterization === 'mup') {
    muInit(specs, { readout: options.readout ?? 'zero' });
    for (const block of blocks)
      tf.tidy(() => block.attention.query.kernel.assign(tf.zerosLike(block.attention.query.kernel)));
  }
  const trainableVariables = [...variables.values()];

  type Recorder = (variable: tf.Variable, kind: MeasuredLayer['kind'], input?: tf.Tensor) => void;
  const linear = (x: tf.Tensor2D, layer: Dense, record?: Recorder) => {
    record?.(layer.kernel, 'matmul', x);
    record?.(layer.bias, 'shift');
    return biasAdd(fastMatMul(x, layer.kernel as tf.Tensor2D), layer.bias as tf.Tensor1D);
  };
  const normalize = (x: tf.Tensor2D, norm: LayerNorm, record?: Recorder) => {
    if (record) {
      record(norm.gamma, 'scale', norm.normalized(x));
      record(norm.beta, 'shift');
    }
    return norm.apply(x);
  };

  const forward = (x: tf.Tensor, record?: Recorder) => {
    const images = tf.reshape(x, [-1, height, imageWidth, channels]);
    const batch = images.shape[0] as number;
    // [N, H, W, C] → [N·T, p·p·C], each row one patch in (row, column, channel) order.
    const patches = tf.reshape(
      tf.transpose(tf.reshape(images, [batch, rows, patchSize, cols, patchSize, channels]), [0, 1, 3, 2, 4, 5]),
      [batch * tokens, geometry.patchFeatures],
    ) as tf.Tensor2D;
    const embedded = linear(patches, patch, record);
    record?.(position, 'shift');
    // Broadcast over the batch; its gradient sums over the batch axis (a small reduction).
    let h = tf.reshape(tf.add(tf.reshape(embedded, [batch, tokens, width]), position), [
      batch * tokens,
      width,
    ]) as tf.Tensor2D;
    for (const block of blocks) {
      const attended = normalize(h, block.ln1, record);
      const weights: AttentionWeights = {
        query: block.attention.query.kernel as tf.Tensor2D,
        key: block.attention.key.kernel as tf.Tensor2D,
        value: block.attention.value.kernel as tf.Tensor2D,
        output: block.attention.output.kernel as tf.Tensor2D,
        queryBias: block.attention.query.bias as tf.Tensor1D,
        keyBias: block.attention.key.bias as tf.Tensor1D,
        valueBias: block.attention.value.bias as tf.Tensor1D,
        outputBias: block.attention.output.bias as tf.Tensor1D,
      };
      const { output, context } = selfAttention(attended, weights, { batch, tokens, heads, scale });
      if (record) {
        for (const projection of ['query', 'key', 'value'] as const) {
          record(block.attention[projection].kernel, 'matmul', attended);
          record(block.attention[projection].bias, 'shift');
        }
        record(block.attention.output.kernel, 'matmul', context);
        record(block.attention.output.bias, 'shift');
      }
      h = tf.add(h, output);
      const hiddenUnits = gelu(linear(normalize(h, block.ln2, record), block.fc1, record));
      h = tf.add(h, linear(hiddenUnits, block.fc2, record));
    }
    const pooled = tf.mean(tf.reshape(normalize(h, finalNorm, record), [batch, tokens, width]), 1) as tf.Tensor2D;
    return linear(pooled, readout, record);
  };

  return {
    name: 'vit',
    specs,
    trainableVariables,
    allVariables: trainableVariables,
    apply: (x) => tf.tidy(() => forward(x)),
    loss: (x, labels) => tf.tidy(() => softmaxCrossEntropy(forward(x), labels)),
    measuredLayers: (x) => {
      const layers: MeasuredLayer[] = [];
      tf.tidy(() => {
        const inputs: tf.Tensor[] = [];
        forward(x, (variable, kind, input) => {
          if (input) inputs.push(input);
          layers.push(input ? { variableName: variable.name, kind, input } : { variableName: variable.name, kind });
        });
        // tidy keeps exactly the tensors it returns: the inputs the layers refer to.
        return inputs;
      });
      return layers;
    },
    dispose: () => {
      for (const variable of trainableVariables) variable.dispose();
    },
  };
}
