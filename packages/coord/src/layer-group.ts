import type { ParamRole } from '@mup2/core';
import type { LayerMeasurement } from './measure-model.js';

/**
 * The kind of parameter a layer is, for tables that summarise many layers: 'input W',
 * 'hidden W', 'output W' (dense and conv weights by role), 'norm gain', 'norm offset', 'bias',
 * 'gain', or '<role> offset' (an offset that is not a vector, such as a position embedding).
 */
export function layerGroup(layer: {
  readonly role: ParamRole;
  readonly norm: boolean;
  readonly kind: LayerMeasurement['kind'];
}): string {
  if (layer.kind === 'scale') return layer.norm ? 'norm gain' : 'gain';
  if (layer.kind === 'shift' || layer.kind === undefined) {
    if (layer.norm) return 'norm offset';
    return layer.role === 'vector' ? 'bias' : `${layer.role} offset`;
  }
  return `${layer.role} W`;
}

/** The order tables list the groups in: from the input to the readout, then vectors. */
export const GROUP_ORDER = [
  'input W',
  'input offset',
  'hidden W',
  'output W',
  'norm gain',
  'norm offset',
  'gain',
  'bias',
];

export function compareGroups(a: string, b: string): number {
  const rank = (group: string) => {
    const index = GROUP_ORDER.indexOf(group);
    return index === -1 ? GROUP_ORDER.length : index;
  };
  return rank(a) - rank(b) || a.localeCompare(b);
}
