/**
 * Accuracy over ticks, one line per configuration with a min–max band (over the nodes of a gossip
 * run, or over seeds): the vanishing-variance comparison of plain gossip, corrected gossip and FL
 * (Tian et al. 2024).
 */

import type { TopLevelSpec } from 'vega-lite';
import { AXIS, LEGEND, metricTitle } from './messages.js';
import { bandLayers } from './band.js';
import { CONTEXT_GREY, DEFAULT_HEIGHT, DEFAULT_WIDTH, SCHEMA_URL, paperConfig, requireRows, titleProp, uniqueInOrder } from './theme.js';

/** Accuracy of one configuration at one tick: mean and range over nodes or seeds (0..1). */
export interface AccuracyBandRow {
  readonly series: string;
  readonly tick: number;
  readonly mean: number;
  readonly min: number;
  readonly max: number;
}

export interface AccuracyBandChartOptions {
  /** Chart title. Default: none. */
  readonly title?: string;
  /** Width in px. Default 440. */
  readonly width?: number;
  /** Height in px. Default 280. */
  readonly height?: number;
  /** y axis title. Default "test accuracy". */
  readonly yTitle?: string;
  /** x axis title. Default "tick". */
  readonly xTitle?: string;
  /** What the band spans, shown under the legend title. Default "band: min–max over samples". */
  readonly bandTitle?: string;
  /**
   * `facets`: one panel per configuration with its band, the other configurations' means in grey
   * behind it (bands of several series overlap into one muddy colour on a single panel);
   * `overlay`: every band on one panel. Default: `facets` for three or more configurations.
   */
  readonly layout?: 'facets' | 'overlay';
  /** Panels per row in the `facets` layout. Default 3. */
  readonly columns?: number;
}

/** Accuracy vs tick, one line per configuration with a min–max band. */
export function accuracyBandChart(rows: readonly AccuracyBandRow[], options: AccuracyBandChartOptions = {}): TopLevelSpec {
  requireRows('accuracyBandChart', rows);
  const series = uniqueInOrder(rows.map((r) => r.series));
  const x = { field: 'tick', type: 'quantitative' as const, title: options.xTitle ?? AXIS.tick };
  const y = {
    field: 'mean',
    type: 'quantitative' as const,
    title: options.yTitle ?? metricTitle('accuracy', 'test'),
    axis: { format: '.0%' },
    scale: { domain: [0, 1] },
  };
  const color = { field: 'series', type: 'nominal' as const, title: [LEGEND.configuration, options.bandTitle ?? LEGEND.band], sort: series };
  const layout = options.layout ?? (series.length >= 3 ? 'facets' : 'overlay');
  if (layout === 'overlay') {
    return {
      $schema: SCHEMA_URL,
      ...titleProp(options.title),
      config: paperConfig(),
      width: options.width ?? DEFAULT_WIDTH,
      height: options.height ?? DEFAULT_HEIGHT,
      data: { values: rows.map((r) => ({ ...r })) },
      layer: bandLayers(x, y, color),
    } as TopLevelSpec;
  }
  const panelX = { ...x, axis: { tickCount: 4 } };
  // Every row once per panel: `own` rows draw the panel's band and line, the others a grey context line.
  const values = series.flatMap((panel) => rows.map((r) => ({ ...r, panel, own: r.series === panel })));
  const columns = Math.min(options.columns ?? 3, series.length);
  const context = {
    transform: [{ filter: '!datum.own' }],
    mark: { type: 'line', strokeWidth: 1.2, color: CONTEXT_GREY },
    encoding: { x: panelX, y, detail: { field: 'series', type: 'nominal' } },
  };
  return {
    $schema: SCHEMA_URL,
    ...titleProp(options.title),
    config: paperConfig(),
    data: { values },
    facet: { field: 'panel', type: 'nominal', sort: series, title: null, header: { labelFontSize: 13 } },
    columns,
    // Shared scales, an x axis under every panel: a wrapped grid's empty cell then holds no orphan axis.
    resolve: { scale: { x: 'shared', y: 'shared' }, axis: { x: 'independent' } },
    spec: {
      width: options.width ?? Math.round((DEFAULT_WIDTH * 0.75 * 3) / Math.max(columns, 3)),
      height: options.height ?? Math.round(DEFAULT_HEIGHT * 0.7),
      layer: [context, ...bandLayers(panelX, y, color).map((layer) => ({ transform: [{ filter: 'datum.own' }], ...layer }))],
    },
  } as TopLevelSpec;
}
