import { LAYER_FORM_CANDIDATES, type LayerForms, layerFormRuns, layerForms, withLayerForms } from '@mup2/model-zoo';
import * as tf from '@tensorflow/tfjs';
import { callsPerSample, msPerCall } from './interleaved-timer.js';
import { median } from './median.js';
import { createPerfSteps, PERF_MODELS } from './perf-suite.js';

export type ModelStepName = 'mlp' | 'resnet18' | 'vit';

/** The layers with more than one form that each model's step runs through. */
export const MODEL_LAYERS: { readonly [M in ModelStepName]: readonly (keyof LayerForms)[] } = {
  mlp: ['matMul', 'columnSums', 'relu', 'scale', 'crossEntropy', 'logSoftmax'],
  resnet18: ['matMul', 'columnSums', 'relu', 'crossEntropy', 'logSoftmax'],
  vit: ['matMul', 'attention', 'biasAdd', 'columnSums', 'gelu', 'layerNorm', 'crossEntropy', 'logSoftmax'],
};

/** One layer of the step in another form than the backend's choice: `layer=form`. */
export type FormSwap = `${keyof LayerForms}=${string}`;

export interface ModelStepTimes {
  readonly model: ModelStepName;
  readonly label: string;
  readonly batch: number;
  /** Median SGD step milliseconds by backend, with the backend's own layer forms. */
  readonly milliseconds: Record<string, number>;
  /** The same on each non-wasm backend with wasm's layer forms: what the per-backend choice saves. */
  readonly withWasmForms: Record<string, number>;
  /**
   * With `swaps`: by non-wasm backend, the step with one layer in each other form that backend runs
   * (everything else as chosen): what each form choice buys in the whole step.
   */
  readonly withSwaps?: Record<string, Partial<Record<FormSwap, number>>>;
}

/** The single-layer alternatives to `backend`'s forms that `model` runs through and `backend` can run. */
export function formSwaps(
  model: ModelStepName,
  backend: string,
): Array<{ swap: FormSwap; forms: Partial<LayerForms> }> {
  const chosen = layerForms(backend);
  return MODEL_LAYERS[model].flatMap((layer) =>
    (LAYER_FORM_CANDIDATES[layer] as readonly string[])
      .filter((form) => form !== chosen[layer] && layerFormRuns(layer, form as never, backend))
      .map((form) => ({ swap: `${layer}=${form}` as FormSwap, forms: { [layer]: form } as Partial<LayerForms> })),
  );
}

/**
 * The SGD-momentum step of each model on every backend, the backends taken in turn each
 * round (one model and batch per backend, created under it), so a change in the
 * machine's load hits all alike. On each backend other than wasm the step also runs with
 * wasm's layer forms, and with `swaps` with each single-layer alternative of formSwaps.
 */
export async function measureModelSteps(
  models: readonly ModelStepName[],
  backends: readonly string[],
  options: {
    rounds: number;
    warmup: number;
    onRound?: (model: string, round: number) => void;
    /** Also time each non-wasm backend with wasm's layer forms (default true). */
    wasmForms?: boolean;
    /** Also time each non-wasm backend with each single-layer form swap (default false). */
    swaps?: boolean;
  },
): Promise<ModelStepTimes[]> {
  const results: ModelStepTimes[] = [];
  for (const name of models) {
    const perfModel = PERF_MODELS[name];
    const prepared: Array<{ backend: string; kind: string; step: () => void; dispose: () => void }> = [];
    for (const backend of backends) {
      await tf.setBackend(backend);
      const { steps, dispose } = createPerfSteps(perfModel, { rules: [] });
      const sgd = steps.sgd as () => void;
      prepared.push({ backend, kind: 'own', step: sgd, dispose });
      if (backend === 'wasm') continue;
      if (options.wasmForms !== false) {
        const wasmForms = layerForms('wasm');
        prepared.push({ backend, kind: 'wasm-forms', step: () => withLayerForms(wasmForms, sgd), dispose: () => {} });
      }
      if (options.swaps === true) {
        for (const { swap, forms } of formSwaps(name, backend)) {
          prepared.push({ backend, kind: swap, step: () => withLayerForms(forms, sgd), dispose: () => {} });
        }
      }
    }
    const samples = prepared.map(() => [] as number[]);
    // Sized, rotated samples as timeInterleaved takes them (why there); the backend is set per entry, and
    // each sample follows one untimed step: after the other backend's turn, tensorflow's second thread
    // has gone to sleep, and its first step pays the wake-up (docs/performance-log.md, "The second
    // thread, measured step by step").
    const stepsPerSample = prepared.map(() => 1);
    for (let round = 0; round < options.warmup + options.rounds; round++) {
      options.onRound?.(name, round);
      for (let offset = 0; offset < prepared.length; offset++) {
        const index = (offset + round) % prepared.length;
        const entry = prepared[index] as (typeof prepared)[number];
        const steps = stepsPerSample[index] as number;
        await tf.setBackend(entry.backend);
        entry.step();
        const perStep = msPerCall(entry.step, steps);
        if (round >= options.warmup) samples[index]?.push(perStep);
        else stepsPerSample[index] = callsPerSample(perStep);
      }
    }
    for (const entry of prepared) {
      await tf.setBackend(entry.backend);
      entry.dispose();
    }
    const byKind = (kind: string) =>
      Object.fromEntries(
        prepared.flatMap((entry, index) =>
          entry.kind === kind ? [[entry.backend, median(samples[index] ?? [])]] : [],
        ),
      );
    const withSwaps: Record<string, Partial<Record<FormSwap, number>>> = {};
    prepared.forEach((entry, index) => {
      if (entry.kind === 'own' || entry.kind === 'wasm-forms') return;
      withSwaps[entry.backend] ??= {};
      (withSwaps[entry.backend] as Record<string, number>)[entry.kind] = median(samples[index] ?? []);
    });
    results.push({
      model: name,
      label: perfModel.label,
      batch: perfModel.batch,
      milliseconds: byKind('own'),
      withWasmForms: byKind('wasm-forms'),
      ...(options.swaps === true && { withSwaps }),
    });
  }
  return results;
}
