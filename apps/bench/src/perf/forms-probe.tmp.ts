import { initBackend } from '@mup2/core';
import { withLayerForms, type LayerForms } from '@mup2/model-zoo';
import { timeInterleaved } from './interleaved-timer.js';
import { createPerfSteps, type PerfModel, PERF_MODELS } from './perf-suite.js';
await initBackend({ backend: process.env.B ?? 'wasm', log: () => {} });
const variants: Record<string, Partial<LayerForms>> = JSON.parse(process.env.V ?? '{}');
const models: Record<string, PerfModel> = { mlp: PERF_MODELS.mlp, vit: PERF_MODELS.vit, resnet: { ...PERF_MODELS.resnet18, label: 'resnet ×0.25', widthMult: 0.25 } };
for (const name of (process.env.M ?? 'mlp,vit,resnet').split(',')) {
  const { steps, dispose } = createPerfSteps(models[name]!, { rules: [] });
  const sgd = steps.sgd!;
  const timed = Object.fromEntries([['default', sgd], ...Object.entries(variants).map(([k, v]) => [k, () => withLayerForms(v, sgd)])]);
  const t = timeInterleaved(timed, { warmup: 2, rounds: Number(process.env.ROUNDS ?? 9) });
  console.log(name.padEnd(8), Object.entries(t).map(([k, v]) => `${k} ${v.toFixed(1)} (${(v / t.default!).toFixed(2)})`).join('  '));
  dispose();
}
