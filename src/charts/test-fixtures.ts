/**
 * Small deterministic synthetic rows for the chart tests, snapshots and the example figures.
 * Closed forms (no randomness) with the shapes the analyses produce: a linear path with a barrier
 * of ≈ 1.8 nats in the middle, a Bezier curve without one, layers whose single-layer barriers are
 * ≈ 0, and so on. Numbers are rounded to 4 decimals so snapshots stay readable.
 */

import type {
  CumulativeRow,
  LayerRow,
  LayerStatRow,
  LlpfRow,
  PathRow,
  ProjectedPoint,
  RobustnessRow,
  SubspaceRow,
  SurfaceRow,
} from '../barriers/rows.js';
import type { TopLevelSpec } from 'vega-lite';
import { accuracyBandChart, type AccuracyBandRow } from './accuracy-band-chart.js';
import { cumulativeChart } from './cumulative-chart.js';
import { layerHeatmap } from './layer-heatmap.js';
import { layerVarianceChart } from './layer-variance-chart.js';
import { llpfChart } from './llpf-chart.js';
import { pathChart } from './path-chart.js';
import { pcaChart, projectPca } from './pca.js';
import { robustnessChart } from './robustness-chart.js';
import { subspaceChart } from './subspace-chart.js';
import { surfaceChart } from './surface-chart.js';

const r4 = (x: number): number => Math.round(x * 1e4) / 1e4;
const grid = (n: number): number[] => Array.from({ length: n }, (_, i) => r4(i / (n - 1)));

export const LAYERS = ['conv1', 'conv2', 'fc1', 'fc2', 'fc3'] as const;

export function pathRows(points = 5): PathRow[] {
  const rows: PathRow[] = [];
  for (const t of grid(points)) {
    const bump = 4 * t * (1 - t);
    for (const split of ['train', 'test'] as const) {
      const base = split === 'train' ? 0.3 : 0.35;
      rows.push({ path: 'linear', t, split, loss: r4(base + 1.8 * bump), accuracy: r4(0.9 - 0.74 * bump) });
      rows.push({ path: 'bezier', t, split, loss: r4(base + 0.05 * bump), accuracy: r4(0.9 - 0.01 * bump) });
    }
  }
  return rows;
}

export function layerRows(withEpochs = false): LayerRow[] {
  const rows: LayerRow[] = [];
  const epochs = withEpochs ? [1, 2, 3] : [undefined];
  for (const epoch of epochs) {
    LAYERS.forEach((layer, layerIndex) => {
      const height = 0.02 + 0.1 * Math.sin((Math.PI * (layerIndex + 0.5)) / LAYERS.length) * (epoch ?? 1);
      for (const rest of ['A', 'B'] as const) {
        for (const t of grid(3)) {
          const bump = 4 * t * (1 - t);
          const row: LayerRow = {
            layer, layerIndex, rest, t, split: 'test',
            loss: r4(0.35 + height * bump), accuracy: r4(0.9 - 0.1 * height * bump), barrier: r4(height),
          };
          rows.push(epoch === undefined ? row : { ...row, epoch });
        }
      }
    });
  }
  return rows;
}

export function cumulativeRows(): CumulativeRow[] {
  const orders = {
    shallow: [...LAYERS],
    deep: [...LAYERS].reverse(),
    random: ['fc1', 'conv1', 'fc3', 'conv2', 'fc2'],
  } as const;
  const rows: CumulativeRow[] = [];
  for (const [order, layers] of Object.entries(orders) as [CumulativeRow['order'], readonly string[]][]) {
    layers.forEach((addedLayer, i) => {
      const step = i + 1;
      // The barrier rises once a middle layer (conv2, fc1) is in the interpolated set.
      const middle = layers.slice(0, step).filter((l) => l === 'conv2' || l === 'fc1').length;
      const barrier = r4(0.02 * step + 0.8 * middle);
      rows.push({ order, step, addedLayer, split: 'test', loss: r4(0.35 + barrier), accuracy: r4(0.9 - 0.3 * barrier), barrier });
    });
  }
  return rows;
}

export function robustnessRows(): RobustnessRow[] {
  const rows: RobustnessRow[] = [];
  for (const layer of LAYERS.slice(0, 3)) {
    for (const t of grid(5)) {
      rows.push({ layer, direction: 'interpolation', sample: 0, t, split: 'test', loss: r4(0.35 + 0.1 * t * (1 - t)), accuracy: 0.9 });
      for (let sample = 0; sample < 3; sample++) {
        const loss = r4(0.35 + (1 + 0.3 * sample) * 1.5 * t * t);
        rows.push({ layer, direction: 'random', sample, t, split: 'test', loss, accuracy: r4(0.9 - 0.1 * loss) });
      }
    }
  }
  return rows;
}

export function subspaceRows(): SubspaceRow[] {
  const rows: SubspaceRow[] = [];
  const slope = { interpolation: 3, 'training-subspace': 1, 'null-space': 0.3 } as const;
  for (const direction of ['interpolation', 'training-subspace', 'null-space'] as const) {
    for (const magnitude of grid(5)) {
      for (let sample = 0; sample < 3; sample++) {
        const loss = r4(0.35 + slope[direction] * (1 + 0.2 * sample) * magnitude * magnitude);
        rows.push({ direction, sample, magnitude, split: 'test', loss, accuracy: r4(Math.max(0.1, 0.9 - 0.2 * loss)) });
      }
    }
  }
  return rows;
}

/** Loss surface with two basins at (0, 0) and (1, 0) joined by a low-loss arc through (0.5, 0.5). */
export function surfaceRows(n = 9): SurfaceRow[] {
  const rows: SurfaceRow[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const u = r4(-0.25 + (1.5 * i) / (n - 1));
      const v = r4(-0.25 + (1.5 * j) / (n - 1));
      const arc = Math.abs(v - 2 * u * (1 - u));
      const loss = r4(0.3 + 4 * arc * arc + 2 * (Math.max(0, -u) + Math.max(0, u - 1)) ** 2);
      rows.push({ u, v, split: 'test', loss, accuracy: r4(Math.max(0.1, 0.92 - 0.25 * loss)) });
    }
  }
  return rows;
}

export function projectedPoints(): ProjectedPoint[] {
  const points: ProjectedPoint[] = [
    { label: 'θ_A', series: 'mode', u: 0, v: 0, order: 0 },
    { label: 'bend', series: 'bend', u: 0.5, v: 1, order: 0.5 },
    { label: 'θ_B', series: 'mode', u: 1, v: 0, order: 1 },
  ];
  for (const t of grid(5)) {
    points.push({ label: `t=${t}`, series: 'bezier', u: t, v: r4(2 * t * (1 - t)), order: t });
    points.push({ label: `t=${t}`, series: 'linear', u: t, v: 0, order: t });
  }
  return points;
}

export function llpfRows(): LlpfRow[] {
  const rows: LlpfRow[] = [];
  for (let tick = 0; tick <= 40; tick += 10) {
    for (const split of ['train', 'test'] as const) {
      const loss = r4((split === 'train' ? 0.3 : 0.35) + 0.05 * Math.sin(tick / 7));
      const row: LlpfRow = {
        tick, split, loss, accuracy: r4(0.9 - 0.1 * loss),
        weightNorm: r4(20 + tick / 10), distanceToTarget: r4(10 * (1 - tick / 40)),
      };
      rows.push(tick > 0 && split === 'test' ? { ...row, segmentMaxLoss: r4(loss + 0.02) } : row);
    }
  }
  return rows;
}

export function layerStatRows(): LayerStatRow[] {
  const rows: LayerStatRow[] = [];
  for (const series of ['gossip', 'gossip + correction'] as const) {
    LAYERS.slice(0, 3).forEach((layer, k) => {
      for (let tick = 0; tick <= 4; tick++) {
        const decay = series === 'gossip' ? 0.28 ** tick : 1;
        rows.push({ tick: tick * 10, layer, series, variance: Number((0.01 * (k + 1) * decay).toPrecision(4)) });
      }
    });
  }
  return rows;
}

export function accuracyBandRows(): AccuracyBandRow[] {
  const rows: AccuracyBandRow[] = [];
  const rate = { FL: 0.2, gossip: 0.03, 'gossip + correction': 0.18 } as const;
  for (const series of ['FL', 'gossip', 'gossip + correction'] as const) {
    for (let tick = 0; tick <= 100; tick += 20) {
      const mean = r4(0.1 + 0.8 * (1 - Math.exp(-rate[series] * tick)));
      rows.push({ series, tick, mean, min: r4(Math.max(0, mean - 0.05)), max: r4(Math.min(1, mean + 0.03)) });
    }
  }
  return rows;
}

/** Deep copy with every number rounded to `digits` significant digits (stable snapshots). */
export function roundNumbers<T>(value: T, digits = 4): T {
  return JSON.parse(
    JSON.stringify(value, (_k, v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? Number(v.toPrecision(digits)) : v)),
  ) as T;
}

/** One example spec per builder (and per main option), built from the rows above. */
export function exampleSpecs(): Record<string, TopLevelSpec> {
  const pp = projectedPoints();
  const pca = projectPca(
    pp.map((p) => new Float32Array([p.u, p.v, 0.1 * p.u * p.v])),
    pp,
  );
  return {
    'path-chart': pathChart(pathRows(5), { metrics: ['loss', 'accuracy'], splits: ['train', 'test'] }),
    'path-chart-error-rows': pathChart(pathRows(5), { metrics: ['loss', 'error'], layout: 'rows', logLoss: true }),
    'layer-heatmap': layerHeatmap(layerRows()),
    'layer-heatmap-epoch-barrier': layerHeatmap(layerRows(true), { value: 'barrier', x: 'epoch' }),
    'cumulative-chart': cumulativeChart(cumulativeRows()),
    'cumulative-chart-overlay': cumulativeChart(cumulativeRows(), { layout: 'overlay' }),
    'robustness-chart': robustnessChart(robustnessRows()),
    'subspace-chart': subspaceChart(subspaceRows()),
    'surface-chart': surfaceChart(surfaceRows(5), pp),
    'surface-chart-levels': surfaceChart(surfaceRows(5), pp, { color: 'levels', levels: 6, clipMax: 5 }),
    'pca-chart': pcaChart(pca.points, { explainedVarianceRatio: pca.explainedVarianceRatio }),
    'llpf-chart': llpfChart(llpfRows()),
    'layer-variance-chart': layerVarianceChart(layerStatRows()),
    'layer-variance-chart-dash': layerVarianceChart(layerStatRows(), { seriesAs: 'strokeDash' }),
    'accuracy-band-chart': accuracyBandChart(accuracyBandRows()),
  };
}
