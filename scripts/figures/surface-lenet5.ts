/**
 * Figure: the loss surface on the plane through mode A (w₀), the trained Bezier bend (w₁) and
 * mode B (w₂), as in Garipov et al. 2018, Fig. 1: an orthonormal basis by Gram–Schmidt,
 *
 *   e_u = (w₂ − w₀)/‖w₂ − w₀‖,  e_v = (w₁ − w₀ − ⟨w₁ − w₀, e_u⟩e_u)/‖…‖,
 *   θ(u, v) = w₀ + ‖w₂ − w₀‖·(u·e_u + v·e_v),
 *
 * test loss on a grid of (u, v) with margins, the Bezier curve (61 points) and the straight line
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
import * as tf from '@tensorflow/tfjs-core';
import {
  disposeTensors,
  getArchitecture,
  saveChart,
  type Model,
} from '../../src/index.js';
import type { ProjectedPoint, SurfaceRow } from '../../src/entry/barriers.js';
import { createEvaluator } from '../../src/entry/evaluate.js';
import { flatLayout, flattenParams, unflattenParams } from '../../src/entry/paths.js';
import { surfaceChart } from '../../src/entry/charts.js';
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

// 1. The plane: flat vectors on the host (LeNet5 has ~62k parameters), Gram–Schmidt.
const layout = flatLayout(a.params);
const host = (params: ReadonlyMap<string, tf.Tensor>): Float64Array => {
  const flat = flattenParams(params, layout);
  const v = Float64Array.from(flat.dataSync());
  flat.dispose();
  return v;
};
const bends = bezier.content?.().states;
if (bends === undefined) throw new Error(`${curveFile}: the Bezier path has no bends`);
const [w0, w1, w2] = [...bends.values()].map((bend) => host(bend.params)) as [Float64Array, Float64Array, Float64Array];
for (const bendState of bends.values()) disposeTensors(bendState.params, bendState.buffers);
const dot = (x: Float64Array, y: Float64Array): number => x.reduce((s, xi, i) => s + xi * (y[i] as number), 0);
const sub = (x: Float64Array, y: Float64Array): Float64Array => x.map((xi, i) => xi - (y[i] as number));
const dAB = sub(w2, w0);
const scale = Math.sqrt(dot(dAB, dAB));
const eu = dAB.map((x) => x / scale);
const d1 = sub(w1, w0);
const along = dot(d1, eu);
const perp = d1.map((x, i) => x - along * (eu[i] as number));
const perpNorm = Math.sqrt(dot(perp, perp));
const ev = perp.map((x) => x / perpNorm);
const project = (theta: Float64Array): { u: number; v: number } => {
  const d = sub(theta, w0);
  return { u: dot(d, eu) / scale, v: dot(d, ev) / scale };
};
const bend = project(w1);

// 2. Projected paths: the Bezier curve (61 points), the straight line, the modes and the bend.
const points: ProjectedPoint[] = [];
for (let i = 0; i <= 60; i++) {
  const t = i / 60;
  const state = bezier.pointAt(t);
  points.push({ label: '', series: 'Bezier curve', order: t, ...project(host(state.params)) });
  disposeTensors(state);
}
points.push({ label: '', series: 'linear', order: 0, u: 0, v: 0 }, { label: '', series: 'linear', order: 1, u: 1, v: 0 });
points.push({ label: 'mode A', series: 'mode', order: 0, u: 0, v: 0 }, { label: 'mode B', series: 'mode', order: 1, u: 1, v: 0 }, { label: 'bend w₁', series: 'bend', order: 0.5, ...bend });
const curveMaxV = Math.max(...points.map((p) => p.v));
const curveMinV = Math.min(0, ...points.map((p) => p.v));

// 3. The grid, with margins around the modes and the curve (not the bend, which may lie far outside).
const uRange = [-margin, 1 + margin] as const;
const vSpan = Math.max(curveMaxV - curveMinV, 0.2);
const vRange = [curveMinV - margin * Math.max(vSpan, 0.5), curveMaxV + margin * Math.max(vSpan, 0.5)] as const;
const axis = (lo: number, hi: number) => Array.from({ length: gridSize }, (_, i) => lo + ((hi - lo) * i) / (gridSize - 1));
const us = axis(...uRange);
const vs = axis(...vRange);
const evaluation = modes.analysis.data;
const evaluator = createEvaluator(arch, a.config, evaluation, { bnReset: false });
const base = tf.tensor1d(Float32Array.from(w0));
const eU = tf.tensor1d(Float32Array.from(dAB));
const eV = tf.tensor1d(Float32Array.from(ev.map((x) => x * scale)));
const surface: SurfaceRow[] = [];
await step(`loss surface (${gridSize}×${gridSize} grid)`, async (progress) => {
  for (const [j, v] of vs.entries()) {
    for (const [i, u] of us.entries()) {
      const flat = tf.tidy(() => tf.add<tf.Tensor1D>(base, tf.add(tf.mul(eU, u), tf.mul(eV, v))));
      const params = unflattenParams(flat, layout);
      flat.dispose();
      const metrics = await evaluator.evaluate({ params, buffers: a.buffers });
      disposeTensors(params);
      for (const split of ['train', 'test'] as const) {
        const m = metrics[split];
        if (m !== undefined) surface.push({ u, v, split, loss: m.loss, accuracy: m.accuracy });
      }
      progress({ task: 'grid', step: j * gridSize + i + 1, total: gridSize * gridSize, message: `u ${u.toFixed(2)} v ${v.toFixed(2)}` });
    }
  }
});
tf.dispose([base, eU, eV]);
evaluator.dispose();
bezier.dispose();

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
