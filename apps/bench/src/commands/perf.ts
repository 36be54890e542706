import { writeFile } from 'node:fs/promises';
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
} from '@mup2/model-zoo';
import type { Command } from 'commander';
import { commaList, nameList, positiveInteger, positiveIntegerList } from '../cli-options.js';
import { measureMatmulThroughput } from '../perf/matmul-throughput.js';
import { comparePeers, type PeerComparison, peerTables, peerTargetLines } from '../perf/peer-comparison.js';
import { type ModelPerf, measureModelPerf, PERF_MODELS } from '../perf/perf-suite.js';
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
  warmup: number;
  backend?: string;
  peer: PythonPeerName[];
  peerThreads: number[];
  out?: string;
}

function modelTable(result: ModelPerf): string {
  const lines = [
    `### ${result.label} (batch ${result.batch})`,
    '',
    '| step | ms | ratio to SGD |',
    '|---|---:|---:|',
    ...result.steps.map((step) => `| ${step.step} | ${step.milliseconds.toFixed(1)} | ${step.overSgd.toFixed(2)} |`),
    '',
    `Tensor growth per step: ${result.tensorGrowthPerStep}`,
  ];
  return lines.join('\n');
}

/** The targets of the performance issue, checked on the MLP. */
function targetLines(mlp: ModelPerf | undefined, rules: readonly string[]): string[] {
  if (!mlp) return [];
  const ms = (step: string) => mlp.steps.find((entry) => entry.step === step)?.milliseconds;
  const lines: string[] = [];
  const sgd = ms('sgd');
  const check = (label: string, value: number | undefined, target: number) => {
    if (value !== undefined)
      lines.push(`- ${label}: ${value.toFixed(2)} (target ≤ ${target}) ${value <= target ? 'met' : 'NOT met'}`);
  };
  if (sgd !== undefined) {
    check('SAM/SGD (mup2)', (ms('sam mup2') ?? Number.NaN) / sgd, 2.05);
    check('SAM-ON/SGD (mup2)', ms('sam-on mup2') !== undefined ? (ms('sam-on mup2') as number) / sgd : undefined, 1.75);
  }
  for (const rule of rules) {
    const naive = ms(`${rule} naive`);
    const mup2 = ms(`${rule} mup2`);
    if (naive !== undefined && mup2 !== undefined) check(`${rule} mup2/naive`, mup2 / naive, 1.03);
  }
  return lines;
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
        `${matmul.transposeA.toFixed(2)} transposeA, ${matmul.transposeB.toFixed(2)} transposeB\n\n`,
    );
    const results: ModelPerf[] = [];
    for (const name of available) {
      const bar = progressBar({
        label: `perf ${PERF_MODELS[name].label}`,
        format: '{value}/{total} rounds | ETA {eta_formatted}',
      });
      bar.start(options.warmup + options.rounds, 0);
      const result = runInterruptibly(
        () =>
          measureModelPerf(PERF_MODELS[name], {
            rules: ruleNames,
            registry,
            rounds: options.rounds,
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
    let peers: PeerComparison | undefined;
    if (options.peer.length > 0) {
      process.stdout.write(`Peers (${options.peer.join(', ')}):\n`);
      peers = await comparePeers({
        peers: options.peer,
        threads: options.peerThreads,
        rounds: options.rounds,
        warmup: options.warmup,
        log: (line) => process.stdout.write(`  ${line}\n`),
      });
      process.stdout.write(`\n${peerTables(peers).join('\n')}\n\n`);
    }
    const targets = [
      ...targetLines(
        results.find((result) => result.model === 'mlp'),
        ruleNames,
      ),
      ...(peers ? peerTargetLines(peers) : []),
    ];
    if (targets.length > 0) process.stdout.write(`Targets (MLP):\n${targets.join('\n')}\n\n`);
    const markdown = [
      `Backend: ${backend}. matMul GFLOP/s: plain ${matmul.plain.toFixed(2)}, transposeA ${matmul.transposeA.toFixed(2)}, transposeB ${matmul.transposeB.toFixed(2)}.`,
      '',
      ...results.map(modelTable),
      '',
      ...(reuse ? [reuseTable(reuse), ''] : []),
      ...(peers ? ['### Peers', '', ...peerTables(peers), ''] : []),
      ...(targets.length > 0 ? ['Targets (MLP):', ...targets] : []),
    ].join('\n');
    // Created only now: a Ctrl-C (which stops this command at once, it has written nothing before here) leaves
    // no empty results folder behind.
    const out = await createResultsDir('perf', options.out);
    await writeFile(join(out, 'perf.md'), `${markdown}\n`);
    await writeFile(
      join(out, 'perf.json'),
      `${JSON.stringify({ command: 'perf', backend, matmul, results, reuse, peers, options }, null, 2)}\n`,
    );
    process.stdout.write(`Results: ${out}\n`);
  });
}
