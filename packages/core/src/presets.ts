import { InvalidOptionError } from './errors.js';
import type { PerturbationScaling } from './perturbation-rule.js';

/** Initialisation and learning rates: the standard parameterization or µP (docs/mup2-explained.md, "µP itself"). */
export type Parameterization = 'sp' | 'mup';

/** A preset of the paper's Figure 1: how weights are initialised and stepped, and how ε scales. */
export interface Preset {
  readonly parameterization: Parameterization;
  readonly scaling: PerturbationScaling;
}

/** The parameterizations of the paper's Figure 1 (docs/mup2-explained.md, "µP itself"). */
export const PRESETS = {
  'sp-naive': { parameterization: 'sp', scaling: 'naive' },
  /** SP with the rule's layerwise perturbation multipliers. */
  'sp-lp': { parameterization: 'sp', scaling: 'mup2' },
  'mup-naive': { parameterization: 'mup', scaling: 'naive' },
  'mup-global': { parameterization: 'mup', scaling: 'global' },
  mup2: { parameterization: 'mup', scaling: 'mup2' },
} as const satisfies Record<string, Preset>;

export type PresetName = keyof typeof PRESETS;
export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

/** The preset of this name, or an InvalidOptionError listing the known names. */
export function parsePreset(name: string): Preset & { readonly name: PresetName } {
  if (!Object.hasOwn(PRESETS, name)) {
    throw new InvalidOptionError(
      `unknown preset ${JSON.stringify(name)}; expected one of ${PRESET_NAMES.map((n) => `'${n}'`).join(', ')}.`,
    );
  }
  return { name: name as PresetName, ...PRESETS[name as PresetName] };
}
