import * as tf from '@tensorflow/tfjs-core';
import { InvalidOptionError, RuleSpecificationError } from './errors.js';
import type { NamedTensor } from './named-tensor.js';
import { type ParameterState, STATE_NAME } from './perturbation-rule-v2.js';

/** getWeights names the state tensor `key` of variable v `<v.name>/sam-rule-state/<key>` (a slot of v, as checkpoints map them). */
export const RULE_STATE_INFIX = '/sam-rule-state/';

/** States by variable name. */
export type StateMap = Map<string, ParameterState>;

/**
 * The state a v2 rule keeps per variable across steps. A step reads the kept state, proposes the
 * next one, and the proposal replaces the kept state only when the step is taken (`commit`); a
 * rejected step `discard`s it. Everything held is kept outside any tf.tidy and disposed here.
 */
export class RuleStateStore {
  private readonly kept: StateMap = new Map();
  private proposed: StateMap | undefined;

  /** The state kept for a variable, if any. */
  get(name: string): ParameterState | undefined {
    return this.kept.get(name);
  }

  /** Whether every one of these variables has a kept state. */
  hasAll(names: readonly string[]): boolean {
    return names.length > 0 && names.every((name) => this.kept.has(name));
  }

  /** Takes over `states` (their tensors become this store's) as the proposal of the step under way, replacing any earlier one. */
  propose(states: StateMap): void {
    this.discard();
    if (states.size === 0) return;
    for (const state of states.values()) for (const tensor of Object.values(state)) tf.keep(tensor);
    this.proposed = states;
  }

  /** The proposal, if any, becomes the kept state of its variables. */
  commit(): void {
    const proposed = this.proposed;
    if (proposed === undefined) return;
    this.proposed = undefined;
    for (const [name, state] of proposed) {
      const old = this.kept.get(name);
      this.kept.set(name, state);
      if (old !== undefined) disposeUnshared(old, state);
    }
  }

  /** Drops the proposal, if any. */
  discard(): void {
    if (this.proposed === undefined) return;
    for (const [name, state] of this.proposed) {
      const old = this.kept.get(name);
      disposeUnshared(state, old);
    }
    this.proposed = undefined;
  }

  /** The kept state for getWeights, as copies the caller disposes. */
  weights(): NamedTensor[] {
    const entries: NamedTensor[] = [];
    for (const [name, state] of this.kept) {
      for (const [key, tensor] of Object.entries(state)) {
        entries.push({ name: `${name}${RULE_STATE_INFIX}${key}`, tensor: tf.clone(tensor) });
      }
    }
    return entries;
  }

  /**
   * Checks the rule state entries of a getWeights list and returns what makes them the kept state
   * (as copies; the list stays the caller's), so that a caller can check everything before it
   * changes anything. A list without such entries leaves no state: the rule starts afresh.
   */
  prepareWeights(entries: readonly NamedTensor[]): () => void {
    const found: Array<{ variable: string; key: string; tensor: tf.Tensor }> = [];
    for (const { name, tensor } of entries) {
      const at = name.lastIndexOf(RULE_STATE_INFIX);
      if (at < 0) continue;
      const variable = name.slice(0, at);
      const key = name.slice(at + RULE_STATE_INFIX.length);
      if (variable === '' || !STATE_NAME.test(key) || !(tensor instanceof tf.Tensor) || tensor.isDisposed) {
        throw new InvalidOptionError(
          `SamOptimizer.setWeights: '${name}' is not a rule state entry; expected '<variable>${RULE_STATE_INFIX}<name>' with a live tensor.`,
        );
      }
      found.push({ variable, key, tensor });
    }
    return () => {
      this.release();
      for (const { variable, key, tensor } of found) {
        this.kept.set(variable, { ...this.kept.get(variable), [key]: tf.keep(tf.clone(tensor)) });
      }
    };
  }

  /** Disposes everything held. */
  release(): void {
    this.discard();
    for (const state of this.kept.values()) tf.dispose(Object.values(state));
    this.kept.clear();
  }

  /** Whether a getWeights entry is this store's. */
  static owns(name: string): boolean {
    return name.includes(RULE_STATE_INFIX);
  }
}

/** Disposes the tensors of `state` that `other` does not also hold (a hook may carry a tensor over unchanged). */
function disposeUnshared(state: ParameterState, other: ParameterState | undefined): void {
  const shared = new Set(other === undefined ? [] : Object.values(other));
  tf.dispose(Object.values(state).filter((tensor) => !shared.has(tensor)));
}

/** Throws a RuleSpecificationError unless `state` is a map of identifier names to tensors. */
export function assertParameterState(state: unknown, rule: string, variable: string, hook: string): void {
  if (typeof state !== 'object' || state === null) {
    throw new RuleSpecificationError(
      `rule '${rule}' returned state ${String(state)} for '${variable}' from ${hook}; expected an object of tensors.`,
    );
  }
  for (const [key, tensor] of Object.entries(state)) {
    if (!STATE_NAME.test(key) || !(tensor instanceof tf.Tensor) || tensor.isDisposed) {
      throw new RuleSpecificationError(
        `rule '${rule}' returned state '${key}' for '${variable}' from ${hook}; expected an identifier name and a live tensor.`,
      );
    }
  }
}

/** Disposes proposed states, except the tensors the store keeps (a rule may carry a kept tensor over). */
export function disposeProposed(
  states: ReadonlyMap<string, ParameterState> | Readonly<Record<string, ParameterState>> | undefined,
  store: RuleStateStore,
): void {
  if (states === undefined) return;
  const entries: Array<[string, ParameterState]> = states instanceof Map ? [...states] : Object.entries(states);
  for (const [name, state] of entries) {
    const kept = new Set(Object.values(store.get(name) ?? {}));
    tf.dispose(Object.values(state).filter((tensor) => !kept.has(tensor)));
  }
}
