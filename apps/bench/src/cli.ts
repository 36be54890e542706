#!/usr/bin/env -S npx tsx
// First: Ctrl-C while the modules load exits 130 (a launcher that did not --import it already).
import '@mup2/model-zoo/exit-on-interrupt';
import { Mup2Error } from '@mup2/core';
import { configureNativeThreads, FileWriteError, loadRules } from '@mup2/model-zoo';
import { Command } from 'commander';
import { registerCoordCommand } from './commands/coord.js';
import { registerFigure1Command } from './commands/figure1.js';
import { registerLayersCommand } from './commands/layers.js';
import { registerPerfCommand } from './commands/perf.js';
import { registerQueueCommands } from './commands/queue.js';
import { registerReportCommand } from './commands/report.js';
import { registerSweepCommand } from './commands/sweep.js';
import { registerTable2Command } from './commands/table2.js';

const program = new Command()
  .name('bench')
  .description(
    'µP² SAM benchmarks: the experiments of "µP²: Effective Sharpness Aware Minimization Requires Layerwise Perturbation Scaling".',
  )
  .showHelpAfterError()
  .exitOverride((error) => process.exit(error.exitCode))
  // libtensorflow sizes its thread pools once, when it loads: before any command touches TF.js,
  // for the trainings the command runs at once (its worker threads).
  .hook('preAction', (_program, command) => {
    const { workers, concurrency } = command.opts() as { workers?: number; concurrency?: number };
    configureNativeThreads({ workers: workers ?? concurrency ?? 1 });
  });

try {
  // The installed rule packages, for the commands' --help; each command adds those of its --rule-module.
  const rules = await loadRules();
  registerCoordCommand(program, rules);
  registerFigure1Command(program, rules);
  registerLayersCommand(program);
  registerPerfCommand(program, rules);
  registerReportCommand(program);
  registerSweepCommand(program, rules);
  registerTable2Command(program, rules);
  registerQueueCommands(program);
  await program.parseAsync(process.argv);
} catch (error) {
  // Input the command refuses exits 2; a file it could not write (a full disk), 1, in one line either way.
  if (Mup2Error.isInstance(error)) {
    process.stderr.write(`error: ${error.message}\n`);
    process.exit(FileWriteError.isInstance(error) ? 1 : 2);
  }
  const { code, path } = error as NodeJS.ErrnoException;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) {
    process.stderr.write(
      `error: ${(error as Error).message}${path !== undefined && !(error as Error).message.includes(path) ? ` (${path})` : ''}\n`,
    );
    process.exit(1);
  }
  throw error;
}
