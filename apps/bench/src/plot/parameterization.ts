import { PRESETS } from '@mup2/core';

/** 'sp' or 'mup' for a preset name; a name core does not know counts as SP if it starts with 'sp'. */
export function parameterizationOf(preset: string): 'sp' | 'mup' {
  if (Object.hasOwn(PRESETS, preset)) return PRESETS[preset as keyof typeof PRESETS].parameterization;
  return preset.startsWith('sp') ? 'sp' : 'mup';
}
