// Contracts of the chart builders beyond schema validity: what goes into the data, ordering,
// option handling and errors. Numbers come from the closed-form fixtures in test/fixtures/chart-rows.ts.
import { describe, expect, it } from 'vitest';
import { parse, View } from 'vega';
import { compile } from 'vega-lite';
import { accuracyBandChart } from './accuracy-band-chart.js';
import { aggregateBand } from './band.js';
import { cumulativeChart } from './cumulative-chart.js';
import { layerHeatmap } from './layer-heatmap.js';
import { logLossDomain, pathChart } from './path-chart.js';
import { pcaChart, projectPca } from './pca.js';
import { llpfChart } from './llpf-chart.js';
import { subspaceChart } from './subspace-chart.js';
import { logTicks, surfaceChart } from './surface-chart.js';
import { estimateTextWidth } from './text-width.js';
import { CATEGORY_COLORS, LEGEND_BOX, niceTicks, paperConfig } from './theme.js';
import { cumulativeRows, layerRows, llpfRows, pathRows, projectedPoints, surfaceRows } from '../../test/fixtures/chart-rows.js';

type Values = Record<string, unknown>[];
const dataOf = (spec: object): Values => (spec as { data: { values: Values } }).data.values;

describe('pathChart', () => {
  it('a log loss axis spans the 1-2-5 values around the losses, not whole powers of ten', () => {
    expect(logLossDomain([0.254, 0.38, 1.98])).toEqual([0.2, 2]);
    expect(logLossDomain([0.5, 0.7])).toEqual([0.5, 1]);
    expect(logLossDomain([0.05, 12])).toEqual([0.05, 20]);
    expect(logLossDomain([0, -1])).toBeUndefined();
    const rows = pathRows().map((r) => ({ ...r, loss: 0.3 + r.loss }));
    const losses = rows.map((r) => r.loss);
    const spec = pathChart(rows, { metrics: ['loss'], logLoss: true });
    const json = JSON.stringify(spec);
    const [lo, hi] = logLossDomain(losses) ?? [NaN, NaN];
    expect(lo).toBeLessThanOrEqual(Math.min(...losses));
    expect(hi).toBeGreaterThanOrEqual(Math.max(...losses));
    expect(hi / lo).toBeLessThan(10 * (Math.max(...losses) / Math.min(...losses)));
    expect(json).toContain(`"domain":[${lo},${hi}]`);
    expect(json).toContain('"nice":false');
  });
  it('the y domains Vega computes leave room above the top point of the loss and error panels', async () => {
    // The alignment/lenet5 peaks: error 64.95% (Vega rounded the domain to end at 65%, the point on the frame) and loss 1.97.
    const rows = pathRows(5).map((r) => (r.path === 'linear' && r.t === 0.5 ? { ...r, loss: 1.97, accuracy: 1 - 0.6495 } : r));
    const view = new View(parse(compile(pathChart(rows, { splits: ['test'], metrics: ['loss', 'error'] })).spec), { renderer: 'none' });
    await view.runAsync();
    const test = rows.filter((r) => r.split === 'test');
    const tops = { concat_0_y: Math.max(...test.map((r) => r.loss)), concat_1_y: Math.max(...test.map((r) => 1 - r.accuracy)) };
    for (const [name, top] of Object.entries(tops)) {
      const y = view.scale(name) as { domain(): [number, number]; range(): [number, number] };
      const [lo, hi] = y.domain();
      expect((hi - top) * (y.range()[0] / (hi - lo)), name).toBeGreaterThanOrEqual(5);
    }
    expect((view.scale('concat_1_y') as { domain(): number[] }).domain()[0]).toBe(0);
    view.finalize();
  });
  it('keeps only the requested splits and marks both endpoints', () => {
    const spec = pathChart(pathRows(5), { splits: ['train'] });
    expect(dataOf(spec).every((r) => r.split === 'train')).toBe(true);
    expect(JSON.stringify(spec)).toContain('"label":"mode A"');
    expect(JSON.stringify(spec)).toContain('train loss (nats, mean cross-entropy)');
  });
  it('one panel per metric; error is 1 − accuracy', () => {
    const spec = pathChart(pathRows(5), { metrics: ['loss', 'error'] }) as { hconcat: { transform: { calculate: string }[] }[] };
    expect(spec.hconcat.map((p) => p.transform[0]?.calculate)).toEqual(['datum.loss', '1 - datum.accuracy']);
  });
  it('names the splits present when none match', () => {
    expect(() => pathChart(pathRows(3).filter((r) => r.split === 'train'))).toThrow(/no rows for split "test".*\[train\]/);
  });
});

describe('accuracyBandChart', () => {
  it('says what the band spans in the legend title (samples by default, nodes for simulations)', () => {
    const rows = [{ series: 'a', tick: 0, mean: 0.1, min: 0.05, max: 0.2 }, { series: 'a', tick: 1, mean: 0.2, min: 0.1, max: 0.3 }];
    expect(JSON.stringify(accuracyBandChart(rows))).toContain('min–max over samples');
    expect(JSON.stringify(accuracyBandChart(rows, { bandTitle: 'band: min–max over nodes' }))).toContain('min–max over nodes');
  });
});

describe('layerHeatmap', () => {
  it('writes values in the cells only when they fit: 11 columns in a 220 px panel do not, 3 columns do', () => {
    const grid = (ts: number[]) =>
      ts.flatMap((t) => ['A', 'B'].flatMap((rest) => ['conv1', 'fc1'].map((layer, layerIndex) => ({ layer, layerIndex, rest: rest as 'A' | 'B', t, split: 'test' as const, loss: 1 + t, accuracy: 0.5 })))); 
    const layersOf = (spec: unknown) => (spec as { spec: { layer: unknown[] } }).spec.layer.length;
    expect(layersOf(layerHeatmap(grid(Array.from({ length: 11 }, (_, i) => i / 10))))).toBe(1);
    expect(layersOf(layerHeatmap(grid([0, 0.5, 1])))).toBe(2);
    expect(layersOf(layerHeatmap(grid(Array.from({ length: 11 }, (_, i) => i / 10)), { showValues: true }))).toBe(2);
  });

  it('orders layers by layerIndex, not by row order', () => {
    const rows = [...layerRows()].reverse();
    const spec = layerHeatmap(rows) as { spec: { layer: { encoding: { y: { sort: string[] } } }[] } };
    expect(spec.spec.layer[0]?.encoding.y.sort).toEqual(['conv1', 'conv2', 'fc1', 'fc2', 'fc3']);
  });
  it('barrier × epoch: one cell per layer, rest and epoch, with the layer barrier', () => {
    const cells = dataOf(layerHeatmap(layerRows(true), { value: 'barrier', x: 'epoch' }));
    expect(cells).toHaveLength(5 * 2 * 3);
    const fc1 = cells.find((c) => c.layer === 'fc1' && c.x === 3 && c.rest === 'mode A');
    expect(fc1?.value).toBeCloseTo(0.02 + 0.1 * 3, 4); // height(fc1) = 0.02 + 0.1·sin(π/2)·epoch
  });
  it('barrier maps: roundoff-sized barriers show as 0 and the color scale spans at least [0, 0.01] nats', () => {
    const rows = layerRows(true).map((r, i) => ({ ...r, barrier: i % 2 === 0 ? 5.55e-17 : 0 }));
    const spec = layerHeatmap(rows, { value: 'barrier', x: 'epoch' }) as { spec: { layer: { encoding: { color: { scale: { domain: number[] } } } }[] } };
    expect(dataOf(spec).every((c) => c.value === 0)).toBe(true);
    expect(spec.spec.layer[0]?.encoding.color.scale.domain).toEqual([0, 0.01]);
    const large = layerHeatmap(layerRows(true), { value: 'barrier', x: 'epoch' }) as typeof spec;
    expect(large.spec.layer[0]?.encoding.color.scale.domain[1]).toBeCloseTo(0.02 + 0.1 * 3, 4);
  });
  it('x = t with several epochs shows the last epoch by default', () => {
    const cells = dataOf(layerHeatmap(layerRows(true)));
    const mid = cells.find((c) => c.layer === 'fc1' && c.x === 0.5);
    expect(mid?.value).toBeCloseTo(0.35 + 0.32, 4);
  });
  it('x = epoch without epochs is an error that says so', () => {
    expect(() => layerHeatmap(layerRows(), { x: 'epoch' })).toThrow(/epoch/);
  });
});

describe('cumulativeChart', () => {
  it('labels each step with the layer added and resolves x per order', () => {
    const spec = cumulativeChart(cumulativeRows()) as { resolve: unknown };
    const deep = dataOf(spec).filter((r) => r.order === 'deep').map((r) => r.stepLabel);
    expect(deep).toEqual(['1 · fc3', '2 · fc2', '3 · fc1', '4 · conv2', '5 · conv1']);
    expect(spec.resolve).toEqual({ scale: { x: 'independent' } });
  });
  it('the y domain Vega computes leaves room around the extreme barriers (a point on the frame is half cut off)', async () => {
    // The layerwise-lenet5 barriers: without padding Vega rounds [-1.386, 1.592] to [-1.4, 1.6].
    const barriers = [-0.354, -1.243, -0.111, -0.132, 1.592, -1.386, -0.701, -0.258, 0.959, 1.592];
    const rows = cumulativeRows().map((r, i) => ({ ...r, barrier: barriers[i % barriers.length] ?? 0 }));
    const view = new View(parse(compile(cumulativeChart(rows)).spec), { renderer: 'none' });
    await view.runAsync();
    const y = view.scale('y') as { domain(): [number, number]; range(): [number, number] };
    const [lo, hi] = y.domain();
    const height = y.range()[0];
    const pixelsPerNat = height / (hi - lo);
    expect((hi - Math.max(...barriers)) * pixelsPerNat).toBeGreaterThanOrEqual(5);
    expect((Math.min(...barriers) - lo) * pixelsPerNat).toBeGreaterThanOrEqual(5);
    view.finalize();
  });
});

/** The labels Vega draws on an axis (overlap removal hides a label by setting its opacity to 0). */
async function drawnAxisLabels(spec: object, orient: 'left' | 'bottom'): Promise<string[]> {
  const view = new View(parse(compile(spec as Parameters<typeof compile>[0]).spec), { renderer: 'none' });
  await view.runAsync();
  // Marks hold items; an axis's group item carries its orient.
  type Node = { role?: string; orient?: string; items?: Node[]; text?: string; opacity?: number };
  const labels: string[] = [];
  const walk = (node: Node, inAxis: boolean): void => {
    const axis = inAxis || node.orient === orient;
    if (node.role === 'axis-label' && axis) {
      for (const item of node.items ?? []) if (item.opacity !== 0 && item.text !== undefined) labels.push(String(item.text));
    }
    for (const child of node.items ?? []) walk(child, axis);
  };
  walk((view.scenegraph() as unknown as { root: Node }).root, false);
  view.finalize();
  return labels;
}

describe('subspaceChart', () => {
  it('a log loss axis draws every one of its 1-2-5 labels (none dropped for overlap)', async () => {
    // The robustness-subspace-lenet5 range: losses from 0.376 to 417 nats.
    const rows = [0, 0.5, 1].flatMap((magnitude, i) =>
      (['interpolation', 'training-subspace', 'null-space'] as const).map((direction, k) => ({
        direction, magnitude, sample: 0, split: 'test' as const, loss: [0.376, 20, 417][(i + k) % 3] ?? 1, accuracy: 0.5,
      })),
    );
    const labels = await drawnAxisLabels(subspaceChart(rows, { log: true }), 'left');
    expect(labels.map(Number).sort((a, b) => a - b)).toEqual([0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500]);
  });
});

describe('aggregateBand', () => {
  it('mean, min and max per key and x', () => {
    const band = aggregateBand([
      { key: 'r', x: 0, y: 1 },
      { key: 'r', x: 0, y: 3 },
      { key: 'r', x: 1, y: 2 },
      { key: 'i', x: 0, y: 5 },
    ]);
    expect(band).toEqual([
      { key: 'r', x: 0, mean: 2, min: 1, max: 3, n: 2 },
      { key: 'r', x: 1, mean: 2, min: 2, max: 2, n: 1 },
      { key: 'i', x: 0, mean: 5, min: 5, max: 5, n: 1 },
    ]);
  });
});

describe('surfaceChart', () => {
  it('cells tile the grid (edges half-way between grid points) and the plot covers the bend', () => {
    const spec = surfaceChart(surfaceRows(5), projectedPoints()) as { layer: { data: { values: Values } }[]; height: number };
    const cells = spec.layer[0]?.data.values ?? [];
    const first = cells.find((c) => c.u === -0.25 && c.v === -0.25);
    // grid step 0.375 → cell from −0.4375 to −0.0625, widened 2% per side against seams
    expect(first?.u0).toBeCloseTo(-0.4375 - 0.0075, 6);
    expect(first?.u1).toBeCloseTo(-0.0625 + 0.0075, 6);
    expect(spec.height).toBe(440); // square grid → square plot
  });
  it('log legend ticks follow 1-2-5 and stay inside the range', () => {
    expect(logTicks(0.3, 12)).toEqual([0.5, 1, 2, 5, 10]);
    expect(logTicks(0.31, 0.45)).toEqual([0.31, 0.45]);
  });
  it('a linear color legend is labelled at round values between min and max, not only at the ends', () => {
    const rows = surfaceRows(5);
    const spec = surfaceChart(rows, projectedPoints(), { metric: 'error', color: 'linear' }) as { layer: { encoding: { color?: { legend?: { values?: number[] } } } }[] };
    const values = spec.layer[0]?.encoding.color?.legend?.values ?? [];
    const errors = rows.filter((r) => r.split === 'test').map((r) => 1 - r.accuracy);
    const [lo, hi] = [Math.min(...errors), Math.max(...errors)];
    expect(values[0]).toBeCloseTo(lo, 12);
    expect(values.at(-1)).toBeCloseTo(hi, 12);
    expect(values.length).toBeGreaterThan(2);
    for (const inner of values.slice(1, -1)) {
      expect(inner).toBeGreaterThan(lo);
      expect(inner).toBeLessThan(hi);
    }
  });
  it('refuses a log scale for values ≤ 0', () => {
    const rows = surfaceRows(3).map((r) => ({ ...r, loss: 0 }));
    expect(() => surfaceChart(rows, [])).toThrow(/linear/);
  });
});

describe('projectPca', () => {
  it('points on a line: PC1 explains everything and distances are preserved', () => {
    const dir = [3, 4, 0, 12]; // ‖dir‖ = 13
    const ts = [0, 0.5, 1, 2];
    const vectors = ts.map((t) => new Float32Array(dir.map((d, j) => 1 + j + t * d)));
    const { points, explainedVarianceRatio } = projectPca(vectors, ts.map((t) => ({ label: `${t}`, series: 's', order: t })));
    expect(explainedVarianceRatio[0]).toBeCloseTo(1, 6);
    expect(explainedVarianceRatio[1]).toBeCloseTo(0, 6);
    expect(points[0]?.u).toBeLessThanOrEqual(0); // sign convention
    expect((points[3]?.u ?? 0) - (points[0]?.u ?? 0)).toBeCloseTo(2 * 13, 4);
    expect(points.map((p) => p.u)).toEqual([...points.map((p) => p.u)].sort((a, b) => a - b));
  });
  it('matches the covariance eigen-decomposition on a 2D example (closed form)', () => {
    // Four corners of a 4 × 2 rectangle: PC1 along the long side (variance 4 of 5 → 80%).
    const vectors = [[0, 0], [4, 0], [0, 2], [4, 2]].map((v) => new Float32Array(v));
    const { points, explainedVarianceRatio } = projectPca(vectors, vectors.map((_, i) => ({ label: `${i}`, series: 's', order: i })));
    expect(explainedVarianceRatio[0]).toBeCloseTo(0.8, 6);
    expect(points.map((p) => Math.abs(p.u))).toEqual([2, 2, 2, 2].map((x) => expect.closeTo(x, 5) as number));
    expect(points.map((p) => Math.abs(p.v))).toEqual([1, 1, 1, 1].map((x) => expect.closeTo(x, 5) as number));
  });
  it('rejects vectors of different lengths, naming the index', () => {
    expect(() => projectPca([new Float32Array(3), new Float32Array(2)], [{ label: 'a', series: 's', order: 0 }, { label: 'b', series: 's', order: 1 }])).toThrow(/length 2 at vector 1/);
  });
  it('pcaChart puts the explained variance in the axis titles', () => {
    expect(JSON.stringify(pcaChart(projectedPoints(), { explainedVarianceRatio: [0.605, 0.395] }))).toContain('PC1 (60.5% of variance)');
  });
});

describe('llpfChart', () => {
  it('stacks loss, accuracy and weight norm; segment max loss drawn only where measured', () => {
    const spec = llpfChart(llpfRows()) as { vconcat: unknown[] };
    expect(spec.vconcat).toHaveLength(3);
    expect(JSON.stringify(spec)).toContain('isValid(datum.segmentMaxLoss)');
    const noSegments = llpfChart(llpfRows().map(({ segmentMaxLoss: _s, ...r }) => r));
    expect(JSON.stringify(noSegments)).not.toContain('segmentMaxLoss"');
  });
});

describe('figure legibility (issue: what a reviewer flags)', () => {
  it('niceTicks names both ends of a colour scale and round values between them, increasing', () => {
    for (const [lo, hi] of [[0.369, 4.68], [0.35, 0.47], [0, 0.01], [12, 13000]] as const) {
      const ticks = niceTicks(lo, hi);
      expect(ticks[0]).toBe(lo);
      expect(ticks[ticks.length - 1]).toBe(hi);
      expect(ticks.length).toBeGreaterThanOrEqual(3);
      for (let i = 1; i < ticks.length; i++) expect(ticks[i] as number).toBeGreaterThan(ticks[i - 1] as number);
      // Inner ticks are integer multiples of one step of 1, 2 or 5 × 10^k.
      const inner = ticks.slice(1, -1);
      const step = inner.length > 1 ? (inner[1] as number) - (inner[0] as number) : (inner[0] as number);
      const mantissa = step / 10 ** Math.floor(Math.log10(step));
      expect([1, 2, 5].some((m) => Math.abs(mantissa - m) < 1e-9), `step ${step}`).toBe(true);
      for (const t of inner) expect(Math.abs(t / step - Math.round(t / step))).toBeLessThan(1e-9);
    }
  });

  it('layerHeatmap labels only as many t columns as fit, always the first and last, without overlap', () => {
    const ts = Array.from({ length: 11 }, (_, i) => i / 10);
    const rows = ['conv1', 'fc1'].flatMap((layer, layerIndex) =>
      (['A', 'B'] as const).flatMap((rest) => ts.map((t) => ({ layer, layerIndex, rest, t, split: 'test' as const, loss: 0.4 + t, accuracy: 0.8 }))),
    );
    const spec = layerHeatmap(rows) as { spec: { width: number; layer: { encoding: { x: { axis: { values: number[] } } } }[] } };
    const labelled = spec.spec.layer[0]?.encoding.x.axis.values ?? [];
    expect(labelled[0]).toBe(0);
    expect(labelled[labelled.length - 1]).toBe(1);
    expect(labelled.length).toBeLessThan(ts.length);
    const column = spec.spec.width / ts.length;
    for (let i = 1; i < labelled.length; i++) {
      const gap = (ts.indexOf(labelled[i] as number) - ts.indexOf(labelled[i - 1] as number)) * column;
      const halfWidths = (estimateTextWidth(String(labelled[i]), 12) + estimateTextWidth(String(labelled[i - 1]), 12)) / 2;
      expect(gap).toBeGreaterThan(halfWidths);
    }
  });

  it('the categorical palette keeps its first six colours far apart (CIELAB ΔE > 25)', () => {
    const lab = (hex: string): [number, number, number] => {
      const lin = [1, 3, 5].map((k) => {
        const c = parseInt(hex.slice(k, k + 2), 16) / 255;
        return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
      }) as [number, number, number];
      const [r, g, b] = lin;
      const xyz = [(0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047, 0.2126 * r + 0.7152 * g + 0.0722 * b, (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883];
      const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 * t + 16) / 116);
      const [fx, fy, fz] = xyz.map(f) as [number, number, number];
      return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
    };
    const colors = CATEGORY_COLORS.slice(0, 6).map(lab);
    for (let i = 0; i < colors.length; i++) {
      for (let j = i + 1; j < colors.length; j++) {
        const [a, b] = [colors[i] as number[], colors[j] as number[]];
        expect(Math.hypot(...a.map((v, k) => v - (b[k] as number))), `${CATEGORY_COLORS[i]} vs ${CATEGORY_COLORS[j]}`).toBeGreaterThan(25);
      }
    }
    expect(paperConfig().range).toEqual({ category: [...CATEGORY_COLORS] });
  });

  it('accuracyBandChart puts three or more configurations in panels, each with the others as grey context', () => {
    const rows = ['a', 'b', 'c'].flatMap((series) => [0, 1].map((tick) => ({ series, tick, mean: 0.5, min: 0.4, max: 0.6 })));
    const spec = accuracyBandChart(rows) as { facet: { field: string; title: null }; spec: { layer: { transform: { filter: string }[] }[] }; data: { values: { panel: string; own: boolean }[] } };
    expect(spec.facet.field).toBe('panel');
    expect(spec.facet.title).toBeNull();
    expect(spec.data.values.filter((v) => v.panel === 'a' && v.own)).toHaveLength(2);
    expect(spec.data.values.filter((v) => v.panel === 'a' && !v.own)).toHaveLength(4);
    expect(spec.spec.layer.map((l) => l.transform[0]?.filter)).toEqual(['!datum.own', 'datum.own', 'datum.own']);
    expect('layer' in accuracyBandChart(rows.filter((r) => r.series !== 'c'))).toBe(true);
  });

  it('surfaceChart draws contour lines and a path legend whose white swatches sit on a dark box', () => {
    const spec = surfaceChart(surfaceRows(9), projectedPoints()) as { layer: { mark: { type: string; strokeWidth?: number }; encoding: Record<string, { field?: string; legend?: Record<string, unknown> }> }[] };
    const contour = spec.layer.find((l) => l.encoding.detail?.field === 'segment');
    expect(contour?.mark.type).toBe('line');
    const legend = spec.layer.find((l) => l.encoding.strokeDash !== undefined)?.encoding.strokeDash?.legend;
    expect(legend).toMatchObject({ symbolStrokeColor: 'white', fillColor: LEGEND_BOX, labelColor: 'white' });
    expect(JSON.stringify(surfaceChart(surfaceRows(9), projectedPoints(), { contours: false }))).not.toContain('"segment"');
  });
});

describe('surfaceChart labels', () => {
  it('labels a middle marker in the top fifth of the plot to its right, so the text stays inside the plot and off the curve below it', () => {
    const rows = surfaceRows(9);
    const vMax = Math.max(...rows.map((r) => r.v));
    const top = [...projectedPoints().filter((p) => p.series === 'mode'), { label: 'bend', series: 'bend', order: 0.5, u: 0.5, v: vMax + 0.5 }];
    const spec = surfaceChart(rows, top) as { layer: { mark: { type: string; baseline?: string; align?: string }; data: { values: { label: string }[] } }[] };
    const texts = spec.layer.filter((l) => l.mark.type === 'text');
    expect(texts.find((l) => l.data.values.some((v) => v.label === 'bend'))?.mark).toMatchObject({ align: 'left', baseline: 'middle' });
    const low = surfaceChart(rows, [...top.slice(0, -1), { label: 'bend', series: 'bend', order: 0.5, u: 0.5, v: 0.2 }]) as typeof spec;
    expect(low.layer.filter((l) => l.mark.type === 'text').find((l) => l.data.values.some((v) => v.label === 'bend'))?.mark.baseline).toBe('bottom');
  });
});
