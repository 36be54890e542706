import type { DatasetName } from '../datasets/image-dataset.js';
import { MLP_REFERENCE_WIDTH, type ModelName, VIT_HEADS, VIT_REFERENCE_WIDTH } from '../models/create-model.js';
import { RESNET18_STAGE_CHANNELS } from '../models/resnet.js';

/** [height, width, channels] and classes of each data set, known without loading it. */
export const DATASET_GEOMETRY: Readonly<
  Record<DatasetName, { readonly imageShape: readonly [number, number, number]; readonly classes: number }>
> = {
  mnist: { imageShape: [28, 28, 1], classes: 10 },
  'fashion-mnist': { imageShape: [28, 28, 1], classes: 10 },
  cifar10: { imageShape: [32, 32, 3], classes: 10 },
};

/** What the estimate needs of a run's config. */
export interface MemoryEstimateInput {
  readonly model: ModelName;
  readonly widthMult: number;
  readonly dataset: DatasetName;
  readonly batch: number;
  readonly optimizer: 'sgd' | 'adam';
  /** SGD momentum (0: no momentum buffer). */
  readonly momentum: number;
  /** 'sgd' (no perturbation) or a perturbation rule. */
  readonly rule: string;
}

export interface MemoryEstimate {
  /** Trainable scalars, as the model will have them. */
  readonly parameters: number;
  /** Weights and what training keeps per weight: gradients, optimizer state, SAM's perturbation and saved weights. */
  readonly parameterBytes: number;
  /** Activations of one batch that the backward pass keeps, with their gradients. */
  readonly activationBytes: number;
  readonly totalBytes: number;
}

/** Trainable scalars and activations kept per example (float32 values) of one architecture. */
interface ModelSize {
  readonly parameters: number;
  readonly activationsPerExample: number;
}

// Per layer output, the tensors a training step keeps alive for the backward pass and the gradient
// flowing back through it: matmul output, the gain's product, ReLU output, its mask (MLP); conv output,
// BN's normalised value and output, ReLU output and the gradient (ResNet). ViT's are counted per product.
const MLP_TENSORS_PER_LAYER = 4;
const CONV_TENSORS_PER_LAYER = 5;
/**
 * Peak resident memory per example of a training step, measured, over the count above: the
 * backends keep more than the layers' outputs (both passes of SAM, op workspaces, allocator slack).
 * Measured as the growth of peak RSS from batch 32 to 128 (zoo train, SAM, 1 epoch of 256 MNIST
 * images): ResNet-18 ×0.5 11.4 MB per example on tensorflow, 20.6 MB on wasm (counted 4.6 MB);
 * ViT ×1 8.9 MB and 12.6 MB (counted 2.7 MB). The larger ratio, wasm's, rounded up.
 */
export const ACTIVATION_OVERHEAD = 4.6;

function mlpSize(widthMult: number, inputs: number, classes: number): ModelSize {
  const width = Math.max(1, Math.round(MLP_REFERENCE_WIDTH * widthMult));
  const depth = 2;
  return {
    // The first dense, depth − 1 square ones, the readout, the norm gain.
    parameters: inputs * width + (depth - 1) * width * width + width * classes + width,
    activationsPerExample: inputs + depth * MLP_TENSORS_PER_LAYER * width + 3 * classes,
  };
}

function resnetSize(
  widthMult: number,
  [height, imageWidth, inChannels]: readonly number[],
  classes: number,
): ModelSize {
  const channels = (stage: number) => Math.max(1, Math.round((RESNET18_STAGE_CHANNELS[stage] as number) * widthMult));
  let parameters = 0;
  let activations = (height as number) * (imageWidth as number) * (inChannels as number);
  let side = [height as number, imageWidth as number];
  const conv = (size: number, cin: number, cout: number, stride: number) => {
    side = side.map((length) => Math.ceil(length / stride));
    parameters += size * size * cin * cout + 2 * cout;
    activations += CONV_TENSORS_PER_LAYER * (side[0] as number) * (side[1] as number) * cout;
  };
  let current = channels(0);
  conv(3, inChannels as number, current, 1);
  for (let stage = 0; stage < RESNET18_STAGE_CHANNELS.length; stage++) {
    const out = channels(stage);
    for (let block = 0; block < 2; block++) {
      const stride = block === 0 && stage > 0 ? 2 : 1;
      const input = side;
      conv(3, current, out, stride);
      conv(3, out, out, 1);
      if (stride !== 1 || current !== out) {
        const after = side;
        side = input;
        conv(1, current, out, stride);
        side = after;
      }
      current = out;
    }
  }
  parameters += current * classes + classes;
  return { parameters, activationsPerExample: activations + 3 * classes };
}

function vitSize(widthMult: number, [height, imageWidth, channels]: readonly number[], classes: number): ModelSize {
  const width = VIT_HEADS * Math.max(1, Math.round((VIT_REFERENCE_WIDTH * widthMult) / VIT_HEADS));
  const patch = 4;
  const depth = 6;
  const hidden = 4 * width;
  const tokens = ((height as number) / patch) * ((imageWidth as number) / patch);
  const patchFeatures = patch * patch * (channels as number);
  const block = 4 * width + 4 * (width * width + width) + (width * hidden + hidden) + (hidden * width + width);
  return {
    parameters: patchFeatures * width + width + tokens * width + depth * block + 2 * width + width * classes + classes,
    // Per block: two LNs (3 each), q, k, v, the attention output and its projection, two residuals (token × width);
    // fc1, GELU and their gradients (token × hidden); scores and softmax with its gradient (heads × token²).
    activationsPerExample:
      tokens * patchFeatures +
      depth * (13 * tokens * width + 4 * tokens * hidden + 3 * VIT_HEADS * tokens * tokens) +
      3 * classes,
  };
}

/**
 * How much memory training a zoo model takes, from its config alone (nothing is allocated): its
 * exact parameter count, times the buffers a step keeps per weight (weights and gradient; SGD's
 * momentum or Adam's two moments; a perturbing rule's ε, the saved weights and the second gradient),
 * plus the activations of one batch that backpropagation keeps, times the overhead measured on the
 * backends (ACTIVATION_OVERHEAD). float32 throughout. The data set comes on top.
 */
export function estimateTrainingMemory(input: MemoryEstimateInput): MemoryEstimate {
  const { imageShape, classes } = DATASET_GEOMETRY[input.dataset];
  const inputs = imageShape[0] * imageShape[1] * imageShape[2];
  const size =
    input.model === 'mlp'
      ? mlpSize(input.widthMult, inputs, classes)
      : input.model === 'resnet18'
        ? resnetSize(input.widthMult, imageShape, classes)
        : vitSize(input.widthMult, imageShape, classes);
  const optimizerState = input.optimizer === 'adam' ? 2 : input.momentum > 0 ? 1 : 0;
  const perturbation = input.rule === 'sgd' ? 0 : 3;
  const parameterBytes = 4 * size.parameters * (2 + optimizerState + perturbation);
  const activationBytes = Math.ceil(4 * input.batch * size.activationsPerExample * ACTIVATION_OVERHEAD);
  return {
    parameters: size.parameters,
    parameterBytes,
    activationBytes,
    totalBytes: parameterBytes + activationBytes,
  };
}
