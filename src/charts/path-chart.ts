/**
 * Loss / accuracy / error along one or many paths θ(t), t ∈ [0, 1] (linear interpolation,
 * Bezier or PolyChain curves of Garipov et al. 2018, AutoNEB chains, …): color = path,
 * stroke dash = split, the endpoints t = 0 and t = 1 marked and labelled "mode A" and "mode B".
 *
 * @example
 * const spec = pathChart(rows, { metrics: ['loss', 'accuracy'], splits: ['train', 'test'] });
 * await saveChart(spec, 'figures/linear-vs-bezier');
 */

import type { TopLevelSpec } from 'vega-lite';
import type { PathRow, Split } from '../rows/rows.js';
import { AXIS, LABEL, LEGEND, metricTitle, type Metric } from './messages.js';
import { logTicks } from './surface-chart.js';
import {
  DEFAULT_HEIGHT,
  DEFAULT_WIDTH,
  SCHEMA_URL,
  metricExpr,
  metricFormat,
  metricOf,
  paperConfig,
  rowsOfSplits,
  titleProp,
  uniqueInOrder,
} from './theme.js';

export interface PathChartOptions {
  /** Chart title. Default: none (papers put it in the caption). */
  readonly title?: string;
  /** Width of one panel in px. Default 440. */
  readonly width?: number;
  /** Height of one panel in px. Default 280. */
  readonly height?: number;
  /** Splits to draw (stroke dash tells them apart). Default `['test']`. */
  readonly splits?: readonly Split[];
  /** One panel per metric. Default `['loss']`. */
  readonly metrics?: readonly Metric[];
  /** How several metric panels are arranged: side by side or stacked with a shared t axis. Default `'columns'`. */
  readonly layout?: 'columns' | 'rows';
  /** Log scale on the loss axis (other metrics stay linear). Default `false`. */
  readonly logLoss?: boolean;
  /** Mark t = 0 and t = 1 with points labelled "mode A" and "mode B". Default `true`. */
  readonly markEndpoints?: boolean;
}

/** Loss (and/or accuracy, error) vs t for one or many paths. */
export function pathChart(rows: readonly PathRow[], options: PathChartOptions = {}): TopLevelSpec {
  const splits = options.splits ?? ['test'];
  const metrics = options.metrics ?? ['loss'];
  const width = options.width ?? DEFAULT_WIDTH;
  const height = options.height ?? DEFAULT_HEIGHT;
  const kept = rowsOfSplits('pathChart', rows, splits);
  const paths = uniqueInOrder(kept.map((r) => r.path));
  const presentSplits = uniqueInOrder(kept.map((r) => r.split));
  const oneSplit = presentSplits.length === 1 ? presentSplits[0] : undefined;
  const markEndpoints = options.markEndpoints ?? true;

  const panel = (metric: Metric, showXTitle: boolean) => {
    const log = metric === 'loss' && (options.logLoss ?? false);
    const y = {
      field: 'value',
      type: 'quantitative' as const,
      title: metricTitle(metric, oneSplit),
      // A log scale rounded out to powers of ten would leave most of the panel empty (0.25–2 nats
      // drawn on 0.1–10): the domain ends at the 1-2-5 values around the data, labelled at 1-2-5.
      scale: log ? { type: 'log' as const, ...(logDomainOf(kept) ?? {}), nice: false } : linearScale(metric, kept, height),
      axis: { format: metricFormat(metric), ...(log && logDomainOf(kept) !== undefined ? { values: logTicks(...(logDomainOf(kept)?.domain ?? [1, 1])) } : {}) },
    };
    const x = {
      field: 't',
      type: 'quantitative' as const,
      title: showXTitle ? AXIS.t : null,
      // [0, 1], widened to t beyond the endpoints (interpolation on [−0.5, 1.5]).
      scale: { domain: [Math.min(0, ...kept.map((r) => r.t)), Math.max(1, ...kept.map((r) => r.t))], nice: false },
      axis: { tickCount: 5 },
    };
    const line = {
      mark: { type: 'line' as const, strokeWidth: 2 },
      encoding: {
        x,
        y,
        color: { field: 'path', type: 'nominal' as const, title: LEGEND.path, sort: paths },
        strokeDash: {
          field: 'split',
          type: 'nominal' as const,
          title: LEGEND.split,
          sort: presentSplits,
          // One split is already named in the y title; a one-entry legend would only take space.
          ...(oneSplit === undefined ? {} : { legend: null }),
        },
        detail: { field: 'split', type: 'nominal' as const },
      },
    };
    const endpointFilter = { filter: 'datum.t === 0 || datum.t === 1' };
    const points = {
      transform: [endpointFilter],
      mark: { type: 'point' as const, filled: true, size: 70, color: 'black' },
      encoding: { x, y },
    };
    // One label per endpoint, just above the plot frame: never on a line, whatever the path does.
    const labels = {
      data: { values: [{ t: 0, label: LABEL.modeA }, { t: 1, label: LABEL.modeB }] },
      mark: { type: 'text' as const, baseline: 'bottom' as const, dy: -8, fontSize: 13 },
      encoding: { x, y: { value: 0 }, text: { field: 'label', type: 'nominal' as const } },
    };
    return {
      width,
      height,
      transform: [{ calculate: metricExpr(metric), as: 'value' }],
      layer: markEndpoints ? [line, points, labels] : [line],
    };
  };

  const base = {
    $schema: SCHEMA_URL,
    ...titleProp(options.title),
    config: paperConfig(),
    data: { values: kept.map((r) => ({ ...r })) },
  };
  if (metrics.length === 1) {
    return { ...base, ...panel(metrics[0] ?? 'loss', true) };
  }
  const stacked = options.layout === 'rows';
  const panels = metrics.map((m, i) => panel(m, !stacked || i === metrics.length - 1));
  return (stacked
    ? { ...base, vconcat: panels, resolve: { scale: { x: 'shared' } } }
    : { ...base, hconcat: panels });
}

/** Pixels kept free between a linear panel's extreme point and the plot frame (a point on the frame is half cut off). */
const FRAME_ROOM = 10;

/**
 * A linear y scale with room above the top point before Vega rounds the domain: loss padded by
 * FRAME_ROOM px on both ends; accuracy and error from 0, their top raised by FRAME_ROOM px but
 * never past 100% (a 65% peak otherwise became the domain's 65% end, on the frame).
 */
function linearScale(metric: Metric, rows: readonly PathRow[], height: number) {
  if (metric === 'loss') return { zero: false, padding: FRAME_ROOM };
  const top = Math.max(...rows.map((r) => metricOf(r, metric)));
  // Vega-Lite turns rounding off once domainMax is set; rounding [0, top + room] keeps round ends.
  return { zero: true, domainMax: Math.min(1, (top * height) / (height - FRAME_ROOM)), nice: true };
}

/** The domain of a log loss axis: from the largest 1-2-5 value ≤ the smallest loss to the smallest ≥ the largest (undefined without positive losses). */
export function logLossDomain(losses: readonly number[]): [number, number] | undefined {
  const positive = losses.filter((v) => v > 0 && Number.isFinite(v));
  if (positive.length === 0) return undefined;
  const [lo, hi] = [Math.min(...positive), Math.max(...positive)];
  const steps = (v: number) => {
    const e = Math.floor(Math.log10(v));
    return [e - 1, e, e + 1].flatMap((p) => [1, 2, 5].map((m) => Number((m * 10 ** p).toPrecision(3))));
  };
  return [Math.max(...steps(lo).filter((s) => s <= lo)), Math.min(...steps(hi).filter((s) => s >= hi))];
}

function logDomainOf(rows: readonly PathRow[]): { domain: [number, number] } | undefined {
  const domain = logLossDomain(rows.map((r) => r.loss));
  return domain === undefined ? undefined : { domain };
}
