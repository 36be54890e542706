import * as tf from '@tensorflow/tfjs-core';
import { InvalidOptionError } from './errors.js';
import type { NamedTensor } from './named-tensor.js';
import type { StepPlan } from './step-plan.js';

/** getWeights names: the kept perturbation of variable v is `<v.name>/sam-perturbation` (so checkpoints map it to v like a slot). */
export const PERTURBATION_SUFFIX = '/sam-perturbation';
/** The step at which the kept perturbation was computed (−1: none kept). */
export const PERTURBATION_STEP = 'sam/perturbation-step';

/**
 * The perturbation kept for reuse (SamOptimizer's `perturbationInterval`): ε at radius 1,
 * ε̂_p = a_p·D_p / (sqrt(Σ b_q‖N_q‖²) + 1e-12), computed at one step and scaled by each later
 * step's radius, so a ρ schedule still applies. Kept as a unit perturbation rather than ε itself, so
 * that a resumed run needs no radius from the past and scales the same tensors by the same ρ.
 */
export class PerturbationReuse {
  private kept: { plan: StepPlan; step: number; unit: tf.NamedTensorMap } | undefined;
  private proposed: { plan: StepPlan; step: number; unit: tf.NamedTensorMap } | undefined;
  private pending: { step: number; unit: Map<string, tf.Tensor> } | undefined;

  constructor(readonly interval: number) {}

  /** The unit perturbation to reuse at `step` for this plan, or undefined when ε is due (none kept, too old, other variables). */
  reusable(plan: StepPlan, step: number): tf.NamedTensorMap | undefined {
    this.adoptPending(plan);
    const kept = this.kept;
    if (kept === undefined || kept.plan !== plan || step - kept.step >= this.interval) return undefined;
    return kept.unit;
  }

  /**
   * Offers `unit` (taking it over from the caller's scope) as computed at `step` for `plan`. It becomes
   * the kept perturbation on `commit`, once the step is taken; a rejected step `discard`s it, so the
   * perturbation kept before that step stays as it was.
   */
  propose(plan: StepPlan, step: number, unit: tf.NamedTensorMap): void {
    this.discard();
    for (const tensor of Object.values(unit)) tf.keep(tensor);
    this.proposed = { plan, step, unit };
  }

  /** The proposed perturbation, if any, replaces the kept one. */
  commit(): void {
    const proposed = this.proposed;
    if (proposed === undefined) return;
    this.proposed = undefined;
    this.release();
    this.kept = proposed;
  }

  /** Drops the proposed perturbation, if any. */
  discard(): void {
    if (this.proposed !== undefined) tf.dispose(Object.values(this.proposed.unit));
    this.proposed = undefined;
  }

  /** The kept state for getWeights: the step and a copy of each tensor (the caller's to dispose). */
  weights(): NamedTensor[] {
    const kept = this.kept;
    const entries: NamedTensor[] = [{ name: PERTURBATION_STEP, tensor: tf.scalar(kept?.step ?? -1, 'int32') }];
    if (kept === undefined) return entries;
    for (const [name, tensor] of Object.entries(kept.unit)) {
      entries.push({ name: `${name}${PERTURBATION_SUFFIX}`, tensor: tf.clone(tensor) });
    }
    return entries;
  }

  /**
   * Reads and checks the kept state of a getWeights list, and returns what takes it over (copies; the
   * list stays the caller's), so that a caller can check everything before changing anything. No
   * entry: nothing kept, ε is due.
   */
  async prepareWeights(entries: readonly NamedTensor[]): Promise<() => void> {
    const stepEntry = entries.find((entry) => entry.name === PERTURBATION_STEP);
    const step = stepEntry === undefined ? -1 : ((await stepEntry.tensor.data())[0] as number);
    if (!Number.isSafeInteger(step) || step < -1) {
      throw new InvalidOptionError(
        `SamOptimizer.setWeights: '${PERTURBATION_STEP}' is ${step}; expected an integer >= -1.`,
      );
    }
    return () => {
      this.release();
      if (step < 0) return;
      const unit = new Map<string, tf.Tensor>();
      for (const { name, tensor } of entries) {
        if (name.endsWith(PERTURBATION_SUFFIX))
          unit.set(name.slice(0, -PERTURBATION_SUFFIX.length), tf.keep(tf.clone(tensor)));
      }
      this.pending = { step, unit };
    };
  }

  /** Disposes every perturbation held: kept, proposed, and restored but not yet adopted. */
  release(): void {
    this.discard();
    if (this.kept !== undefined) tf.dispose(Object.values(this.kept.unit));
    if (this.pending !== undefined) tf.dispose([...this.pending.unit.values()]);
    this.kept = undefined;
    this.pending = undefined;
  }

  /** Restored tensors become the kept perturbation once a step shows they belong to its selected variables; else ε is due. */
  private adoptPending(plan: StepPlan): void {
    const pending = this.pending;
    if (pending === undefined) return;
    this.pending = undefined;
    const byName = new Map(plan.selectedVariables.map((variable) => [variable.name, variable]));
    const fits =
      pending.unit.size > 0 &&
      [...pending.unit].every(([name, tensor]) => {
        const variable = byName.get(name);
        return variable !== undefined && tensor.shape.join(',') === variable.shape.join(',');
      });
    if (!fits) {
      tf.dispose([...pending.unit.values()]);
      return;
    }
    const unit: tf.NamedTensorMap = Object.fromEntries(pending.unit);
    this.kept = { plan, step: pending.step, unit };
  }

  /** Whether a getWeights entry is this state's (not the base optimizer's). */
  static owns(name: string): boolean {
    return name === PERTURBATION_STEP || name.endsWith(PERTURBATION_SUFFIX);
  }
}
