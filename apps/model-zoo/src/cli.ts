#!/usr/bin/env -S npx tsx
// First: Ctrl-C while the modules load exits 130 (a launcher that did not --import it already).
import './commands/exit-on-interrupt.mjs';
import { Mup2Error } from '@mup2/core';
import { Command } from 'commander';
import { registerTrainCommand } from './commands/train.js';
import { FileWriteError } from './files/file-write-error.js';
import { configureNativeThreads } from './native-threads.js';
import { loadRules } from './rules/load-rules.js';

const program = new Command()
  .name('zoo')
  .description('The µP² model zoo: MLP, ResNet and ViT trained with SGD or any installed SAM variant in SP, µP or µP².')
  .showHelpAfterError()
  .exitOverride((error) => process.exit(error.exitCode))
  // One training per process: libtensorflow's pools sized for it before TF.js loads.
  .hook('preAction', () => {
    configureNativeThreads();
  });

try {
  registerTrainCommand(program, await loadRules());
  await program.parseAsync(process.argv);
} catch (error) {
  // Input the command refuses exits 2; a file it could not write (a full disk), 1.
  if (Mup2Error.isInstance(error)) {
    process.stderr.write(`error: ${error.message}\n`);
    process.exit(FileWriteError.isInstance(error) ? 1 : 2);
  }
  throw error;
}
