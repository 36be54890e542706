import type { TopLevelSpec } from 'vega-lite';

/** The named data sets the live charts stream into. */
export const STEPS_DATA = 'steps';
export const EVALUATIONS_DATA = 'evaluations';

/** A row of STEPS_DATA: one training step of one run. */
export interface StepRow {
  readonly run: string;
  readonly step: number;
  readonly loss: number;
  readonly accuracy: number;
}

/** A row of EVALUATIONS_DATA: the test accuracy of one run after `step` steps. */
export interface EvaluationRow {
  readonly run: string;
  readonly step: number;
  readonly accuracy: number;
}

const SMOOTHING_STEPS = 10;
/** Full width; the height grows with the legend as runs are added (vega recomputes the layout on resize). */
const autosize = { type: 'fit-x', contains: 'padding', resize: true } as const;
const byRun = {
  field: 'run',
  type: 'nominal',
  title: 'run',
  legend: { orient: 'bottom', columns: 1, symbolOpacity: 1, symbolStrokeWidth: 2 },
} as const;
const stepAxis = { field: 'step', type: 'quantitative', title: 'step' } as const;
/** The mean over the last SMOOTHING_STEPS steps of each run. */
const smoothed = (field: string, as: string) => ({
  window: [{ op: 'mean' as const, field, as }],
  frame: [-(SMOOTHING_STEPS - 1), 0] as [number, number],
  groupby: ['run'],
  sort: [{ field: 'step' }],
});

/** Training loss of every step (faint) and its running mean, one colour per run. */
export function lossChart(): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Training loss',
    width: 'container',
    height: 240,
    autosize,
    data: { name: STEPS_DATA },
    transform: [smoothed('loss', 'smoothedLoss')],
    encoding: { x: stepAxis, color: byRun },
    layer: [
      {
        mark: { type: 'line', opacity: 0.25, strokeWidth: 1 },
        encoding: { y: { field: 'loss', type: 'quantitative', title: 'cross-entropy', scale: { type: 'log' } } },
      },
      { mark: { type: 'line', strokeWidth: 2 }, encoding: { y: { field: 'smoothedLoss', type: 'quantitative' } } },
    ],
  };
}

/** Test accuracy at each evaluation (solid, points) and the running training accuracy (dashed). */
export function accuracyChart(): TopLevelSpec {
  const accuracy = (field: string) => ({
    field,
    type: 'quantitative' as const,
    title: 'accuracy',
    axis: { format: '.0%' },
    scale: { domain: [0, 1] },
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `Accuracy: test (points), training (dashed, mean of ${SMOOTHING_STEPS} batches)`,
    width: 'container',
    height: 240,
    autosize,
    layer: [
      {
        data: { name: STEPS_DATA },
        transform: [smoothed('accuracy', 'smoothedAccuracy')],
        mark: { type: 'line', strokeDash: [4, 3], strokeWidth: 1.5 },
        encoding: { x: stepAxis, y: accuracy('smoothedAccuracy'), color: byRun },
      },
      {
        data: { name: EVALUATIONS_DATA },
        mark: { type: 'line', point: true, strokeWidth: 2 },
        encoding: { x: stepAxis, y: accuracy('accuracy'), color: byRun },
      },
    ],
  };
}
