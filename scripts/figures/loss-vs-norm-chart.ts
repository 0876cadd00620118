/**
 * The loss-against-weight-norm chart of llpf-origin-lenet5 (a spec of its own, not a library
 * builder), in a module of its own so that rechart.ts can rebuild it from the saved rows.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { LlpfRow } from '../../src/index.js';
import { paperConfig, SCHEMA_URL } from '../../src/charts/theme.js';

/**
 * Loss against weight norm, one point per recorded tick, joined in tick order (the norm falls from
 * right to left); with `reference`, the test loss and norm of models trained from scratch with
 * stronger weight decay, an independent look at how low the loss can be at a given norm.
 */
export function lossVersusNorm(data: readonly LlpfRow[], reference: readonly { weightDecay: number; weightNorm: number; testLoss: number }[]): TopLevelSpec {
  const subtitle = ['△ highest test loss measured on the segment from the previous recorded point'];
  if (reference.length > 0) subtitle.push('◇ trained from scratch with weight decay λ (test loss; labels give λ)');
  const x = { field: 'weightNorm', type: 'quantitative' as const };
  return {
    $schema: SCHEMA_URL,
    config: paperConfig(),
    title: { text: 'LLPF toward the origin: loss against weight norm', subtitle, subtitleFontSize: 12 },
    width: 440,
    height: 280,
    layer: [
      {
        data: { values: data.map((r) => ({ tick: r.tick, split: r.split, weightNorm: r.weightNorm, loss: r.loss, segmentMaxLoss: r.segmentMaxLoss ?? null })) },
        layer: [
          {
            mark: { type: 'line', point: true },
            encoding: {
              x: { ...x, title: 'weight norm ‖θ‖₂', scale: { zero: false } },
              y: { field: 'loss', type: 'quantitative', title: 'loss (nats, mean cross-entropy)' },
              order: { field: 'tick', type: 'quantitative' },
              color: { field: 'split', type: 'nominal', title: 'split', sort: ['train', 'test'] },
            },
          },
          {
            transform: [{ filter: 'datum.segmentMaxLoss != null && datum.split === "test"' }],
            mark: { type: 'point', shape: 'triangle-up', filled: false, size: 60, color: 'black' },
            encoding: { x, y: { field: 'segmentMaxLoss', type: 'quantitative' } },
          },
        ],
      },
      ...(reference.length === 0
        ? []
        : [
            {
              data: { values: reference.map((r) => ({ ...r, label: `λ ${r.weightDecay}` })) },
              layer: [
                { mark: { type: 'point' as const, shape: 'diamond', filled: true, size: 80, color: 'black' }, encoding: { x, y: { field: 'testLoss', type: 'quantitative' as const } } },
                { mark: { type: 'text' as const, dx: 8, dy: -8, align: 'left' as const, fontSize: 11 }, encoding: { x, y: { field: 'testLoss', type: 'quantitative' as const }, text: { field: 'label', type: 'nominal' as const } } },
              ],
            },
          ]),
    ],
  };
}
