/**
 * PCA of parameter vectors (path points, modes, checkpoints) and its chart.
 *
 * projectPca: X (n × d, one flattened parameter map per row) is centred, X_c = X − 1·meanᵀ; with
 * d ≫ n (millions of weights, tens of points) the n × n Gram matrix G = X_c X_cᵀ is decomposed
 * instead of the d × d covariance: G = E Λ Eᵀ, and the coordinates of point i on PC k are
 * √λ_k · E_ik (the same as X_c·v_k for the covariance eigenvector v_k). Explained variance ratio
 * of PC k = λ_k / Σ_j λ_j. Signs are fixed so the first point has a non-positive coordinate,
 * making the projection deterministic.
 */

import type { TopLevelSpec } from 'vega-lite';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import type { ProjectedPoint } from '../rows/rows.js';
import { AXIS, ERROR, LEGEND } from './messages.js';
import { DEFAULT_HEIGHT, DEFAULT_WIDTH, SCHEMA_URL, paperConfig, requireRows, titleProp, uniqueInOrder } from './theme.js';

/** What each projected vector is: its label, series and position along its path. */
export interface PcaPointMeta {
  readonly label: string;
  readonly series: string;
  readonly order: number;
}

export interface PcaProjection {
  /** One point per input vector, in input order: u = PC1, v = PC2. */
  readonly points: ProjectedPoint[];
  /** Share of the total variance explained by PC1 and PC2 (0..1). */
  readonly explainedVarianceRatio: readonly [number, number];
}

/** Project vectors onto their first two principal components. */
export function projectPca(vectors: readonly Float32Array[], meta: readonly PcaPointMeta[]): PcaProjection {
  const n = vectors.length;
  if (n < 2) throw new Error(ERROR.pcaInput('at least 2 vectors', `${n}`));
  if (meta.length !== n) throw new Error(ERROR.pcaInput(`one meta entry per vector (${n})`, `${meta.length}`));
  const d = vectors[0]?.length ?? 0;
  vectors.forEach((v, i) => {
    if (v.length !== d) throw new Error(ERROR.pcaInput(`vectors of length ${d} (vector 0)`, `length ${v.length} at vector ${i}`));
  });
  const mean = new Float64Array(d);
  for (const v of vectors) for (let j = 0; j < d; j++) mean[j] = (mean[j] ?? 0) + (v[j] ?? 0) / n;
  const centred = vectors.map((v) => {
    const c = new Float64Array(d);
    for (let j = 0; j < d; j++) c[j] = (v[j] ?? 0) - (mean[j] ?? 0);
    return c;
  });
  const gram = Matrix.zeros(n, n);
  for (let a = 0; a < n; a++) {
    for (let b = a; b < n; b++) {
      const ca = centred[a] ?? new Float64Array(0);
      const cb = centred[b] ?? new Float64Array(0);
      let s = 0;
      for (let j = 0; j < d; j++) s += (ca[j] ?? 0) * (cb[j] ?? 0);
      gram.set(a, b, s);
      gram.set(b, a, s);
    }
  }
  const eig = new EigenvalueDecomposition(gram, { assumeSymmetric: true });
  const values = eig.realEigenvalues.map((l) => Math.max(0, l));
  const vecs = eig.eigenvectorMatrix;
  const order = values.map((_, k) => k).sort((a, b) => (values[b] ?? 0) - (values[a] ?? 0));
  const total = values.reduce((a, b) => a + b, 0);
  const coord = (k: number | undefined): number[] => {
    if (k === undefined) return new Array<number>(n).fill(0);
    const scale = Math.sqrt(values[k] ?? 0);
    const col = Array.from({ length: n }, (_, i) => scale * vecs.get(i, k));
    const sign = (col[0] ?? 0) > 0 ? -1 : 1;
    return col.map((x) => sign * x + 0); // + 0 turns −0 into 0
  };
  const k1 = order[0];
  const k2 = order[1];
  const u = coord(k1);
  const v = coord(k2);
  const ratio = (k: number | undefined): number => (total > 0 && k !== undefined ? (values[k] ?? 0) / total : 0);
  return {
    points: meta.map((m, i) => ({ label: m.label, series: m.series, order: m.order, u: u[i] ?? 0, v: v[i] ?? 0 })),
    explainedVarianceRatio: [ratio(k1), ratio(k2)],
  };
}

export interface PcaChartOptions {
  /** Chart title. Default: none. */
  readonly title?: string;
  /** Width in px. Default 440. */
  readonly width?: number;
  /** Height in px. Default 280. */
  readonly height?: number;
  /** Explained variance ratios of PC1 and PC2, shown in the axis titles. Default: not shown. */
  readonly explainedVarianceRatio?: readonly [number, number];
  /** Series drawn as labelled points rather than lines. Default `['mode', 'bend']`. */
  readonly pointSeries?: readonly string[];
}

/** 2D PCA projection: one line per series (ordered by `order`), modes as labelled points. */
export function pcaChart(points: readonly ProjectedPoint[], options: PcaChartOptions = {}): TopLevelSpec {
  requireRows('pcaChart', points);
  const pointSeries = options.pointSeries ?? ['mode', 'bend'];
  const lines = points.filter((p) => !pointSeries.includes(p.series)).map((p) => ({ ...p }));
  const marks = points.filter((p) => pointSeries.includes(p.series)).map((p) => ({ ...p }));
  const ratio = options.explainedVarianceRatio;
  const x = { field: 'u', type: 'quantitative' as const, title: AXIS.pc(1, ratio?.[0]), scale: { zero: false, padding: 12 } };
  const y = { field: 'v', type: 'quantitative' as const, title: AXIS.pc(2, ratio?.[1]), scale: { zero: false, padding: 12 } };
  const layers: object[] = [];
  if (lines.length > 0) {
    const color = { field: 'series', type: 'nominal' as const, title: LEGEND.path, sort: uniqueInOrder(lines.map((p) => p.series)) };
    layers.push({
      data: { values: lines },
      mark: { type: 'line', point: { filled: true, size: 30 } },
      encoding: { x, y, color, order: { field: 'order', type: 'quantitative' } },
    });
  }
  if (marks.length > 0) {
    layers.push(
      { data: { values: marks }, mark: { type: 'point', filled: true, color: 'black', size: 90 }, encoding: { x, y } },
      {
        data: { values: marks },
        mark: { type: 'text', fontSize: 13, dy: -14, color: 'black' },
        encoding: { x, y, text: { field: 'label', type: 'nominal' } },
      },
    );
  }
  return {
    $schema: SCHEMA_URL,
    ...titleProp(options.title),
    config: paperConfig(),
    width: options.width ?? DEFAULT_WIDTH,
    height: options.height ?? DEFAULT_HEIGHT,
    layer: layers,
  } as TopLevelSpec;
}
