import { canonicalJson, sha256Hex } from './canonical-json.js';
import type { CellConfig } from './cell-config.js';

/**
 * A cell's identity in results.jsonl: the first 16 hex digits of the SHA-256
 * of its canonical config. The same cell in another grid (or another folder)
 * gets the same id, so rows can be merged across sweeps.
 */
export function cellId(config: CellConfig): string {
  return sha256Hex(canonicalJson(config)).slice(0, 16);
}
