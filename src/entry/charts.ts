/**
 * `mode-connectivity/charts`: chart builders (pure functions rows → Vega-Lite spec), rendering to
 * SVG/PNG, the HTML report, the Vega-Lite schema validator and CSV output of rows.
 *
 * @module mode-connectivity/charts
 */
export type * from '../rows/rows.js';
export { pathChart, type PathChartOptions } from '../charts/path-chart.js';
export { layerHeatmap, type LayerHeatmapOptions } from '../charts/layer-heatmap.js';
export { cumulativeChart, type CumulativeChartOptions } from '../charts/cumulative-chart.js';
export { robustnessChart, type RobustnessChartOptions } from '../charts/robustness-chart.js';
export { subspaceChart, type SubspaceChartOptions } from '../charts/subspace-chart.js';
export { surfaceChart, type SurfaceChartOptions } from '../charts/surface-chart.js';
export { directionsChart, type DirectionsChartOptions } from '../charts/directions-chart.js';
export { compareLayersChart, disagreementChart, type CompareChartOptions } from '../charts/compare-chart.js';
export { chartRows, detectRowsKind, unwrapRows, ROWS_KINDS, KIND_FIELDS, type RowsKind, type NamedSpec, type ChartRowsOptions } from '../charts/chart-rows.js';
export { pcaChart, projectPca, type PcaChartOptions, type PcaPointMeta, type PcaProjection } from '../charts/pca.js';
export { llpfChart, type LlpfChartOptions, type LlpfPanel } from '../charts/llpf-chart.js';
export { layerVarianceChart, type LayerVarianceChartOptions } from '../charts/layer-variance-chart.js';
export { accuracyBandChart, type AccuracyBandChartOptions, type AccuracyBandRow } from '../charts/accuracy-band-chart.js';
export { renderSvg, renderPng, saveChart, FONT_DIRS, type RenderPngOptions, type SaveChartOptions, type ChartFormat } from '../charts/render.js';
export {
  writeHtmlReport,
  renderHtmlReport,
  missingReportFiles,
  formatNumber,
  columnDecimals,
  escapeHtml,
  type HtmlReport,
  type ReportSection,
  type ReportFigure,
  type ReportTable,
  type ReportCell,
  type ColumnFormat,
} from '../charts/report.js';
export { compileVegaLiteValidator } from '../charts/schema.js';
export type { Metric } from '../charts/messages.js';
export { toCsv } from '../util/csv.js';
