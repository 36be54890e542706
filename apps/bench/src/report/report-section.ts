import type { TopLevelSpec } from 'vega-lite';

/** A chart of the report: rendered to `report-figures/<slug>.svg` and `.png`, shown as the PNG. */
export interface ReportFigure {
  readonly slug: string;
  readonly title: string;
  readonly caption: string;
  readonly spec: TopLevelSpec;
}

/** A piece of a section: HTML made by the section (already escaped), or a figure to render. */
export type ReportBlock = { readonly html: string } | { readonly figure: ReportFigure };

export interface ReportSection {
  readonly id: string;
  readonly title: string;
  readonly blocks: ReportBlock[];
}
