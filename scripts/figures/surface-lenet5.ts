/**
 * Figure: the loss surface on the plane through mode A (w₀), the trained Bezier bend (w₁) and
 * mode B (w₂), as in Garipov et al. 2018, Fig. 1 (computed by the library's evaluateCurvePlane,
 * src/landscape/evaluate-plane.ts): an orthonormal basis by Gram–Schmidt,
 *
 *   e_u = (w₂ − w₀)/‖w₂ − w₀‖,  e_v = (w₁ − w₀ − ⟨w₁ − w₀, e_u⟩e_u)/‖…‖,
 *   θ(u, v) = w₀ + ‖w₂ − w₀‖·(u·e_u + v·e_v),
 *
 * test loss on a grid of (u, v) spanning the curve with margins (a fraction of the curve's extent on
 * each side), the Bezier curve (61 points) and the straight line
 * projected onto the plane (the curve lies in it exactly: θ(t) is a combination of w₀, w₁, w₂).
 * LeNet5 has no BatchNorm, so no statistics are re-estimated per grid point.
 *
 *   npx tsx scripts/figures/surface-lenet5.ts                  (21×21 grid, ~4 min with the modes)
 *   node --loader ts-node/esm scripts/figures/surface-lenet5.ts --grid 11
 *
 * Options: --dataset, --epochs, --seeds, --curve-epochs (4 / 2), --grid 21, --margin 0.25,
 * --test-examples (all), --out, --runs.
 */
import { join } from 'node:path';
import {
  disposeTensors,
  getArchitecture,
  saveChart,
  type Model,
} from '../../src/index.js';
import { curvePlaneBasis, disposePlaneBasis, evaluateCurvePlane, projectCurve, type PlaneCoordinates } from '../../src/entry/landscape.js';
import { disposeCurve, type Curve, type CurveKind } from '../../src/entry/paths.js';
import { surfaceChart } from '../../src/entry/charts.js';
import type { ProjectedPoint } from '../../src/entry/barriers.js';
import { bezierCurve, defaultEpochs, evaluationOptions, int, lenet5Training, loadModes, num, outDir, parseOptions, seedList, startBackend, step, writeNumbers } from './common.js';

const values = parseOptions({
  'curve-epochs': { type: 'string' },
  grid: { type: 'string', default: '21' },
  margin: { type: 'string', default: '0.25' },
});

const started = performance.now();
const dataset = values.dataset;
const epochs = int('epochs', values.epochs, defaultEpochs(dataset));
const curveEpochs = int('curve-epochs', values['curve-epochs'], dataset === 'fashion-mnist-small' ? 4 : 2);
const out = outDir('surface-lenet5', values);
const gridSize = int('grid', values.grid);
const margin = num('margin', values.margin);
const seeds = seedList(values.seeds);
if (gridSize < 2) throw new Error(`--grid: expected at least 2 points per axis, found ${gridSize}`);

await startBackend();
const training = lenet5Training(dataset, epochs, values.runs, values['data-dir']);
const modes = await loadModes(training, seeds, undefined, evaluationOptions({ ...values, 'train-examples': '1000' }));
const [a] = modes.models as [Model, Model];
const arch = getArchitecture(a.architecture);
const curveFile = join(training.outDir, `bezier-s${seeds.slice(0, 2).join('-')}-e${curveEpochs}.safetensors`);
const { path: bezier } = await bezierCurve(modes, curveFile, { epochs: curveEpochs });
// The saved path's bends as a curve (the plane and the projection need the bends themselves).
const content = bezier.content?.();
bezier.dispose();
if (content === undefined || content.method !== 'curve') throw new Error(`${curveFile}: not a saved curve`);
const bendStates = [...content.states.values()];
const curve: Curve = {
  kind: content.fields.kind as CurveKind,
  architecture: a.architecture,
  config: a.config,
  bends: bendStates.map((state) => state.params),
  trainable: content.fields.trainable as boolean[],
  endpointBuffers: [bendStates[0]?.buffers ?? new Map(), bendStates.at(-1)?.buffers ?? new Map()],
};
for (const state of bendStates.slice(1, -1)) disposeTensors(state.buffers);

/**
 * The grid of this figure as it was before the library computed it (issue 12: same numbers), as
 * the two corners `evaluateCurvePlane` must span with `margin`: u over [−m, 1 + m]; v over the
 * curve and the bend w₁ (inside the grid, as in Garipov et al.'s Fig. 1; the library's default
 * spans the curve only, which leaves the bend outside) with a margin of m·max(v extent, 0.2, 0.5).
 */
function figureGrid(c: Curve, m: number): PlaneCoordinates[] {
  const basis = curvePlaneBasis(c);
  const vs = [0, basis.c.v, ...projectCurve(c, basis, { points: 61 }).map((p) => p.v)];
  disposePlaneBasis(basis);
  const [vLo, vHi] = [Math.min(...vs), Math.max(...vs)];
  const pad = m * Math.max(vHi - vLo, 0.2, 0.5);
  // evaluateCurvePlane widens the fitted extent e by m·e on each side: fit corners whose widened range is the one above.
  const corner = (lo: number, hi: number) => {
    const extent = (hi - lo) / (1 + 2 * m);
    return [lo + m * extent, lo + m * extent + extent] as const;
  };
  const [u0, u1] = corner(-m, 1 + m);
  const [v0, v1] = corner(vLo - pad, vHi + pad);
  return [{ u: u0, v: v0 }, { u: u1, v: v1 }];
}

// The plane through A, the bend and B, the curve (61 points) projected on it, and the loss on a
// grid spanning the curve with margins: all in the library (src/landscape/evaluate-plane.ts).
const evaluation = modes.analysis.data;
const fit = figureGrid(curve, margin);
const plane = await step(`loss surface (${gridSize}×${gridSize} grid)`, (progress) =>
  evaluateCurvePlane(arch, curve, evaluation, { grid: gridSize, margin, fit, points: 61, bnReset: false, labels: ['mode A', 'mode B', 'bend w₁'], progress }),
);
disposeCurve(curve);
const surface = plane.rows;
const scale = plane.scale;
const bendPoint = plane.points[2] as ProjectedPoint;
const bend = { u: bendPoint.u, v: bendPoint.v };
const uRange = [plane.u[0], plane.u.at(-1)] as const;
const vRange = [plane.v[0], plane.v.at(-1)] as const;
const points: ProjectedPoint[] = [
  ...plane.points.slice(3).map((p) => ({ ...p, series: 'Bezier curve' })),
  { label: '', series: 'linear', order: 0, u: 0, v: 0 },
  { label: '', series: 'linear', order: 1, u: 1, v: 0 },
  ...plane.points.slice(0, 2),
  { ...bendPoint, series: 'bend', order: 0.5 },
];

const test = surface.filter((r) => r.split === 'test');
const minTest = test.reduce((m, r) => (r.loss < m.loss ? r : m));
await writeNumbers(out, {
  figure: 'surface-lenet5',
  dataset,
  modes: modes.metrics,
  curveFile,
  grid: { size: gridSize, u: uRange, v: vRange, margin },
  distanceAB: scale,
  bend,
  minTestLoss: { u: minTest.u, v: minTest.v, loss: minTest.loss },
  surface,
  projected: points,
  seconds: (performance.now() - started) / 1000,
});
await step('charts', async (progress) => {
  await saveChart(surfaceChart(surface, points, { split: 'test' }), join(out, 'surface-test-loss'));
  progress({ task: 'charts', step: 1, total: 2, message: 'loss' });
  await saveChart(surfaceChart(surface, points, { split: 'test', metric: 'error', color: 'linear' }), join(out, 'surface-test-error'));
  progress({ task: 'charts', step: 2, total: 2, message: 'error' });
});
modes.analysis.dispose();
console.log(`plane through A, bend, B: ‖B − A‖ = ${scale.toFixed(3)}, bend at (u ${bend.u.toFixed(3)}, v ${bend.v.toFixed(3)}); lowest test loss ${minTest.loss.toFixed(3)} at (${minTest.u.toFixed(2)}, ${minTest.v.toFixed(2)}); ${((performance.now() - started) / 1000).toFixed(0)} s → ${out}`);
