import { type CoordCheckResult, coordChart } from '@mup2/coord';
import { PRESET_NAMES, type PresetName } from '@mup2/core';
import embed, { type Result, type VisualizationSpec } from 'vega-embed';
import { accuracyChart, EVALUATIONS_DATA, type EvaluationRow, lossChart, STEPS_DATA, type StepRow } from './charts.js';
import { RULE_NAMES } from './rule-registry.js';
import type { BackendChoice, CoordJob, Job, TrainJob, WorkerEvent } from './worker-messages.js';

const WIDTHS = [64, 128, 256, 512, 1024];
const DEFAULTS = { rule: 'sam', preset: 'mup2', width: '256', coordPresets: ['mup-global', 'mup2'] };
// Errors only: an empty live chart warns of infinite extents until its first row arrives.
const EMBED_OPTIONS = { actions: false, renderer: 'svg', logLevel: 1 } as const;

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`playground: no element #${id}`);
  return found as T;
}

function fillSelect(select: HTMLSelectElement, values: readonly string[], selected: string): void {
  select.replaceChildren(...values.map((value) => new Option(value, value, value === selected, value === selected)));
}

const trainForm = element<HTMLFormElement>('train-form');
const coordForm = element<HTMLFormElement>('coord-form');
const field = (form: HTMLFormElement, name: string) => form.elements.namedItem(name) as HTMLInputElement;
const selectField = (form: HTMLFormElement, name: string) => form.elements.namedItem(name) as HTMLSelectElement;
const numberField = (form: HTMLFormElement, name: string) => Number(field(form, name).value);
const backend = () => element<HTMLSelectElement>('backend').value as BackendChoice;

fillSelect(selectField(trainForm, 'rule'), RULE_NAMES, DEFAULTS.rule);
fillSelect(selectField(trainForm, 'preset'), PRESET_NAMES, DEFAULTS.preset);
fillSelect(selectField(trainForm, 'width'), WIDTHS.map(String), DEFAULTS.width);
fillSelect(
  selectField(coordForm, 'rule'),
  RULE_NAMES.filter((rule) => rule !== 'sgd'),
  DEFAULTS.rule,
);
element('coord-presets').replaceChildren(
  ...PRESET_NAMES.map((preset) => {
    const label = document.createElement('label');
    const box = Object.assign(document.createElement('input'), {
      type: 'checkbox',
      name: 'presets',
      value: preset,
      checked: DEFAULTS.coordPresets.includes(preset),
    });
    label.append(box, ` ${preset} `);
    return label;
  }),
);

/** One job at a time per section, each in its own worker: stopping a job terminates its worker. */
class JobRunner {
  private worker: Worker | undefined;

  constructor(
    private readonly start: HTMLButtonElement,
    private readonly stop: HTMLButtonElement,
    private readonly status: HTMLElement,
  ) {
    stop.addEventListener('click', () => this.finish('stopped'));
  }

  run(job: Job, onEvent: (event: WorkerEvent) => void): void {
    this.worker?.terminate();
    this.worker = new Worker(new URL('./training.worker.ts', import.meta.url), { type: 'module' });
    this.start.disabled = true;
    this.stop.disabled = false;
    this.show('starting: loading the digits and the backend…');
    this.worker.onmessage = (message: MessageEvent<WorkerEvent>) => {
      const event = message.data;
      if (event.type === 'error') {
        this.fail(event.message);
        return;
      }
      onEvent(event);
      if (event.type === 'done' || event.type === 'coord-done') this.finish();
    };
    this.worker.onerror = (event) => this.fail(event.message || 'the worker failed to start');
    this.worker.postMessage(job);
  }

  show(text: string, isError = false): void {
    this.status.textContent = text;
    this.status.classList.toggle('error', isError);
  }

  private fail(message: string): void {
    this.show(`error: ${message}`, true);
    console.error(`playground: ${message}`);
    this.finish();
  }

  private finish(note?: string): void {
    this.worker?.terminate();
    this.worker = undefined;
    this.start.disabled = false;
    this.stop.disabled = true;
    if (note) this.show(`${this.status.textContent} (${note})`);
  }
}

// Training: every run adds its curves to the two live charts, coloured by the run's settings.
const charts = Promise.all([
  embed(element('loss-chart'), lossChart(), EMBED_OPTIONS),
  embed(element('accuracy-chart'), accuracyChart(), EMBED_OPTIONS),
]);
/** Which chart shows which data set: the steps feed both, the evaluations the accuracy chart. */
const chartsOf = async (data: string) => {
  const [loss, accuracy] = await charts;
  return data === STEPS_DATA ? [loss, accuracy] : [accuracy];
};
const insert = async (data: string, rows: readonly (StepRow | EvaluationRow)[]) => {
  for (const chart of await chartsOf(data)) chart.view.insert(data, rows).run();
};
const clearCurves = async () => {
  for (const data of [STEPS_DATA, EVALUATIONS_DATA]) {
    for (const chart of await chartsOf(data)) chart.view.remove(data, () => true).run();
  }
};

const trainRunner = new JobRunner(
  element<HTMLButtonElement>('train-start'),
  element<HTMLButtonElement>('train-stop'),
  element('train-status'),
);
element('train-clear').addEventListener('click', () => void clearCurves());

trainForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const job: TrainJob = {
    kind: 'train',
    backend: backend(),
    rule: field(trainForm, 'rule').value,
    preset: field(trainForm, 'preset').value as PresetName,
    width: numberField(trainForm, 'width'),
    lr: numberField(trainForm, 'lr'),
    rho: numberField(trainForm, 'rho'),
    epochs: numberField(trainForm, 'epochs'),
    batch: numberField(trainForm, 'batch'),
    seed: numberField(trainForm, 'seed'),
    evaluateEvery: numberField(trainForm, 'evaluateEvery'),
  };
  const run = `${job.rule} ${job.preset} n=${job.width} η=${job.lr}${job.rule === 'sgd' ? '' : ` ρ=${job.rho}`}`;
  let backendName = '';
  let lastTest = '';
  trainRunner.run(job, (event) => {
    if (event.type === 'ready') backendName = event.backend;
    if (event.type === 'step') {
      void insert(STEPS_DATA, [{ run, step: event.step, loss: event.loss, accuracy: event.accuracy }]);
      trainRunner.show(
        `${run} · ${backendName} · step ${event.step}/${event.steps} · loss ${event.loss.toFixed(3)} · ` +
          `${event.milliseconds.toFixed(0)} ms/step${lastTest}`,
      );
    }
    if (event.type === 'evaluation') {
      lastTest = ` · test accuracy ${(100 * event.accuracy).toFixed(1)}%`;
      void insert(EVALUATIONS_DATA, [{ run, step: event.step, accuracy: event.accuracy }]);
    }
    if (event.type === 'done') {
      trainRunner.show(
        `${run} · ${backendName} · ${event.diverged ? 'diverged (the loss is not finite)' : 'done'} in ` +
          `${event.seconds.toFixed(1)} s${lastTest}`,
      );
    }
  });
});

// The coordinate check: @mup2/coord's computation and chart, one panel per preset.
const coordRunner = new JobRunner(
  element<HTMLButtonElement>('coord-start'),
  element<HTMLButtonElement>('coord-stop'),
  element('coord-status'),
);
let coordView: Result | undefined;

function slopeTable(result: CoordCheckResult): void {
  // One column per kind of layer (input W, hidden W, output W, norm gain): the MLP has one of each.
  const slopes = result.groups
    .filter((group) => group.quantity === 'perturbation')
    .map((group) => ({ preset: group.preset, layer: group.group, slope: group.mean }));
  const layers = [...new Set(slopes.map((slope) => slope.layer))];
  const presets = result.presets;
  const table = element<HTMLTableElement>('coord-slopes');
  const header = table.createTHead().insertRow();
  for (const title of ['log–log slope', ...layers])
    header.append(Object.assign(document.createElement('th'), { textContent: title }));
  const body = table.createTBody();
  for (const preset of presets) {
    const row = body.insertRow();
    row.append(Object.assign(document.createElement('th'), { textContent: preset }));
    for (const layer of layers) {
      const slope = slopes.find((entry) => entry.preset === preset && entry.layer === layer)?.slope;
      const cell = row.insertCell();
      cell.textContent = slope === undefined ? '–' : slope.toFixed(2);
      // Under mup2 a slope off by more than ~0.3 means a multiplier is wrong (docs/coordinate-check.md).
      cell.classList.toggle('flat', slope !== undefined && Math.abs(slope) < 0.3);
    }
  }
}

coordForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const presets = [...coordForm.querySelectorAll<HTMLInputElement>('input[name=presets]:checked')].map(
    (box) => box.value as PresetName,
  );
  if (presets.length === 0) {
    coordRunner.show('choose at least one preset', true);
    return;
  }
  const job: CoordJob = {
    kind: 'coord',
    backend: backend(),
    rule: field(coordForm, 'rule').value,
    presets,
    widths: field(coordForm, 'widths')
      .value.split(',')
      .map((width) => Number(width.trim())),
    steps: numberField(coordForm, 'steps'),
    learningRate: numberField(coordForm, 'lr'),
    rho: numberField(coordForm, 'rho'),
    seeds: numberField(coordForm, 'seeds'),
    batch: numberField(coordForm, 'batch'),
  };
  let backendName = '';
  coordRunner.run(job, async (event) => {
    if (event.type === 'ready') backendName = event.backend;
    if (event.type === 'coord-progress') {
      coordRunner.show(`${backendName} · ${event.done}/${event.total} · ${event.label}`);
    }
    if (event.type === 'coord-done') {
      const title = `${job.rule}: effective perturbation against width (MNIST, SAM steps ${job.steps}, η=${job.learningRate}, ρ=${job.rho}, seeds ${job.seeds})`;
      coordView?.finalize();
      element('coord-slopes').replaceChildren();
      coordView = await embed(
        element('coord-chart'),
        coordChart(event.result, { title, color: 'group' }) as VisualizationSpec,
        EMBED_OPTIONS,
      );
      slopeTable(event.result);
      coordRunner.show(`${backendName} · done in ${event.seconds.toFixed(1)} s`);
    }
  });
});
