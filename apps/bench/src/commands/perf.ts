import { join } from 'node:path';
import { initBackend } from '@mup2/core';
import {
  absoluteRuleModules,
  addRuleModuleOption,
  addRulesHelp,
  loadRules,
  MODEL_NAMES,
  progressBar,
  type RuleRegistry,
  runInterruptibly,
  stopAtOnceOnInterrupt,
  writeFileAtomically,
} from '@mup2/model-zoo';
import * as tf from '@tensorflow/tfjs';
import type { Command } from 'commander';
import { commaList, nameList, positiveInteger, positiveIntegerList } from '../cli-options.js';
import { type CoreScaling, coreScalingLine, measureCoreScaling } from '../perf/core-scaling.js';
import { type Figure1Throughput, measureFigure1Throughput } from '../perf/figure1-throughput.js';
import { measureMatmulThroughput } from '../perf/matmul-throughput.js';
import { type MemoryBandwidth, measureMemoryBandwidth, memoryBandwidthLine } from '../perf/memory-bandwidth.js';
import { type ModelStepName, type ModelStepTimes, measureModelSteps } from '../perf/model-step-timings.js';
import { comparePeers, type PeerComparison, peerTables } from '../perf/peer-comparison.js';
import { type ModelPerf, measureModelPerf, PERF_MODELS } from '../perf/perf-suite.js';
import {
  backendTargets,
  type PerfTarget,
  peerTargets,
  suiteTargets,
  targetLine,
  throughputTargets,
} from '../perf/perf-targets.js';
import { measurePerturbationReuse, type ReusePerf, reuseTable } from '../perf/perturbation-reuse-perf.js';
import { PYTHON_PEER_NAMES, type PythonPeerName } from '../perf/python-peers.js';
import { createResultsDir, userDirectory } from '../results-dir.js';

type PerfModelName = keyof typeof PERF_MODELS;

const STOPPED = 'stopped: bench perf writes its results at the end, so nothing was written';
const PERF_MODEL_NAMES = Object.keys(PERF_MODELS) as PerfModelName[];

interface PerfOptions {
  models: PerfModelName[];
  rules?: string[];
  ruleModule?: string[];
  perturbationIntervals: number[];
  rounds: number;
  mlpRounds: number;
  warmup: number;
  backend?: string;
  peer: PythonPeerName[];
  peerThreads: number[];
  wasmRatio?: boolean;
  wasmRounds: number;
  figure1Throughput?: boolean;
  throughputRounds: number;
  out?: string;
}

function modelTable(result: ModelPerf): string {
  const lines = [
    `### ${result.label} (batch ${result.batch}; median of ${result.steps[0]?.rounds?.length ?? '?'} rounds)`,
    '',
    '| step | ms | ratio to SGD |',
    '|---|---:|---:|',
    ...result.steps.map(
      (step) =>
        `| ${step.step}${step.stepsPerCall > 1 ? ` (mean over cycles of ${step.stepsPerCall} steps)` : ''} | ${step.milliseconds.toFixed(1)} | ${step.overSgd.toFixed(2)} |`,
    ),
    '',
    `Tensor growth per step: ${result.tensorGrowthPerStep}`,
  ];
  return lines.join('\n');
}

/** wasm's and tensorflow's SGD steps of each model, from one run taking the backends in turn. */
function backendTable(steps: readonly ModelStepTimes[], rounds: number): string {
  return [
    `### SGD step on wasm and on tensorflow (each model's own layer forms; median of ${rounds} rounds, backends in turn, each sample after one untimed step)`,
    '',
    '| model (batch) | wasm ms | tensorflow ms | wasm / tensorflow |',
    '|---|---:|---:|---:|',
    ...steps.map((entry) => {
      const { wasm, tensorflow } = entry.milliseconds;
      const speedup = wasm !== undefined && tensorflow !== undefined ? `${(wasm / tensorflow).toFixed(1)}×` : '–';
      return `| ${entry.label} (${entry.batch}) | ${wasm?.toFixed(1) ?? '–'} | ${tensorflow?.toFixed(1) ?? '–'} | ${speedup} |`;
    }),
  ].join('\n');
}

function throughputTable(runs: readonly Figure1Throughput[]): string {
  return [
    `### figure1 cells per hour (${runs[0]?.cells ?? '?'} cells, one seed of \`figure1 --quick\`'s grid; each run in a fresh process, the worker counts in turn each round)`,
    '',
    '| round | workers | cells per hour | s for the cells | cores used |',
    '|---:|---:|---:|---:|---:|',
    ...runs.map(
      (run) =>
        `| ${run.round + 1} | ${run.workers} | ${run.cellsPerHour.toFixed(0)} | ${run.seconds.toFixed(1)} | ${run.coresUsed.toFixed(2)} |`,
    ),
  ].join('\n');
}

/** `bench perf`; `rules` (the installed ones) are listed in its help and timed by default. */
export function registerPerfCommand(program: Command, rules: RuleRegistry): void {
  const command = program
    .command('perf')
    .description(
      'Step time of SGD, SAM, ASAM and SAM-ON in naive and mup2 scaling on the MLP, ResNet-18 and a small ViT, ' +
        'as ratios to SGD measured in one run, with tensor growth per step and the backend’s matmul GFLOP/s.',
    )
    .option('--models <list>', 'comma-separated models', nameList(PERF_MODEL_NAMES), PERF_MODEL_NAMES)
    .option('--rules <list>', 'comma-separated rules (default: every installed rule, listed below)', commaList)
    .option(
      '--perturbation-intervals <list>',
      'ε reuse on the MLP: the step cost with ε computed every k steps, for each k (sam, else the first rule; mup2)',
      positiveIntegerList,
      [2, 5, 10],
    )
    .option('--rounds <n>', 'timed rounds per step kind (median)', positiveInteger, 10)
    .option(
      '--mlp-rounds <n>',
      "timed rounds of the MLP's steps, whose ratios the targets read with a 95% interval from the rounds (its steps are short)",
      positiveInteger,
      40,
    )
    .option('--warmup <n>', 'untimed rounds first', positiveInteger, 3)
    .option('--backend <name>', 'TF.js backend (default: tensorflow if installed, else wasm, else cpu)')
    .option(
      '--peer <list>',
      `also time the MLP's SGD and SAM steps in these frameworks (${PYTHON_PEER_NAMES.join(', ')}; a Python venv ` +
        'under node_modules/.cache from pip), next to ours on wasm and tensorflow, round by round in one run',
      nameList(PYTHON_PEER_NAMES),
      [],
    )
    .option(
      '--peer-threads <list>',
      'thread counts of the peers and of our tensorflow backend',
      positiveIntegerList,
      [1, 2],
    )
    .option(
      '--wasm-ratio',
      "also time each model's SGD step on wasm, in turn with tensorflow (default: on when the backend is tensorflow)",
    )
    .option('--no-wasm-ratio', 'do not')
    .option('--wasm-rounds <n>', 'rounds of the wasm / tensorflow comparison (median; one warm-up)', positiveInteger, 3)
    .option(
      '--figure1-throughput',
      "also measure figure1 --quick's cells per hour with 1 and 2 workers, each in its own process (default: on with tensorflow)",
    )
    .option('--no-figure1-throughput', 'do not')
    .option(
      '--throughput-rounds <n>',
      "rounds of 1 and 2 workers, in turn (the target reads the median of the rounds' ratios)",
      positiveInteger,
      3,
    )
    .option('--out <dir>', 'results folder (default: results/perf-<time>)');
  addRuleModuleOption(command);
  addRulesHelp(command, rules);
  command.action(async (options: PerfOptions) => {
    // Results are written only at the end: a Ctrl-C stops at once and leaves nothing.
    stopAtOnceOnInterrupt(STOPPED);
    const registry = await loadRules({
      modules: absoluteRuleModules(options.ruleModule, userDirectory()),
      cwd: userDirectory(),
    });
    const ruleNames = options.rules ?? [...registry.names];
    for (const rule of ruleNames) registry.descriptor(rule);
    const backend = await initBackend({ backend: options.backend });
    const available = options.models.filter((name) =>
      (MODEL_NAMES as readonly string[]).includes(PERF_MODELS[name].model),
    );
    const missing = options.models.filter((name) => !available.includes(name));
    if (missing.length > 0)
      process.stderr.write(`perf: models not in this build of the zoo, skipped: ${missing.join(', ')}\n`);
    const matmul = runInterruptibly(() => measureMatmulThroughput(), STOPPED);
    process.stdout.write(
      `Backend ${backend}; matMul 128×1024 @ 1024×1024: ${matmul.plain.toFixed(2)} GFLOP/s plain, ` +
        `${matmul.transposeA.toFixed(2)} transposeA, ${matmul.transposeB.toFixed(2)} transposeB\n`,
    );
    // Measured again before the peers: the figures of a run taken hours apart on a shared machine differ with it.
    const memory: { start: MemoryBandwidth; peers?: MemoryBandwidth } = { start: measureMemoryBandwidth() };
    process.stdout.write(`${memoryBandwidthLine(memory.start)}\n\n`);
    const results: ModelPerf[] = [];
    for (const name of available) {
      const bar = progressBar({
        label: `perf ${PERF_MODELS[name].label}`,
        format: '{value}/{total} rounds | ETA {eta_formatted}',
      });
      const rounds = name === 'mlp' ? options.mlpRounds : options.rounds;
      bar.start(options.warmup + rounds, 0);
      const result = runInterruptibly(
        () =>
          measureModelPerf(PERF_MODELS[name], {
            rules: ruleNames,
            registry,
            rounds,
            warmup: options.warmup,
            onRound: (done) => bar.update(done),
          }),
        STOPPED,
      );
      bar.stop();
      results.push(result);
      process.stdout.write(`${modelTable(result)}\n\n`);
    }
    let reuse: ReusePerf | undefined;
    const reuseRule = ruleNames.includes('sam') ? 'sam' : ruleNames[0];
    if (available.includes('mlp') && reuseRule !== undefined && options.perturbationIntervals.length > 0) {
      const bar = progressBar({ label: 'perf ε reuse', format: '{value}/{total} rounds | ETA {eta_formatted}' });
      bar.start(options.warmup + options.rounds, 0);
      reuse = runInterruptibly(
        () =>
          measurePerturbationReuse(PERF_MODELS.mlp, {
            rule: reuseRule,
            registry,
            intervals: options.perturbationIntervals,
            rounds: options.rounds,
            warmup: options.warmup,
            onRound: (done) => bar.update(done),
          }),
        STOPPED,
      );
      bar.stop();
      process.stdout.write(`${reuseTable(reuse)}\n\n`);
    }
    let backendSteps: ModelStepTimes[] | undefined;
    if ((options.wasmRatio ?? backend === 'tensorflow') && backend === 'tensorflow') {
      const models = available.filter((name): name is ModelStepName => name in PERF_MODELS);
      const bar = progressBar({ label: 'perf wasm / tensorflow', format: '{value}/{total} rounds | {model}' });
      bar.start(models.length * (options.wasmRounds + 1), 0, { model: '' });
      let done = 0;
      await initBackend({ backend: 'wasm', log: () => {} });
      backendSteps = await measureModelSteps(models, ['wasm', 'tensorflow'], {
        rounds: options.wasmRounds,
        warmup: 1,
        wasmForms: false,
        onRound: (model) => bar.update(++done, { model }),
      });
      await tf.setBackend('tensorflow');
      bar.stop();
      process.stdout.write(`${backendTable(backendSteps, options.wasmRounds)}\n\n`);
    }
    let figure1: Figure1Throughput[] | undefined;
    if ((options.figure1Throughput ?? backend === 'tensorflow') && available.includes('mlp')) {
      process.stdout.write('figure1 throughput: ');
      figure1 = await measureFigure1Throughput({
        workerCounts: [1, 2],
        rounds: options.throughputRounds,
        backend,
        onRun: (workers, round) => process.stdout.write(`${round > 0 || workers > 1 ? ', ' : ''}${workers}w`),
      });
      process.stdout.write(`\n${throughputTable(figure1)}\n\n`);
    }
    let peers: PeerComparison | undefined;
    let cores: CoreScaling | undefined;
    if (options.peer.length > 0) {
      cores = await measureCoreScaling({ threads: Math.max(2, ...options.peerThreads) });
      memory.peers = measureMemoryBandwidth();
      process.stdout.write(
        `${coreScalingLine(cores)}\n${memoryBandwidthLine(memory.peers)}\n\nPeers (${options.peer.join(', ')}):\n`,
      );
      peers = await comparePeers({
        peers: options.peer,
        threads: options.peerThreads,
        rounds: options.rounds,
        warmup: options.warmup,
        log: (line) => process.stdout.write(`  ${line}\n`),
      });
      process.stdout.write(`\n${peerTables(peers).join('\n')}\n\n`);
    }
    const measured: PerfTarget[] = [
      ...suiteTargets(results, ruleNames),
      ...(peers ? peerTargets(peers, options.peerThreads) : []),
      ...(backendSteps ? backendTargets(backendSteps) : []),
      ...(figure1 ? throughputTargets(figure1) : []),
    ];
    const targets = measured.map(targetLine);
    if (targets.length > 0) process.stdout.write(`Targets:\n${targets.join('\n')}\n\n`);
    const markdown = [
      `Backend: ${backend}. matMul GFLOP/s: plain ${matmul.plain.toFixed(2)}, transposeA ${matmul.transposeA.toFixed(2)}, transposeB ${matmul.transposeB.toFixed(2)}.`,
      memoryBandwidthLine(memory.start),
      '',
      ...results.map(modelTable),
      '',
      ...(reuse ? [reuseTable(reuse), ''] : []),
      ...(backendSteps ? [backendTable(backendSteps, options.wasmRounds), ''] : []),
      ...(figure1 ? [throughputTable(figure1), ''] : []),
      ...(peers
        ? [
            '### Peers',
            '',
            ...(cores ? [coreScalingLine(cores)] : []),
            ...(memory.peers ? [memoryBandwidthLine(memory.peers)] : []),
            '',
            ...peerTables(peers),
            '',
          ]
        : []),
      ...(targets.length > 0 ? ['Targets:', ...targets] : []),
    ].join('\n');
    // Created only now: a Ctrl-C (which stops this command at once, it has written nothing before here) leaves
    // no empty results folder behind.
    const out = await createResultsDir('perf', options.out);
    await writeFileAtomically(
      join(out, 'perf.md'),
      `${markdown}\n`,
      'the measurements printed above are all there is; nothing was written',
    );
    await writeFileAtomically(
      join(out, 'perf.json'),
      `${JSON.stringify({ command: 'perf', backend, matmul, memory, results, reuse, backendSteps, figure1, cores, peers, targets: measured, options }, null, 2)}\n`,
      'perf.md is written',
    );
    process.stdout.write(`Results: ${out}\n`);
  });
}
