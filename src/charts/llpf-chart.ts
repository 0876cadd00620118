/**
 * A layer-wise path finding (LLPF) run, tick by tick (Tian, Al-Ars, Kitsak, Hofstee): loss and
 * accuracy of every recorded point, the weight norm ‖θ‖₂ (and optionally the distance to the
 * target), in stacked panels that share the tick axis. The highest loss on the segment from the
 * previous point (the continuity check), when measured, is drawn as points on the loss panel.
 */

import type { TopLevelSpec } from 'vega-lite';
import type { LlpfRow, Split } from '../rows/rows.js';
import { AXIS, LEGEND, metricTitle } from './messages.js';
import { DEFAULT_WIDTH, SCHEMA_URL, metricFormat, paperConfig, rowsOfSplits, titleProp } from './theme.js';

export type LlpfPanel = 'loss' | 'accuracy' | 'weightNorm' | 'distanceToTarget';

export interface LlpfChartOptions {
  /** Chart title. Default: none. */
  readonly title?: string;
  /** Panel width in px. Default 440. */
  readonly width?: number;
  /** Height of each panel in px. Default 150. */
  readonly panelHeight?: number;
  /** Splits on the loss and accuracy panels. Default `['train', 'test']`. */
  readonly splits?: readonly Split[];
  /** Panels from top to bottom. Default `['loss', 'accuracy', 'weightNorm']`. */
  readonly panels?: readonly LlpfPanel[];
  /** Log scale on the loss panel. Default `false`. */
  readonly logLoss?: boolean;
}

/** Loss/accuracy per tick, weight norm per tick, stacked with a shared tick axis. */
export function llpfChart(rows: readonly LlpfRow[], options: LlpfChartOptions = {}): TopLevelSpec {
  const splits = options.splits ?? ['train', 'test'];
  const panels = options.panels ?? ['loss', 'accuracy', 'weightNorm'];
  const kept = rowsOfSplits('llpfChart', rows, splits);
  const width = options.width ?? DEFAULT_WIDTH;
  const height = options.panelHeight ?? 150;
  const color = { field: 'split', type: 'nominal' as const, title: LEGEND.split, sort: [...splits] };

  const panel = (kind: LlpfPanel, last: boolean): object => {
    const x = { field: 'tick', type: 'quantitative' as const, title: last ? AXIS.tick : null, axis: last ? {} : { labels: false } };
    if (kind === 'loss' || kind === 'accuracy') {
      const y = {
        field: kind,
        type: 'quantitative' as const,
        title: kind === 'loss' ? ['loss', '(nats, mean cross-entropy)'] : metricTitle('accuracy'),
        axis: { format: metricFormat(kind) },
        scale: kind === 'loss' && options.logLoss === true ? { type: 'log' } : { zero: false },
      };
      const layers: object[] = [{ mark: { type: 'line' }, encoding: { x, y, color } }];
      if (kind === 'loss' && kept.some((r) => r.segmentMaxLoss !== undefined)) {
        layers.push({
          transform: [{ filter: 'isValid(datum.segmentMaxLoss)' }, { calculate: `'${AXIS.segmentMaxLoss}'`, as: 'measure' }],
          mark: { type: 'point', shape: 'triangle-up', filled: true, size: 45 },
          encoding: {
            x,
            y: { ...y, field: 'segmentMaxLoss' },
            color,
            shape: { field: 'measure', type: 'nominal', title: null, scale: { range: ['triangle-up'] } },
          },
        });
      }
      return { width, height, layer: layers };
    }
    // Norms do not depend on the split: one row per tick.
    const y = {
      field: kind,
      type: 'quantitative' as const,
      title: kind === 'weightNorm' ? AXIS.weightNorm : AXIS.distanceToTarget,
      scale: { zero: false },
    };
    return {
      width,
      height,
      transform: [{ aggregate: [{ op: 'mean', field: kind, as: kind }], groupby: ['tick'] }],
      mark: { type: 'line', color: '#444444' },
      encoding: { x, y },
    };
  };

  return {
    $schema: SCHEMA_URL,
    ...titleProp(options.title),
    config: paperConfig(),
    data: { values: kept.map((r) => ({ ...r })) },
    vconcat: panels.map((p, i) => panel(p, i === panels.length - 1)),
    resolve: { scale: { x: 'shared' } },
    spacing: 8,
  } as TopLevelSpec;
}
