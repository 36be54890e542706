import { type MeasuredLayer, muInit, type Parameterization } from '@mup2/core';
import * as tf from '@tensorflow/tfjs';
import { BatchNorm, type BatchNormOptions } from '../layers/batch-norm.js';
import { biasAdd } from '../layers/bias-add.js';
import { conv2d } from '../layers/conv2d.js';
import { fastMatMul } from '../layers/fast-matmul.js';
import { softmaxCrossEntropy } from '../layers/log-softmax.js';
import { relu } from '../layers/relu.js';
import { type ParamShape, specsFromLayout } from './param-layout.js';
import type { ZooModel } from './zoo-model.js';

/** Channels of the four stages at width multiplier 1 (He et al. 2016). */
export const RESNET18_STAGE_CHANNELS = [64, 128, 256, 512] as const;
/** µP's base width multiplier of ResNet-18, as in the paper's µP ResNets: below it µP is a narrower-than-base model. */
export const RESNET18_BASE_WIDTH_MULT = 0.5;
const STAGE_STRIDES = [1, 2, 2, 2] as const;
const BLOCKS_PER_STAGE = 2;

export interface ResnetOptions {
  /** [height, width, channels] of the input images. */
  readonly imageShape: readonly [number, number, number];
  readonly classes: number;
  /** k: the stages have 64k, 128k, 256k, 512k channels. Default 1. */
  readonly widthMult?: number;
  /** µP's base width multiplier: the model equals SP there. Default 0.5, as the paper's µP ResNets. */
  readonly baseWidthMult?: number;
  /** 'mup' applies muInit (zero or scaled readout); 'sp' keeps the standard initialisation. Default 'mup'. */
  readonly parameterization?: Parameterization;
  /** µP readout initialisation. Default 'zero' (the paper's ResNets). */
  readonly readout?: 'scaled' | 'zero';
  readonly batchNorm?: BatchNormOptions;
  readonly seed?: number;
}

interface ConvPlan {
  readonly name: string;
  readonly size: number;
  readonly inChannels: number;
  readonly outChannels: number;
  readonly stride: number;
}

interface BlockPlan {
  readonly conv1: ConvPlan;
  readonly conv2: ConvPlan;
  /** A 1×1 projection where the block changes resolution or channels. */
  readonly shortcut?: ConvPlan;
}

interface ResnetPlan {
  readonly stem: ConvPlan;
  readonly blocks: BlockPlan[];
  readonly features: number;
}

function stageChannels(widthMult: number, stage: number): number {
  return Math.max(1, Math.round((RESNET18_STAGE_CHANNELS[stage] as number) * widthMult));
}

/** ResNet-18 for small images: a 3×3 stem, no max-pool, four stages of two BasicBlocks. */
function resnetPlan(widthMult: number, inChannels: number): ResnetPlan {
  const stem: ConvPlan = { name: 'stem', size: 3, inChannels, outChannels: stageChannels(widthMult, 0), stride: 1 };
  const blocks: BlockPlan[] = [];
  let channels = stem.outChannels;
  STAGE_STRIDES.forEach((stageStride, stage) => {
    const outChannels = stageChannels(widthMult, stage);
    for (let block = 0; block < BLOCKS_PER_STAGE; block++) {
      const name = `stage${stage + 1}/block${block + 1}`;
      const stride = block === 0 ? stageStride : 1;
      // Every stage after the first has stride 2 in its first block, so which blocks project does not depend on width.
      const project = stride !== 1 || channels !== outChannels;
      blocks.push({
        conv1: { name: `${name}/conv1`, size: 3, inChannels: channels, outChannels, stride },
        conv2: { name: `${name}/conv2`, size: 3, inChannels: outChannels, outChannels, stride: 1 },
        ...(project
          ? { shortcut: { name: `${name}/shortcut`, size: 1, inChannels: channels, outChannels, stride } }
          : {}),
      });
      channels = outChannels;
    }
  });
  return { stem, blocks, features: channels };
}

function planConvs(plan: ResnetPlan): ConvPlan[] {
  return [
    plan.stem,
    ...plan.blocks.flatMap((block) => [block.conv1, block.conv2, ...(block.shortcut ? [block.shortcut] : [])]),
  ];
}

function resnetLayout(widthMult: number, inChannels: number, classes: number): ParamShape[] {
  const plan = resnetPlan(widthMult, inChannels);
  return [
    ...planConvs(plan).flatMap((conv) => [
      { name: `${conv.name}/kernel`, shape: [conv.size, conv.size, conv.inChannels, conv.outChannels] },
      { name: `${conv.name}/bn/gamma`, shape: [conv.outChannels], norm: true },
      { name: `${conv.name}/bn/beta`, shape: [conv.outChannels], norm: true },
    ]),
    { name: 'readout/kernel', shape: [plan.features, classes] },
    { name: 'readout/bias', shape: [classes] },
  ];
}

interface ConvLayer {
  readonly plan: ConvPlan;
  readonly kernel: tf.Variable;
  readonly norm: BatchNorm;
}

interface ForwardMode {
  readonly training: boolean;
  readonly updateStatistics: boolean;
}

/** What the coordinate check needs from one forward pass: each conv's input and its output before BN. */
interface ConvRecord {
  readonly layer: ConvLayer;
  readonly input: tf.Tensor4D;
  readonly output: tf.Tensor4D;
}

let instances = 0;

/**
 * ResNet-18, CIFAR variant (3×3 stride-1 stem, no max-pool; stages of 64k,
 * 128k, 256k, 512k channels with strides 1, 2, 2, 2; two BasicBlocks each;
 * 1×1 projection shortcuts with BN; BN after every conv; global average pool;
 * dense readout with bias), built from the zoo's wasm-trainable conv2d and
 * BatchNorm. SP: He-normal convs, Glorot-uniform readout (Keras' Dense
 * default). µP (DESIGN.md §4): roles from the shapes at the base width
 * multiplier and at twice it; the readout starts at zero (muInit), as the
 * paper's µP ResNets. BN gains and offsets are `norm` parameters.
 *
 * `apply` and `loss` run in inference mode unless `training: true`; training
 * mode normalises with batch statistics and updates BN's moving statistics.
 * `measuredLayers` uses batch statistics without updating them, and returns each
 * conv as a 'conv2d' layer with its image input [N, H, W, cin] (the im2col view,
 * computed as a convolution rather than with kh·kw times the activation's memory).
 */
export function createResnet18(options: ResnetOptions): ZooModel {
  const [height, width, inChannels] = options.imageShape;
  const { classes } = options;
  const widthMult = options.widthMult ?? 1;
  const baseWidthMult = options.baseWidthMult ?? RESNET18_BASE_WIDTH_MULT;
  for (const [what, value] of [
    ['widthMult', widthMult],
    ['baseWidthMult', baseWidthMult],
  ] as const) {
    if (!(Number.isFinite(value) && value > 0)) throw new Error(`createResnet18: ${what} must be > 0, got ${value}.`);
  }
  const seed = options.seed ?? 0;
  const prefix = `resnet18_${instances++}_k${widthMult}`;
  // Offsets start at 1: TF.js treats a seed of 0 as no seed at all (Math.random), so seed 0 must not reach it.
  let seedOffset = 0;
  const nextSeed = () => seed * 1000 + ++seedOffset;

  const plan = resnetPlan(widthMult, inChannels);
  const variables = new Map<string, tf.Variable>();
  const own = (name: string, variable: tf.Variable) => {
    variables.set(name, variable);
    return variable;
  };
  const convLayer = (conv: ConvPlan): ConvLayer => {
    const fanIn = conv.size * conv.size * conv.inChannels;
    const kernel = own(
      `${conv.name}/kernel`,
      tf.tidy(() =>
        tf.variable(
          tf.randomNormal(
            [conv.size, conv.size, conv.inChannels, conv.outChannels],
            0,
            Math.sqrt(2 / fanIn),
            'float32',
            nextSeed(),
          ),
          true,
          `${prefix}/${conv.name}/kernel`,
        ),
      ),
    );
    const norm = new BatchNorm(`${prefix}/${conv.name}/bn`, conv.outChannels, options.batchNorm);
    own(`${conv.name}/bn/gamma`, norm.gamma);
    own(`${conv.name}/bn/beta`, norm.beta);
    return { plan: conv, kernel, norm };
  };
  const stem = convLayer(plan.stem);
  const blocks = plan.blocks.map((block) => ({
    conv1: convLayer(block.conv1),
    conv2: convLayer(block.conv2),
    shortcut: block.shortcut ? convLayer(block.shortcut) : undefined,
  }));
  const limit = Math.sqrt(6 / (plan.features + classes));
  const readout = own(
    'readout/kernel',
    tf.tidy(() =>
      tf.variable(
        tf.randomUniform([plan.features, classes], -limit, limit, 'float32', nextSeed()),
        true,
        `${prefix}/readout/kernel`,
      ),
    ),
  );
  const readoutBias = own(
    'readout/bias',
    tf.tidy(() => tf.variable(tf.zeros([classes]), true, `${prefix}/readout/bias`)),
  );

  const layout = (k: number) => resnetLayout(k, inChannels, classes);
  const specs = specsFromLayout(variables, layout, baseWidthMult, 2 * baseWidthMult);
  if ((options.parameterization ?? 'mup') === 'mup') muInit(specs, { readout: options.readout ?? 'zero' });

  const convLayers = [
    stem,
    ...blocks.flatMap((block) => [block.conv1, block.conv2, ...(block.shortcut ? [block.shortcut] : [])]),
  ];
  const trainableVariables = [...variables.values()];
  const allVariables = [
    ...trainableVariables,
    ...convLayers.flatMap((layer) => [layer.norm.movingMean, layer.norm.movingVariance]),
  ];

  const forward = (x: tf.Tensor, mode: ForwardMode, record?: (entry: ConvRecord) => void) => {
    const convBn = (layer: ConvLayer, input: tf.Tensor4D) => {
      const output = conv2d(input, layer.kernel as tf.Tensor4D, { stride: layer.plan.stride });
      record?.({ layer, input, output });
      return layer.norm.apply(output, mode);
    };
    let h = relu(convBn(stem, tf.reshape(x, [-1, height, width, inChannels]) as tf.Tensor4D));
    for (const block of blocks) {
      const residual = convBn(block.conv2, relu(convBn(block.conv1, h)));
      const shortcut = block.shortcut ? convBn(block.shortcut, h) : h;
      h = relu(tf.add(residual, shortcut)) as tf.Tensor4D;
    }
    const pooled = tf.mean(h, [1, 2]) as tf.Tensor2D;
    return { pooled, logits: biasAdd(fastMatMul(pooled, readout as tf.Tensor2D), readoutBias as tf.Tensor1D) };
  };
  const modeOf = (options?: { training?: boolean }): ForwardMode => {
    const training = options?.training ?? false;
    return { training, updateStatistics: training };
  };

  return {
    name: 'resnet18',
    specs,
    trainableVariables,
    allVariables,
    apply: (x, applyOptions) => tf.tidy(() => forward(x, modeOf(applyOptions)).logits),
    loss: (x, labels, lossOptions) =>
      tf.tidy(() => softmaxCrossEntropy(forward(x, modeOf(lossOptions)).logits, labels)),
    measuredLayers: (x) => {
      const layers: MeasuredLayer[] = [];
      // tidy keeps exactly the tensors it returns: the inputs the layers refer to.
      tf.tidy(() => {
        const inputs: tf.Tensor[] = [];
        const { pooled } = forward(x, { training: true, updateStatistics: false }, ({ layer, input, output }) => {
          const normalized = layer.norm.normalized(output, { training: true });
          inputs.push(input, normalized);
          layers.push(
            {
              variableName: layer.kernel.name,
              kind: 'conv2d',
              input,
              conv: { strides: layer.plan.stride, padding: 'same' },
            },
            { variableName: layer.norm.gamma.name, kind: 'scale', input: normalized },
            { variableName: layer.norm.beta.name, kind: 'shift' },
          );
        });
        inputs.push(pooled);
        layers.push(
          { variableName: readout.name, kind: 'matmul', input: pooled },
          { variableName: readoutBias.name, kind: 'shift' },
        );
        return inputs;
      });
      return layers;
    },
    dispose: () => {
      for (const variable of allVariables) variable.dispose();
    },
  };
}
