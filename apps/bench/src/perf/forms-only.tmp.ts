import { initBackend } from '@mup2/core';
import { measureLayerForms } from './layer-timings.js';
await initBackend({ backend: process.env.B ?? 'wasm', log: () => {} });
for (const c of measureLayerForms(Number(process.env.ROUNDS ?? 9))) if (['columnSums', 'logSoftmax', 'gelu'].includes(c.layer)) console.log(c.layer, c.label, JSON.stringify(Object.fromEntries(Object.entries(c.milliseconds).map(([k, v]) => [k, +v.toFixed(2)]))));
