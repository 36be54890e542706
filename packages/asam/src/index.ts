export { ASAM_DEFAULT_ETA, type AsamOptions, asam, etaScale } from './asam.js';
