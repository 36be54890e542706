// Runs one job (a training or a coordinate check) off the page's thread, so the page stays
// responsive and draws the curves while TF.js computes; the page stops a job by terminating us.

import { coordCheck } from '@mup2/coord';
import { initBackend, parsePreset } from '@mup2/core';
import {
  createMlp,
  createModel,
  createOptimizer,
  evaluateAccuracy,
  type ImageDataset,
  indexedBatch,
  MLP_REFERENCE_WIDTH,
  resolveTrainConfig,
  trainBatchCount,
  trainBatches,
  trainStep,
} from '@mup2/model-zoo';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { decodeDigits } from './digits-format.js';
import { rules } from './rule-registry.js';
import type { CoordJob, Job, TrainJob, WorkerEvent } from './worker-messages.js';

setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmUrl,
  'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimdUrl,
});

const post = (event: WorkerEvent) => self.postMessage(event);

async function loadDigits(): Promise<ImageDataset> {
  const response = await fetch('/mnist-digits.bin');
  if (!response.ok) throw new Error(`the digits did not load: ${response.status} ${response.statusText}`);
  return decodeDigits(await response.arrayBuffer());
}

async function train(job: TrainJob, dataset: ImageDataset): Promise<void> {
  const started = performance.now();
  const config = resolveTrainConfig(
    {
      model: 'mlp',
      widthMult: job.width / MLP_REFERENCE_WIDTH,
      rule: job.rule,
      preset: job.preset,
      lr: job.lr,
      rho: job.rho,
      epochs: job.epochs,
      batch: job.batch,
      seed: job.seed,
      dataset: 'mnist',
    },
    rules,
  );
  const model = createModel({
    model: 'mlp',
    widthMult: config.widthMult,
    parameterization: parsePreset(config.preset).parameterization,
    imageShape: dataset.imageShape,
    classes: dataset.classes,
    seed: config.seed,
  });
  const optimizer = createOptimizer(config, model, rules);
  const steps = trainBatchCount(dataset, config.batch) * config.epochs;
  const evaluate = async (step: number) => {
    const { accuracy, loss } = await evaluateAccuracy(model, dataset, { batchSize: 500 });
    post({ type: 'evaluation', step, accuracy, loss });
  };
  let step = 0;
  let diverged = false;
  await evaluate(0);
  for (let epoch = 0; epoch < config.epochs && !diverged; epoch++) {
    for (const batch of trainBatches(dataset, { batchSize: config.batch, seed: config.seed, epoch })) {
      const stepStarted = performance.now();
      const outcome = await trainStep(model, optimizer, batch);
      const examples = batch.y.shape[0];
      tf.dispose([batch.x, batch.y]);
      step += 1;
      const milliseconds = performance.now() - stepStarted;
      post({ type: 'step', step, steps, loss: outcome.loss, accuracy: outcome.correct / examples, milliseconds });
      if (!Number.isFinite(outcome.loss)) {
        diverged = true;
        break;
      }
      if (step % job.evaluateEvery === 0 || step === steps) await evaluate(step);
    }
  }
  optimizer.dispose();
  model.dispose();
  post({ type: 'done', seconds: (performance.now() - started) / 1000, diverged });
}

async function runCoordCheck(job: CoordJob, dataset: ImageDataset): Promise<void> {
  const started = performance.now();
  const baseWidth = Math.min(...job.widths);
  const inputSize = dataset.imageShape.reduce((product, size) => product * size, 1);
  const result = await coordCheck({
    model: (width, { seed, parameterization }) =>
      createMlp({ inputSize, width, baseWidth, classes: dataset.classes, parameterization, seed }),
    widths: job.widths,
    rule: (scaling) => rules.create(job.rule, { rho: job.rho, scaling }),
    presets: job.presets,
    data: (index) => indexedBatch(dataset, index, job.batch),
    steps: job.steps,
    seeds: job.seeds,
    learningRate: job.learningRate,
    onProgress: (done, total, label) => post({ type: 'coord-progress', done, total, label }),
  });
  post({ type: 'coord-done', result, seconds: (performance.now() - started) / 1000 });
}

self.onmessage = async (message: MessageEvent<Job>) => {
  const job = message.data;
  try {
    const [backend, dataset] = await Promise.all([
      initBackend({ backend: job.backend === 'auto' ? undefined : job.backend, log: () => {} }),
      loadDigits(),
    ]);
    post({ type: 'ready', backend, trainCount: dataset.train.count, testCount: dataset.test.count });
    if (job.kind === 'train') await train(job, dataset);
    else await runCoordCheck(job, dataset);
  } catch (error) {
    post({ type: 'error', message: error instanceof Error ? error.message : String(error) });
  }
};
