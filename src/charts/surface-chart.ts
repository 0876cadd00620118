/**
 * 2D loss surface on the plane through three parameter maps (Garipov et al. 2018, "Loss surfaces,
 * mode connectivity and fast ensembling", Fig. 1): one rect per grid point of the (u, v) plane,
 * colored by loss on a log (default), clipped-linear or stepped ("loss levels") sequential scale,
 * with the path(s) projected on the plane drawn as lines and the modes / bends as labelled points.
 *
 * @example
 * surfaceChart(surfaceRows, projectedPoints, { color: 'levels', levels: 8 });
 */

import type { TopLevelSpec } from 'vega-lite';
import type { ProjectedPoint, Split, SurfaceRow } from '../rows/rows.js';
import { AXIS, ERROR, LEGEND, type Metric } from './messages.js';
import { contourSegments } from './contours.js';
import { DEFAULT_WIDTH, LEGEND_BOX, SCHEMA_URL, metricOf, niceTicks, paperConfig, rowsOfSplits, titleProp, uniqueInOrder } from './theme.js';

export interface SurfaceChartOptions {
  /** Chart title. Default: none. */
  readonly title?: string;
  /** Plot width in px. Default 440. */
  readonly width?: number;
  /** Plot height in px. Default: width × (v range / u range), so distances read the same on both axes. */
  readonly height?: number;
  /** Split shown. Default `'test'`. */
  readonly split?: Split;
  /** Cell value. Default `'loss'`. */
  readonly metric?: Metric;
  /** Color scale: continuous log, linear, or `levels` log-spaced steps (contour-like bands). Default `'log'`. */
  readonly color?: 'log' | 'linear' | 'levels';
  /** Number of color steps for `levels`. Default 8. */
  readonly levels?: number;
  /** Clip: values above are drawn with the top color, so a few huge losses do not wash out the basin. Default: no clipping. */
  readonly clipMax?: number;
  /** Sequential scheme. Default `'viridis'` (dark = low loss). */
  readonly scheme?: string;
  /** Series drawn as labelled points rather than lines. Default `['mode', 'bend']`. */
  readonly pointSeries?: readonly string[];
  /**
   * Contour lines at the legend's values (log and linear scales) or at the level boundaries
   * (`levels`), by marching squares over the grid. Default `true` (needs at least a 2×2 grid).
   */
  readonly contours?: boolean;
  /** Axis titles of u and v. Default: u and v in units of ‖B − A‖ (plane coordinates). */
  readonly axisTitles?: readonly [string, string];
}

/** Half-way boundaries between sorted grid coordinates; the outer cells get the same width as their neighbour. */
function cellEdges(coords: readonly number[]): Map<number, [number, number]> {
  const sorted = [...new Set(coords)].sort((a, b) => a - b);
  const edges = new Map<number, [number, number]>();
  sorted.forEach((c, i) => {
    const prev = sorted[i - 1];
    const next = sorted[i + 1];
    const left = prev !== undefined ? (prev + c) / 2 : next !== undefined ? c - (next - c) / 2 : c - 0.5;
    const right = next !== undefined ? (c + next) / 2 : prev !== undefined ? c + (c - prev) / 2 : c + 0.5;
    edges.set(c, [left, right]);
  });
  return edges;
}

/** Log-spaced thresholds between lo and hi (n − 1 inner boundaries for n levels). */
function logLevels(lo: number, hi: number, n: number): number[] {
  const a = Math.log(lo);
  const b = Math.log(hi);
  return Array.from({ length: n - 1 }, (_, i) => Number(Math.exp(a + ((b - a) * (i + 1)) / n).toPrecision(3)));
}

/** Legend ticks for a log color scale: the 1-2-5 values within [lo, hi], plus lo and hi when fewer than 3. */
export function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const t = Number((m * 10 ** e).toPrecision(3));
      if (t >= lo && t <= hi) ticks.push(t);
    }
  }
  if (ticks.length >= 3) return ticks;
  return [...new Set([Number(lo.toPrecision(3)), ...ticks, Number(hi.toPrecision(3))])].sort((a, b) => a - b);
}

/** Contour segments of the cell values as line rows (two points per segment, `segment` groups them). */
function contourRows(cells: readonly { u: number; v: number; value: number }[], levels: readonly number[], transform?: (v: number) => number) {
  const us = uniqueInOrder(cells.map((c) => c.u)).sort((a, b) => a - b);
  const vs = uniqueInOrder(cells.map((c) => c.v)).sort((a, b) => a - b);
  if (us.length < 2 || vs.length < 2) return [];
  const at = new Map(cells.map((c) => [`${c.u},${c.v}`, c.value]));
  const grid = { xs: us, ys: vs, value: (i: number, j: number) => at.get(`${us[i]},${vs[j]}`) };
  const round = (x: number) => Number(x.toFixed(5));
  return contourSegments(grid, levels, transform).flatMap((s, k) => [
    { segment: k, level: s.level, u: round(s.from[0]), v: round(s.from[1]) },
    { segment: k, level: s.level, u: round(s.to[0]), v: round(s.to[1]) },
  ]);
}

/**
 * Text placement per marker: left of it, right of it, or above it, by its u relative to the plot's
 * centre; a middle marker in the top fifth of the plot (`nearTop`) is labelled to its right, where
 * the text stays inside the plot and off the curve that runs below a Bezier bend.
 */
function labelGroups<P extends { u: number; v: number }>(points: readonly P[], centre: number, band: number, nearTop: number) {
  const middle = (p: P) => Math.abs(p.u - centre) <= band;
  const groups = [
    { test: (p: P) => p.u < centre - band, mark: { align: 'right', baseline: 'middle', dx: -11, dy: -9 } },
    { test: (p: P) => p.u > centre + band, mark: { align: 'left', baseline: 'middle', dx: 11, dy: -9 } },
    { test: (p: P) => middle(p) && p.v < nearTop, mark: { align: 'center', baseline: 'bottom', dy: -11 } },
    { test: (p: P) => middle(p) && p.v >= nearTop, mark: { align: 'left', baseline: 'middle', dx: 11 } },
  ];
  return groups.map(({ test, mark }) => ({ values: points.filter(test), mark })).filter((g) => g.values.length > 0);
}

/** Loss surface heatmap on the (u, v) plane with projected paths and labelled modes. */
export function surfaceChart(
  surface: readonly SurfaceRow[],
  points: readonly ProjectedPoint[],
  options: SurfaceChartOptions = {},
): TopLevelSpec {
  const split = options.split ?? 'test';
  const metric = options.metric ?? 'loss';
  const colorKind = options.color ?? 'log';
  const kept = rowsOfSplits('surfaceChart', surface, [split]);
  const uEdges = cellEdges(kept.map((r) => r.u));
  const vEdges = cellEdges(kept.map((r) => r.v));
  const cells = kept.map((r) => {
    const [u0, u1] = uEdges.get(r.u) ?? [r.u, r.u];
    const [v0, v1] = vEdges.get(r.v) ?? [r.v, r.v];
    const raw = metricOf(r, metric);
    // Cells overlap by 2% so anti-aliasing leaves no white seams between neighbours.
    const du = 0.02 * (u1 - u0);
    const dv = 0.02 * (v1 - v0);
    return { u: r.u, v: r.v, u0: u0 - du, u1: u1 + du, v0: v0 - dv, v1: v1 + dv, value: options.clipMax === undefined ? raw : Math.min(raw, options.clipMax) };
  });
  const vals = cells.map((c) => c.value);
  const lo = Math.min(...vals);
  const hi = Math.max(...vals);
  if ((colorKind === 'log' || colorKind === 'levels') && lo <= 0) {
    throw new Error(ERROR.badOption('surfaceChart', 'color', `"linear" when some values are ≤ 0 (min ${lo})`, colorKind));
  }
  // The plot covers the grid and every projected point: a bend outside the evaluated grid is shown, not dropped.
  const uMin = Math.min(...cells.map((c) => c.u0), ...points.map((p) => p.u));
  const uMax = Math.max(...cells.map((c) => c.u1), ...points.map((p) => p.u));
  const vMin = Math.min(...cells.map((c) => c.v0), ...points.map((p) => p.v));
  const vMax = Math.max(...cells.map((c) => c.v1), ...points.map((p) => p.v));
  const width = options.width ?? DEFAULT_WIDTH;
  const height = options.height ?? Math.round((width * (vMax - vMin)) / (uMax - uMin));
  const scheme = options.scheme ?? 'viridis';
  const percent = metric !== 'loss';
  const format = percent ? '.1~%' : '.3~g';
  const colorTitle = metric === 'loss' ? LEGEND.surfaceLoss(split) : metric === 'error' ? LEGEND.surfaceError(split) : LEGEND.surfaceAccuracy(split);
  const scale =
    colorKind === 'levels'
      ? { type: 'threshold' as const, domain: logLevels(lo, hi, options.levels ?? 8), scheme: { name: scheme, count: options.levels ?? 8 } }
      : colorKind === 'log'
        ? { type: 'log' as const, scheme }
        : { type: 'linear' as const, scheme };
  const clipped = options.clipMax === undefined ? '' : ' ≥';
  const [uTitle, vTitle] = options.axisTitles ?? [AXIS.u, AXIS.v];
  const x = { field: 'u0', type: 'quantitative' as const, title: uTitle, scale: { domain: [uMin, uMax], nice: false, zero: false } };
  const y = { field: 'v0', type: 'quantitative' as const, title: vTitle, scale: { domain: [vMin, vMax], nice: false, zero: false } };
  const surfaceLayer = {
    data: { values: cells },
    mark: { type: 'rect' as const },
    encoding: {
      x,
      x2: { field: 'u1' },
      y,
      y2: { field: 'v1' },
      color: {
        field: 'value',
        type: 'quantitative' as const,
        title: clipped === '' ? colorTitle : `${colorTitle} (clipped at ${options.clipMax})`,
        scale,
        legend: {
          format,
          ...(colorKind === 'levels' ? {} : { gradientLength: Math.max(120, height - 80) }),
          // Labelled at the contour levels too (a linear gradient labelled only at min and max reads poorly).
          ...(colorKind === 'log' ? { values: logTicks(lo, hi) } : colorKind === 'linear' ? { values: niceTicks(lo, hi, 6) } : {}),
        },
      },
    },
  };
  const layers: object[] = [surfaceLayer];
  if (options.contours ?? true) {
    const levels =
      colorKind === 'levels' ? scale.domain ?? [] : colorKind === 'log' ? logTicks(lo, hi) : niceTicks(lo, hi, 6);
    const contourValues = contourRows(cells, levels.filter((l) => l > lo && l < hi), colorKind === 'linear' ? undefined : Math.log);
    if (contourValues.length > 0) {
      layers.push({
        data: { values: contourValues },
        mark: { type: 'line', color: 'white', strokeWidth: 0.8, opacity: 0.55, clip: true },
        encoding: {
          x: { field: 'u', type: 'quantitative' as const, title: uTitle },
          y: { field: 'v', type: 'quantitative' as const, title: vTitle },
          detail: { field: 'segment', type: 'nominal' as const },
        },
      });
    }
  }
  const pointSeries = options.pointSeries ?? ['mode', 'bend'];
  const lineValues = points.filter((p) => !pointSeries.includes(p.series)).map((p) => ({ ...p }));
  const markValues = points.filter((p) => pointSeries.includes(p.series)).map((p) => ({ ...p }));
  const px = { field: 'u', type: 'quantitative' as const, title: uTitle };
  const py = { field: 'v', type: 'quantitative' as const, title: vTitle };
  if (lineValues.length > 0) {
    layers.push({
      data: { values: lineValues },
      mark: { type: 'line', color: 'white', strokeWidth: 2.5, clip: true },
      encoding: {
        x: px,
        y: py,
        order: { field: 'order', type: 'quantitative' },
        strokeDash: {
          field: 'series',
          type: 'nominal',
          title: LEGEND.path,
          sort: uniqueInOrder(lineValues.map((p) => p.series)),
          // White lines in the legend too, on a dark box, so the swatches look like the drawn lines.
          legend: {
            symbolStrokeColor: 'white',
            symbolType: 'stroke',
            symbolStrokeWidth: 2.5,
            fillColor: LEGEND_BOX,
            labelColor: 'white',
            titleColor: 'white',
            padding: 6,
            cornerRadius: 3,
          },
        },
      },
    });
  }
  if (markValues.length > 0) {
    layers.push(
      {
        data: { values: markValues },
        mark: { type: 'point', filled: true, color: 'white', stroke: 'black', strokeWidth: 1.5, size: 110, opacity: 1 },
        encoding: { x: px, y: py },
      },
      // Labels beside their markers, never on them: points on the left half of the plot are
      // labelled to their left, on the right half to their right, near the middle above.
      ...labelGroups(markValues, (uMin + uMax) / 2, (uMax - uMin) / 6, vMax - (vMax - vMin) / 5).map(({ values, mark }) => ({
        data: { values },
        mark: { type: 'text', color: 'white', fontSize: 14, fontWeight: 'bold', ...mark },
        encoding: { x: px, y: py, text: { field: 'label', type: 'nominal' } },
      })),
    );
  }
  return {
    $schema: SCHEMA_URL,
    ...titleProp(options.title),
    config: paperConfig(),
    width,
    height,
    layer: layers,
    resolve: { scale: { color: 'independent' } },
  } as TopLevelSpec;
}
