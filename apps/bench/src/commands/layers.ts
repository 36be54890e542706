import { join } from 'node:path';
import { initBackend } from '@mup2/core';
import { type LayerForms, layerForms, writeFileAtomically } from '@mup2/model-zoo';
import * as tf from '@tensorflow/tfjs';
import type { Command } from 'commander';
import { nameList, positiveInteger } from '../cli-options.js';
import { type LayerCase, measureLayerForms } from '../perf/layer-timings.js';
import {
  type FormSwap,
  type ModelStepName,
  type ModelStepTimes,
  measureModelSteps,
} from '../perf/model-step-timings.js';
import { createResultsDir } from '../results-dir.js';

const MODELS: ModelStepName[] = ['mlp', 'resnet18', 'vit'];

interface LayersOptions {
  backends?: string[];
  models: ModelStepName[];
  rounds: number;
  warmup: number;
  swaps: boolean;
  out?: string;
}

const format = (ms: number | undefined) => (ms === undefined ? '–' : ms >= 100 ? ms.toFixed(0) : ms.toFixed(2));

/** Backends that initialise here, in the order asked; by default wasm and, when installed, tensorflow. */
async function usableBackends(requested: readonly string[] | undefined): Promise<string[]> {
  const usable: string[] = [];
  for (const backend of requested ?? ['wasm', 'tensorflow']) {
    try {
      await initBackend({ backend, log: () => {} });
      usable.push(backend);
    } catch (error) {
      if (requested) throw error;
      process.stderr.write(
        `layers: backend ${backend} skipped (${error instanceof Error ? error.message : String(error)})\n`,
      );
    }
  }
  return usable;
}

function formsTable(backend: string, cases: readonly LayerCase[]): string[] {
  const chosen = layerForms(backend);
  const lines = [
    `#### ${backend}`,
    '',
    '| layer | case | forms, ms (★ fastest, ← used on this backend) | reference, ms |',
    '|---|---|---|---|',
  ];
  for (const entry of cases) {
    const times = Object.entries(entry.milliseconds);
    const fastest = times.reduce((best, item) => (item[1] < best[1] ? item : best), times[0] ?? ['', Infinity]);
    const used = entry.layer in chosen ? chosen[entry.layer as keyof LayerForms] : undefined;
    const forms = times
      .map(([form, ms]) => `${form} ${format(ms)}${form === fastest[0] ? ' ★' : ''}${form === used ? ' ←' : ''}`)
      .join(' · ');
    const reference = Object.entries(entry.reference ?? {})
      .map(([name, ms]) => `${name} ${format(ms)}`)
      .join(' · ');
    lines.push(`| ${entry.layer} | ${entry.label} | ${forms} | ${reference || '–'} |`);
  }
  return lines;
}

function modelTable(backends: readonly string[], results: readonly ModelStepTimes[]): string[] {
  const others = backends.filter((backend) => backend !== 'wasm');
  const header = [
    'model (batch)',
    ...backends.map((backend) => `${backend} ms`),
    ...others.map((backend) => `${backend} with wasm's forms, ms`),
    ...(backends.includes('wasm') ? others.map((backend) => `wasm / ${backend}`) : []),
  ];
  const lines = [
    `| ${header.join(' | ')} |`,
    `|---|${header
      .slice(1)
      .map(() => '---:')
      .join('|')}|`,
  ];
  for (const result of results) {
    const cells = [
      `${result.label} (${result.batch})`,
      ...backends.map((backend) => format(result.milliseconds[backend])),
      ...others.map((backend) => format(result.withWasmForms[backend])),
      ...(backends.includes('wasm')
        ? others.map((backend) => {
            const wasm = result.milliseconds.wasm;
            const other = result.milliseconds[backend];
            return wasm && other ? `${(wasm / other).toFixed(1)}×` : '–';
          })
        : []),
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines;
}

/** Each model's step with one layer in another form, against the backend's own choice. */
function swapsTable(results: readonly ModelStepTimes[]): string[] {
  const lines = ['| model (batch) | backend | layer = form | ms | / chosen forms |', '|---|---|---|---:|---:|'];
  for (const result of results) {
    for (const [backend, swaps] of Object.entries(result.withSwaps ?? {})) {
      const chosen = result.milliseconds[backend];
      lines.push(`| ${result.label} (${result.batch}) | ${backend} | as chosen | ${format(chosen)} | 1.00 |`);
      for (const [swap, ms] of Object.entries(swaps) as Array<[FormSwap, number]>) {
        const ratio = chosen ? (ms / chosen).toFixed(2) : '–';
        lines.push(
          `| ${result.label} (${result.batch}) | ${backend} | ${swap.replace('=', ' = ')} | ${format(ms)} | ${ratio} |`,
        );
      }
    }
  }
  return lines;
}

export function registerLayersCommand(program: Command): void {
  program
    .command('layers')
    .description(
      "Times every candidate form of the zoo's layers (matMul gradients, attention products, row sums, GELU, " +
        'log softmax; conv2d in its one form; norms against the stock composition) on each backend, and the SGD step of the MLP, ResNet-18 ×1 ' +
        "and the ViT on each backend, the backends in turn each round. The layers' per-backend choice (layerForms) " +
        'comes from these tables (docs/performance.md).',
    )
    .option(
      '--backends <list>',
      'comma-separated backends (default: wasm, and tensorflow when installed)',
      (value: string) => value.split(',').map((item) => item.trim()),
    )
    .option('--models <list>', 'models whose SGD step to time', nameList(MODELS), MODELS)
    .option('--rounds <n>', 'timed rounds (median)', positiveInteger, 5)
    .option('--warmup <n>', 'untimed rounds first', positiveInteger, 1)
    .option(
      '--swaps',
      'also time each SGD step on every backend but wasm with one layer in each other form it runs, ' +
        'the rest as chosen: what each form choice buys in the whole step',
      false,
    )
    .option('--out <dir>', 'results folder (default: results/layers-<time>)')
    .action(async (options: LayersOptions) => {
      const backends = await usableBackends(options.backends);
      const out = await createResultsDir('layers', options.out);
      const lines = [
        `TF.js ${tf.version.tfjs}, Node ${process.version}; median of ${options.rounds} rounds after ${options.warmup} warm-up.`,
        '',
      ];
      const forms: Record<string, LayerCase[]> = {};
      for (const backend of backends) {
        await tf.setBackend(backend);
        process.stderr.write(`layers: timing layer forms on ${backend} …\n`);
        forms[backend] = measureLayerForms(options.rounds);
        const table = formsTable(backend, forms[backend]);
        process.stdout.write(`${table.join('\n')}\n\n`);
        lines.push(...table, '');
      }
      const models = await measureModelSteps(options.models, backends, {
        rounds: options.rounds,
        warmup: options.warmup,
        swaps: options.swaps,
        onRound: (model, round) => process.stderr.write(`layers: ${model} SGD steps, round ${round + 1}\n`),
      });
      const table = ['#### SGD step (momentum 0.9), µP, one fixed batch', '', ...modelTable(backends, models)];
      process.stdout.write(`${table.join('\n')}\n\n`);
      lines.push(...table);
      if (options.swaps) {
        const swaps = ['', '#### SGD step with one layer in another form', '', ...swapsTable(models)];
        process.stdout.write(`${swaps.join('\n')}\n\n`);
        lines.push(...swaps);
      }
      await writeFileAtomically(
        join(out, 'layers.md'),
        `${lines.join('\n')}\n`,
        'the measurements printed above are all there is; nothing was written',
      );
      await writeFileAtomically(
        join(out, 'layers.json'),
        `${JSON.stringify({ command: 'layers', backends, forms, models, options }, null, 2)}\n`,
        'layers.md is written',
      );
      process.stdout.write(`Results: ${out}\n`);
    });
}
