export { localPipIndexes, pipIndexOptions } from './pip-index.js';
