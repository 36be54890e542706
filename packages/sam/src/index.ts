export { type SamOptions, sam } from './sam.js';
