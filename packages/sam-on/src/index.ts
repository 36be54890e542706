export { type SamOnOptions, samOn } from './sam-on.js';
