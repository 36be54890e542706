export { sam, type SamOptions } from './sam.js';
