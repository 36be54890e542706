export { type CoordChartOptions, coordChart, type VegaLiteSpec } from './coord-chart.js';
export {
  type CoordCheckOptions,
  type CoordCheckResult,
  type CoordRow,
  coordCheck,
  type GroupSlope,
  type LayerSlope,
} from './coord-check.js';
export { type BuildContext, type CoordBatch, type CoordLayer, type CoordModel, layerLabel } from './coord-model.js';
export {
  type DerivationRun,
  type DerivedScaling,
  type DeriveScalingOptions,
  deriveScaling,
  type RoleExponents,
} from './derive-scaling.js';
export { GROUP_ORDER, layerGroup } from './layer-group.js';
export { type FromLayersModelOptions, fromLayersModel, type LayersLoss, type LayersModelLike } from './layers-model.js';
export { COORD_QUANTITIES, type CoordQuantity } from './measure-model.js';
export {
  compareExponents,
  type ExponentComparison,
  type Exponents,
  type RoleComparison,
  ruleExponents,
} from './scaling-exponents.js';
export { type SlopeFit, type SlopeVerdict, slopeVerdict } from './slope-fit.js';
export { type SlopeTableOptions, slopeTable } from './slope-table.js';
export { gaussianBatches, tinyMlpCoordModel } from './tiny-mlp-model.js';
export type { BuildModel, SweepSettings } from './width-sweep.js';
