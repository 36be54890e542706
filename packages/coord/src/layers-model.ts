import {
  describeParams,
  InvalidOptionError,
  type LayerLike,
  muInit,
  type Parameterization,
  type ParamSpec,
} from '@mup2/core';
import * as tf from '@tensorflow/tfjs-core';
import type { CoordLayer, CoordModel } from './coord-model.js';

/** What the adapter reads of a tfjs-layers weight (a LayerVariable). */
interface LayerWeight {
  read(): tf.Tensor;
  readonly name: string;
  readonly shape: readonly (number | null)[];
  readonly trainable: boolean;
}

/** What the adapter reads of a tfjs-layers layer. */
interface Layer {
  readonly name: string;
  getClassName(): string;
  getConfig(): object;
  readonly trainableWeights: readonly LayerWeight[];
  call(inputs: tf.Tensor | tf.Tensor[], kwargs: object): tf.Tensor | tf.Tensor[];
  readonly layers?: readonly Layer[];
}

/** What the adapter reads of a tfjs-layers model (`tf.LayersModel`, `tf.Sequential`). */
export interface LayersModelLike extends LayerLike {
  readonly layers: readonly Layer[];
  readonly trainableWeights: readonly LayerWeight[];
  readonly nonTrainableWeights: readonly LayerWeight[];
  apply(inputs: tf.Tensor | tf.Tensor[], kwargs?: { training?: boolean }): unknown;
  dispose(): unknown;
}

/** `loss(labels, outputs)`: the mean loss of a batch from the model's outputs. */
export type LayersLoss = (labels: tf.Tensor, outputs: tf.Tensor) => tf.Scalar;

export interface FromLayersModelOptions {
  /** The same architecture at µP's base width: a dimension that differs from it grows with width. */
  readonly base: LayersModelLike;
  /** The architecture at a third width, needed when `model` may be at the base width itself (mup's `delta`). */
  readonly delta?: LayersModelLike;
  /** 'mup' (default) applies `muInit` to the model's readout; 'sp' leaves the initialisation alone. */
  readonly parameterization?: Parameterization;
  /** µP readout initialisation: 'scaled' (default) or 'zero'. */
  readonly readout?: 'scaled' | 'zero';
  /**
   * Default: softmax cross-entropy against integer labels [batch] or one-hot labels
   * [batch, classes], on logits, or on probabilities when the last layer's activation is softmax.
   */
  readonly loss?: LayersLoss;
}

/** Dense and Conv2D kernels and biases, BatchNormalization and LayerNormalization gains and offsets. */
const MEASURED_CLASSES = new Set(['Dense', 'Conv2D', 'BatchNormalization', 'LayerNormalization']);

/** The leaf layers of a model, in order (a nested model's layers in place of it). */
function leafLayers(layers: readonly Layer[]): Layer[] {
  return layers.flatMap((layer) => (layer.layers && layer.layers.length > 0 ? leafLayers(layer.layers) : [layer]));
}

/** tfjs-layers' automatic names end in `_ClassName<n>`, a counter that differs between two builds. */
const AUTOMATIC_NAME = /_[A-Z][A-Za-z0-9]*?\d+$/;

function labels(layers: readonly Layer[]): Map<Layer, string> {
  const counts = new Map<string, number>();
  return new Map(
    layers.map((layer) => {
      const className = layer.getClassName();
      const count = (counts.get(className) ?? 0) + 1;
      counts.set(className, count);
      return [layer, AUTOMATIC_NAME.test(layer.name) ? `${className.toLowerCase()}${count}` : layer.name];
    }),
  );
}

function weightKind(layer: Layer, weight: LayerWeight): 'kernel' | 'bias' | 'gamma' | 'beta' | undefined {
  const name = weight.name.split('/').pop() ?? '';
  for (const kind of ['kernel', 'bias', 'gamma', 'beta'] as const) if (name.startsWith(kind)) return kind;
  throw new InvalidOptionError(
    `fromLayersModel: weight '${weight.name}' of ${layer.getClassName()} layer '${layer.name}' is not a kernel, bias, gamma or beta.`,
  );
}

/** The normalised input x̂ of a BatchNormalization or LayerNormalization layer, with batch statistics. */
function normalized(layer: Layer, input: tf.Tensor): tf.Tensor {
  const config = layer.getConfig() as { axis?: number | number[]; epsilon?: number };
  const rank = input.rank;
  const featureAxes = (Array.isArray(config.axis) ? config.axis : [config.axis ?? -1]).map((axis) =>
    axis < 0 ? rank + axis : axis,
  );
  // BatchNormalization normalises over every axis but its feature axis; LayerNormalization over its axes.
  const axes =
    layer.getClassName() === 'BatchNormalization'
      ? Array.from({ length: rank }, (_, axis) => axis).filter((axis) => !featureAxes.includes(axis))
      : featureAxes;
  const { mean, variance } = tf.moments(input, axes, true);
  return tf.div(tf.sub(input, mean), tf.sqrt(tf.add(variance, config.epsilon ?? 1e-3)));
}

function measuredLayer(layer: Layer, weight: LayerWeight, input: tf.Tensor, label: string): CoordLayer | undefined {
  const variableName = (weight.read() as tf.Variable).name;
  const kind = weightKind(layer, weight);
  const name = `${label}/${kind}`;
  if (kind === 'bias' || kind === 'beta') return { variableName, kind: 'shift', label: name };
  if (kind === 'gamma') return { variableName, kind: 'scale', input: normalized(layer, input), label: name };
  if (layer.getClassName() === 'Dense') return { variableName, kind: 'matmul', input: input.clone(), label: name };
  const config = layer.getConfig() as {
    strides?: number | number[];
    padding?: string;
    dilationRate?: number | number[];
    dataFormat?: string;
  };
  if (config.dataFormat === 'channelsFirst') {
    throw new InvalidOptionError(
      `fromLayersModel: Conv2D layer '${layer.name}' is channelsFirst; the coordinate check reads channelsLast convolutions.`,
    );
  }
  if (config.padding !== 'valid' && config.padding !== 'same') {
    throw new InvalidOptionError(
      `fromLayersModel: Conv2D layer '${layer.name}' has padding '${config.padding}'; expected 'valid' or 'same'.`,
    );
  }
  const pair = (value: number | number[] | undefined) =>
    (Array.isArray(value) ? value : [value ?? 1, value ?? 1]) as [number, number];
  return {
    variableName,
    kind: 'conv2d',
    input: input.clone(),
    label: name,
    conv: { strides: pair(config.strides), padding: config.padding, dilations: pair(config.dilationRate) },
  };
}

function defaultLoss(lastLayer: Layer | undefined): LayersLoss {
  const activation = (lastLayer?.getConfig() as { activation?: string } | undefined)?.activation;
  const probabilities = activation === 'softmax';
  return (labels, outputs) =>
    tf.tidy(() => {
      const classes = outputs.shape[outputs.shape.length - 1] as number;
      const oneHot = labels.rank === outputs.rank ? labels : tf.oneHot(tf.cast(labels, 'int32'), classes);
      const logProbabilities = probabilities
        ? tf.log(tf.clipByValue(outputs, 1e-7, 1))
        : tf.sub(outputs, tf.logSumExp(outputs, -1, true));
      return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, logProbabilities), -1))) as tf.Scalar;
    });
}

/**
 * A tfjs-layers model as a CoordModel: ParamSpecs from its base-width copy (`describeParams`),
 * µP initialisation of the readout unless `parameterization: 'sp'`, and every Dense and Conv2D
 * kernel and bias and every BatchNormalization and LayerNormalization gain and offset measured
 * (a conv kernel as `tf.conv2d` of its input, the im2col view). Other layers with weights
 * (Embedding, DepthwiseConv2D, recurrent layers) are trained but not measured.
 *
 * Measuring runs the model once in training mode (batch statistics in BatchNorm) and puts its
 * non-trainable weights (BatchNorm's moving statistics) back as they were. `base` and `delta`
 * are only read for their shapes; they stay the caller's. `dispose` disposes `model`.
 */
export function fromLayersModel(model: LayersModelLike, options: FromLayersModelOptions): CoordModel {
  const specs: ParamSpec[] = describeParams(model, options.base, options.delta);
  if ((options.parameterization ?? 'mup') === 'mup') muInit(specs, { readout: options.readout ?? 'scaled' });
  const layers = leafLayers(model.layers);
  const loss = options.loss ?? defaultLoss(layers.at(-1));
  const names = labels(layers);
  const output = (x: tf.Tensor, training: boolean) => {
    const result = model.apply(x, { training });
    if (!(result instanceof tf.Tensor)) {
      throw new InvalidOptionError('fromLayersModel: the model must have one input and one output tensor.');
    }
    return result;
  };
  return {
    specs,
    loss: (x, labels, lossOptions) => tf.tidy(() => loss(labels, output(x, lossOptions?.training ?? false))),
    measuredLayers: (x) => {
      const measured: CoordLayer[] = [];
      const saved = model.nonTrainableWeights.map((weight) => tf.clone(weight.read()));
      const restored: Array<() => void> = [];
      for (const layer of layers) {
        if (!MEASURED_CLASSES.has(layer.getClassName()) || layer.trainableWeights.length === 0) continue;
        const original = layer.call;
        const ownCall = Object.hasOwn(layer, 'call');
        // Every call of a layer in a forward pass goes through its own `call`; recording it there
        // sees the input the layer gets in training mode, in a Sequential or a functional model.
        const recording = Object.assign(layer, {
          call(inputs: tf.Tensor | tf.Tensor[], kwargs: object) {
            const input = Array.isArray(inputs) ? (inputs[0] as tf.Tensor) : inputs;
            for (const weight of layer.trainableWeights) {
              // Inside the forward pass's tidy: intermediates go with it, the kept input stays.
              const entry = measuredLayer(layer, weight, input, names.get(layer) as string);
              if (entry?.input) tf.keep(entry.input);
              if (entry) measured.push(entry);
            }
            return original.call(layer, inputs, kwargs);
          },
        });
        restored.push(() => {
          if (ownCall) recording.call = original;
          else delete (recording as { call?: unknown }).call;
        });
      }
      try {
        tf.tidy(() => {
          output(x, true);
        });
      } finally {
        for (const restore of restored) restore();
        // Training mode moved BatchNorm's moving statistics: measuring must not change the model.
        model.nonTrainableWeights.forEach((weight, index) => {
          (weight.read() as tf.Variable).assign(saved[index] as tf.Tensor);
        });
        tf.dispose(saved);
      }
      return measured;
    },
    dispose: () => {
      model.dispose();
    },
  };
}
