import * as tf from '@tensorflow/tfjs-core';
import { ChunkStatistics } from './chunk-statistics.js';
import type { ParameterState } from './perturbation-rule-v2.js';
import { disposeProposed, type RuleStateStore, type StateMap } from './rule-state.js';

/**
 * One m-sharpness step over the chunks of a batch: each chunk's descent direction (and cost, and
 * a v2 rule's proposed states) weighted by its share of the batch and summed, and the BatchNorm
 * statistics of the chunks' passes at w (see ChunkStatistics). Every chunk starts from the same
 * weights and the same kept rule state, so the step's state is the weighted mean of the chunks'.
 */
export class ChunkAccumulator {
  readonly statistics = new ChunkStatistics();
  private cost: tf.Scalar | undefined;
  private sum: tf.NamedTensorMap = {};
  private readonly states: Array<{ weight: number; states: StateMap }> = [];

  constructor(private readonly store: RuleStateStore) {}

  /** Adds a chunk's share: its gradients (and cost, if given) times `weight`; takes over and disposes them. */
  add(cost: tf.Scalar | undefined, grads: tf.NamedTensorMap, weight: number, states: StateMap | undefined): void {
    const previous = { cost: this.cost, sum: this.sum };
    [this.cost, this.sum] = tf.tidy(() => {
      const next: tf.NamedTensorMap = { ...previous.sum };
      for (const [name, gradient] of Object.entries(grads)) {
        const share = tf.mul(gradient, weight);
        next[name] = previous.sum[name] === undefined ? share : tf.add(previous.sum[name] as tf.Tensor, share);
      }
      if (cost === undefined) return [previous.cost, next] as const;
      const costShare = tf.mul(cost, weight) as tf.Scalar;
      return [previous.cost === undefined ? costShare : (tf.add(previous.cost, costShare) as tf.Scalar), next] as const;
    });
    tf.dispose([...(cost ? [cost] : []), ...Object.values(grads), ...(cost && previous.cost ? [previous.cost] : [])]);
    tf.dispose(Object.values(previous.sum).filter((tensor) => !Object.values(this.sum).includes(tensor)));
    if (states !== undefined) this.states.push({ weight, states });
  }

  /** The summed cost (if costs were added) and gradients, and the weighted mean of the proposed states; the caller owns them. */
  take(): { cost: tf.Scalar | undefined; gradients: tf.NamedTensorMap; states: StateMap | undefined } {
    const taken = { cost: this.cost, gradients: this.sum, states: this.meanStates() };
    this.cost = undefined;
    this.sum = {};
    return taken;
  }

  /** Disposes everything added and not taken. */
  discard(): void {
    tf.dispose([...(this.cost ? [this.cost] : []), ...Object.values(this.sum)]);
    this.cost = undefined;
    this.sum = {};
    for (const { states } of this.states) disposeProposed(states, this.store);
    this.states.length = 0;
  }

  private meanStates(): StateMap | undefined {
    if (this.states.length === 0) return undefined;
    if (this.states.length === 1) return (this.states.pop() as { states: StateMap }).states;
    const byName = new Map<string, Array<{ weight: number; state: ParameterState }>>();
    for (const { weight, states } of this.states) {
      for (const [name, state] of states) byName.set(name, [...(byName.get(name) ?? []), { weight, state }]);
    }
    const mean: StateMap = new Map();
    for (const [name, shares] of byName) {
      const total = shares.reduce((sum, share) => sum + share.weight, 0);
      const keys = Object.keys(shares[0]?.state ?? {});
      mean.set(
        name,
        tf.tidy(() =>
          Object.fromEntries(
            keys.map((key) => [
              key,
              tf.addN(shares.map(({ weight, state }) => tf.mul(state[key] as tf.Tensor, weight / total))),
            ]),
          ),
        ),
      );
    }
    for (const { states } of this.states) disposeProposed(states, this.store);
    this.states.length = 0;
    return mean;
  }
}
