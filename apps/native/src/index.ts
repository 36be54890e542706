export { localPipIndexes, pipIndexOptions } from './pip-index.js';
export { CommandError, commandOutput, runCommand } from './run-command.js';
export { REPOSITORY_ROOT } from './tfjs-node-package.js';
