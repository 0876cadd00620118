/**
 * The loss-against-weight-norm chart of llpf-origin-lenet5 (a spec of its own, not a library
 * builder), in a module of its own so that rechart.ts can rebuild it from the saved rows.
 */
import { scale as vegaScale } from 'vega';
import type { TopLevelSpec } from 'vega-lite';
import type { LlpfRow } from '../../src/index.js';
import { estimateTextWidth } from '../../src/charts/text-width.js';
import { paperConfig, SCHEMA_URL } from '../../src/charts/theme.js';

const WIDTH = 440;
const HEIGHT = 280;
const LABEL_FONT_SIZE = 11;

/** Where a λ label goes relative to its diamond (Vega text mark align, baseline and offsets in px). */
interface Placement {
  readonly align: 'left' | 'center' | 'right';
  readonly baseline: 'top' | 'middle' | 'bottom';
  readonly dx: number;
  readonly dy: number;
}

const PLACEMENTS: readonly Placement[] = [
  { align: 'left', baseline: 'middle', dx: 10, dy: 0 },
  { align: 'right', baseline: 'middle', dx: -10, dy: 0 },
  { align: 'center', baseline: 'bottom', dx: 0, dy: -10 },
  { align: 'center', baseline: 'top', dx: 0, dy: 10 },
  { align: 'left', baseline: 'bottom', dx: 7, dy: -7 },
  { align: 'right', baseline: 'bottom', dx: -7, dy: -7 },
  { align: 'left', baseline: 'top', dx: 7, dy: 7 },
  { align: 'right', baseline: 'top', dx: -7, dy: 7 },
];

type Box = { x0: number; y0: number; x1: number; y1: number };
type Pt = [number, number];

function pointBoxDistance([x, y]: Pt, b: Box): number {
  return Math.hypot(Math.max(b.x0 - x, 0, x - b.x1), Math.max(b.y0 - y, 0, y - b.y1));
}

function segmentBoxDistance(p: Pt, q: Pt, b: Box): number {
  // Sampling the segment every px is exact enough for a clearance of a few px.
  const n = Math.max(1, Math.ceil(Math.hypot(q[0] - p[0], q[1] - p[1])));
  let d = Infinity;
  for (let i = 0; i <= n; i++) d = Math.min(d, pointBoxDistance([p[0] + ((q[0] - p[0]) * i) / n, p[1] + ((q[1] - p[1]) * i) / n], b));
  return d;
}

/**
 * For each labelled point, the placement whose text box lies inside the plot and farthest from the
 * lines and the other points (in px, on the scales Vega will draw: x from the data, y from 0, both
 * rounded). A fixed offset put "λ 0.05" on the top edge and "λ 0.01" on the test line.
 */
export function placeLabels(labels: readonly { x: number; y: number; text: string }[], lines: readonly (readonly Pt[])[], points: readonly Pt[]): Placement[] {
  const xs = [...lines.flat(), ...points, ...labels.map((l): Pt => [l.x, l.y])].map((p) => p[0]);
  const ys = [...lines.flat(), ...points, ...labels.map((l): Pt => [l.x, l.y])].map((p) => p[1]);
  const linear = vegaScale('linear') as () => { domain(d: number[]): { range(r: number[]): { nice(): (v: number) => number } } };
  const sx = linear().domain([Math.min(...xs), Math.max(...xs)]).range([0, WIDTH]).nice();
  const sy = linear().domain([Math.min(0, ...ys), Math.max(...ys)]).range([HEIGHT, 0]).nice();
  const px = (p: Pt): Pt => [sx(p[0]), sy(p[1])];
  const segments = lines.flatMap((l) => l.slice(1).map((q, i): [Pt, Pt] => [px(l[i] as Pt), px(q)]));
  return labels.map((label, k) => {
    const others = [...points, ...labels.filter((_, j) => j !== k).map((l): Pt => [l.x, l.y])].map(px);
    const [ax, ay] = px([label.x, label.y]);
    const w = estimateTextWidth(label.text, LABEL_FONT_SIZE);
    const h = LABEL_FONT_SIZE;
    let best: { placement: Placement; clearance: number } | undefined;
    for (const placement of PLACEMENTS) {
      const x0 = ax + placement.dx - (placement.align === 'left' ? 0 : placement.align === 'right' ? w : w / 2);
      const y0 = ay + placement.dy - (placement.baseline === 'top' ? 0 : placement.baseline === 'bottom' ? h : h / 2);
      const box = { x0, y0, x1: x0 + w, y1: y0 + h };
      if (box.x0 < 2 || box.y0 < 2 || box.x1 > WIDTH - 2 || box.y1 > HEIGHT - 2) continue;
      const clearance = Math.min(...segments.map(([p, q]) => segmentBoxDistance(p, q, box)), ...others.map((p) => pointBoxDistance(p, box) - 5));
      if (best === undefined || clearance > best.clearance) best = { placement, clearance };
    }
    return best?.placement ?? PLACEMENTS[0] as Placement;
  });
}

/**
 * Loss against weight norm, one point per recorded tick, joined in tick order (the norm falls from
 * right to left); with `reference`, the test loss and norm of models trained from scratch with
 * stronger weight decay, an independent look at how low the loss can be at a given norm.
 */
export function lossVersusNorm(data: readonly LlpfRow[], reference: readonly { weightDecay: number; weightNorm: number; testLoss: number }[]): TopLevelSpec {
  const subtitle = ['△ highest test loss measured on the segment from the previous recorded point'];
  if (reference.length > 0) subtitle.push('◇ trained from scratch with weight decay λ (test loss; labels give λ)');
  const x = { field: 'weightNorm', type: 'quantitative' as const };
  const lines = (['train', 'test'] as const).map((split) => data.filter((r) => r.split === split).sort((a, b) => a.tick - b.tick).map((r): Pt => [r.weightNorm, r.loss]));
  const triangles = data.filter((r) => r.split === 'test' && r.segmentMaxLoss !== undefined).map((r): Pt => [r.weightNorm, r.segmentMaxLoss ?? 0]);
  const labelled = reference.map((r) => ({ x: r.weightNorm, y: r.testLoss, text: `λ ${r.weightDecay}` }));
  const placements = placeLabels(labelled, lines, [...lines.flat(), ...triangles]);
  return {
    $schema: SCHEMA_URL,
    config: paperConfig(),
    title: { text: 'LLPF toward the origin: loss against weight norm', subtitle, subtitleFontSize: 12 },
    width: WIDTH,
    height: HEIGHT,
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
                ...reference.map((r, i) => ({
                  transform: [{ filter: { field: 'weightDecay', equal: r.weightDecay } }],
                  mark: { type: 'text' as const, fontSize: LABEL_FONT_SIZE, ...placements[i] },
                  encoding: { x, y: { field: 'testLoss', type: 'quantitative' as const }, text: { field: 'label', type: 'nominal' as const } },
                })),
              ],
            },
          ]),
    ],
  };
}
