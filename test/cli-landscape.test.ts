/**
 * End-to-end tests of the landscape commands on the PyTorch-trained LeNet5 modes A and B
 * (test/fixtures/barriers-lenet5-*.safetensors): `surface A B C`, `surface --path`, `surface
 * --random`, `barrier linear --range`, `compare`, and `--chart DIR`. Every number is checked
 * against a computation that does not go through the command: plane coordinates and distances
 * on the host in float64, a random-direction point against the model perturbed by hand and
 * evaluated by `barrier linear`, agreement against a direct argmax comparison.
 */
import * as tf from '@tensorflow/tfjs-core';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAnalysis } from '../src/analysis/open-analysis.js';
import { parseChartMeta } from '../src/charts/chart-meta.js';
import { saveCheckpoint } from '../src/checkpoint/checkpoint.js';
import { getArchitecture } from '../src/models/registry.js';
import { disposeTensors } from '../src/models/tensor-map.js';
import type { Model } from '../src/models/types.js';
import { curvePath } from '../src/paths/curve.js';
import { savePath } from '../src/paths/saved-path.js';
import { createRandom, normalArray } from '../src/util/random.js';
import { useTestBackend } from './helpers.js';
import { runCli, type CliResult } from './run-cli.js';

const FIXTURE_A = 'test/fixtures/barriers-lenet5-a.safetensors';
const FIXTURE_B = 'test/fixtures/barriers-lenet5-b.safetensors';
const EXAMPLES = ['--test-examples', '60'];
const run = (args: string[]): Promise<CliResult> => runCli(args, ['--quiet']);
const json = async <T>(args: string[]): Promise<T> => {
  const result = await run([...args, '--json']);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as T;
};

type Host = Map<string, Float64Array>;
const dot = (x: Host, y: Host): number => [...x].reduce((s, [n, v]) => s + v.reduce((t, vi, i) => t + vi * (y.get(n)![i] as number), 0), 0);
const combine = (terms: [number, Host][]): Host => new Map([...terms[0]![1].keys()].map((n) => [n, terms[0]![1].get(n)!.map((_, i) => terms.reduce((s, [c, h]) => s + c * (h.get(n)![i] as number), 0))]));

interface PathRows { rows: { t: number; split: string; loss: number; accuracy: number }[]; barrier: Record<string, { lossBarrier: number; errorBarrier: number }> | null }
interface Surface { kind: string; rows: { u: number; v: number; split: string; loss: number; accuracy: number }[]; points: { label: string; series: string; u: number; v: number; order: number }[]; u: number[]; v: number[]; scale: number }

let dir: string;
let A: string, B: string, C: string, CURVE: string;
let host: { a: Host; b: Host; c: Host };
let a: Model;
let saveLike: (m: Host, file: string) => Promise<void>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'modeconn-landscape-'));
  // The analysis loader gives the models as the commands see them (PyTorch files converted) and
  // the dataset and preprocessing to store with derived checkpoints.
  await useTestBackend();
  const analysis = await openAnalysis([FIXTURE_A, FIXTURE_B], { testExamples: 60, splits: ['test'] });
  const [ma, mb] = analysis.models as [Model, Model];
  const toHost = (m: Model): Host => new Map([...m.params].map(([n, t]) => [n, Float64Array.from(t.dataSync())]));
  host = { a: toHost(ma), b: toHost(mb), c: new Map() };
  a = { ...ma, params: new Map([...ma.params].map(([n, t]) => [n, t.clone()])), buffers: new Map() };
  const info = { dataset: analysis.dataset, preprocessing: analysis.preprocessing as unknown as Record<string, number | string> };
  analysis.dispose();
  saveLike = async (m: Host, file: string) => {
    const params = new Map([...m].map(([n, v]) => [n, tf.tensor(Float32Array.from(v), a.params.get(n)!.shape)]));
    await saveCheckpoint(file, { ...a, params, buffers: new Map() }, info);
    disposeTensors(params);
  };
  // Native copies of A and B, and C off the line through them: the midpoint plus a fixed wiggle.
  host.c = new Map([...combine([[0.5, host.a], [0.5, host.b]])].map(([n, v]) => [n, v.map((x, i) => x + 0.05 * Math.sin(1.7 * i + n.length))]));
  [A, B, C] = ['a', 'b', 'c'].map((s) => join(dir, `${s}.safetensors`)) as [string, string, string];
  await saveLike(host.a, A);
  await saveLike(host.b, B);
  await saveLike(host.c, C);
  // A Bezier curve A → C → B (bend off the line), saved as `modeconn path curve` saves one.
  CURVE = join(dir, 'curve.safetensors');
  const tensors = (h: Host) => new Map([...h].map(([n, v]) => [n, tf.tensor(Float32Array.from(v), a.params.get(n)!.shape)]));
  const path = curvePath({ kind: 'bezier', architecture: a.architecture, config: a.config, bends: [tensors(host.a), tensors(host.c), tensors(host.b)], trainable: [false, true, false], endpointBuffers: [new Map(), new Map()] });
  await savePath(CURVE, path);
  path.dispose();
}, 120_000);
afterAll(async () => {
  disposeTensors(a);
  await rm(dir, { recursive: true, force: true });
});

describe('modeconn surface A B C', () => {
  it('puts A at (0, 0), B at (1, 0) and C at its host-computed Gram–Schmidt coordinates; the grid corners at A and B are their own losses', async () => {
    const out = await json<Surface>(['surface', A, B, C, '--grid', '2', '--margin', '0', ...EXAMPLES]);
    const e1 = combine([[1, host.b], [-1, host.a]]);
    const dc = combine([[1, host.c], [-1, host.a]]);
    const s2 = dot(e1, e1);
    const cu = dot(dc, e1) / s2;
    const r = combine([[1, dc], [-cu, e1]]);
    const cv = Math.sqrt(dot(r, r) / s2);
    expect(out.kind).toBe('surface');
    expect(out.scale).toBeCloseTo(Math.sqrt(s2), 3);
    expect(out.points.map((p) => [p.label, p.series])).toEqual([['A', 'mode'], ['B', 'mode'], ['C', 'mode']]);
    expect(out.points[1]!.u).toBe(1);
    expect(out.points[2]!.u).toBeCloseTo(cu, 4);
    expect(out.points[2]!.v).toBeCloseTo(cv, 4);
    // C lies between A and B along u, so with margin 0 the grid is u ∈ {0, 1}, v ∈ {0, c_v}.
    expect(cu).toBeGreaterThan(0);
    expect(cu).toBeLessThan(1);
    expect(out.u).toEqual([0, 1]);
    expect(out.v[0]).toBe(0);
    expect(out.v[1]).toBeCloseTo(cv, 4);
    expect(out.rows).toHaveLength(4);
    const linear = await json<PathRows>(['barrier', 'linear', A, B, '--points', '2', ...EXAMPLES]);
    expect(out.rows[0]!.loss).toBe(linear.rows[0]!.loss);
    expect(out.rows[1]!.loss).toBeCloseTo(linear.rows[1]!.loss, 4);
    expect(out.rows[1]!.accuracy).toBeCloseTo(linear.rows[1]!.accuracy, 6);
  }, 60_000);

  it('--path CURVE A: the plane through A, the bend and B; the curve projected on it and the bend inside the default grid', async () => {
    const out = await json<Surface>(['surface', '--path', CURVE, A, '--grid', '3', '--curve-points', '5', ...EXAMPLES]);
    const plane = await json<Surface>(['surface', A, B, C, '--grid', '2', '--margin', '0', ...EXAMPLES]);
    expect(out.points.map((p) => p.series)).toEqual(['mode', 'mode', 'mode', 'bezier', 'bezier', 'bezier', 'bezier', 'bezier']);
    const bend = out.points[2]!;
    // The bend is C: the same coordinates as in the plane through A, B, C.
    expect(bend.u).toBeCloseTo(plane.points[2]!.u, 4);
    expect(bend.v).toBeCloseTo(plane.points[2]!.v, 4);
    // θ(½) = ¼A + ½C + ¼B → (¼ + ½c_u, ½c_v).
    expect(out.points[5]!.u).toBeCloseTo(0.25 + 0.5 * bend.u, 4);
    expect(out.points[5]!.v).toBeCloseTo(0.5 * bend.v, 4);
    for (const p of out.points) {
      expect(p.u).toBeGreaterThan(out.u[0]!);
      expect(p.u).toBeLessThan(out.u.at(-1)!);
      expect(p.v).toBeGreaterThan(out.v[0]!);
      expect(p.v).toBeLessThan(out.v.at(-1)!);
    }
    expect(out.rows).toHaveLength(9);
  }, 60_000);

  it('refuses options of another mode, a linear path for --path, and a wrong number of checkpoints', async () => {
    const cases: [string[], RegExp][] = [
      [['surface', A, B], /expected three checkpoints A B C, found 2/],
      [['surface', A, B, C, '--seed', '3'], /--seed goes with --random, not with "surface A B C"/],
      [['surface', A, '--random', '1', '--grid', '5'], /--grid goes with "surface A B C" and --path, not with --random/],
      [['surface', A, '--random', '3'], /--random: expected at most 2, found 3/],
      [['surface', A, '--random', '1', '--range', '1:0'], /--range: expected LO < HI, found 1:0/],
      [['surface', A, B, C, '--grid', '21x1'], /--grid: expected at least 2 points per axis, found 1/],
      [['surface', A, B, C, '--format', 'png'], /--format goes with --chart DIR/],
    ];
    for (const [args, message] of cases) {
      const result = await run(args);
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr).toMatch(message);
    }
    const linearPath = join(dir, 'linear.safetensors');
    const tensors = (h: Host) => new Map([...h].map(([n, v]) => [n, tf.tensor(Float32Array.from(v), a.params.get(n)!.shape)]));
    const { linearPath: makeLinear } = await import('../src/paths/linear-path.js');
    const line = makeLinear({ ...a, params: tensors(host.a) }, { ...a, params: tensors(host.b) });
    await savePath(linearPath, line);
    line.dispose();
    const before = tf.memory().numTensors;
    const refused = await run(['surface', '--path', linearPath, A, ...EXAMPLES]);
    expect(refused.stderr).toMatch(/holds a path of kind "linear"; surface --path takes a curve/);
    expect(tf.memory().numTensors).toBe(before);
  }, 60_000);
});

describe('modeconn surface A --random', () => {
  it('1-D: the value at α equals the model perturbed by hand along the filter-normalized direction, evaluated by barrier linear', async () => {
    const out = await json<{ kind: string; rows: { alpha: number; split: string; loss: number; accuracy: number }[] }>(['surface', A, '--random', '1', '--points', '3', '--range', '-0.5:0.5', '--seed', '4', ...EXAMPLES]);
    expect(out.kind).toBe('directions');
    expect(out.rows.map((r) => r.alpha)).toEqual([-0.5, 0, 0.5]);
    const linear = await json<PathRows>(['barrier', 'linear', A, B, '--points', '2', ...EXAMPLES]);
    expect(out.rows[1]!.loss).toBe(linear.rows[0]!.loss);
    // Li et al.'s direction, on the host: Gaussian per tensor (same seeded stream), each filter
    // (last axis) rescaled to the model's filter norm, biases zeroed.
    const spec = getArchitecture(a.architecture).spec(a.config);
    const d: Host = new Map();
    for (const t of spec.params) {
      const theta = host.a.get(t.name)!;
      if (t.shape.length <= 1) {
        d.set(t.name, new Float64Array(theta.length));
        continue;
      }
      const g = Float64Array.from(normalArray(theta.length, 0, 1, createRandom(4).fork(`filter-normalized:0:${t.name}`)));
      const filters = t.shape.at(-1)!;
      const norms = (x: Float64Array) => Array.from({ length: filters }, (_, j) => Math.sqrt(x.reduce((s, xi, i) => (i % filters === j ? s + xi * xi : s), 0)));
      const [nt, ng] = [norms(theta), norms(g)];
      d.set(t.name, g.map((gi, i) => (gi * nt[i % filters]!) / (ng[i % filters]! + 1e-10)));
    }
    const perturbed = join(dir, 'perturbed.safetensors');
    await saveLike(combine([[1, host.a], [0.5, d]]), perturbed);
    const byHand = await json<PathRows>(['barrier', 'linear', perturbed, perturbed, '--points', '2', ...EXAMPLES]);
    expect(out.rows[2]!.loss).toBeCloseTo(byHand.rows[0]!.loss, 4);
    expect(out.rows[2]!.accuracy).toBeCloseTo(byHand.rows[0]!.accuracy, 6);
    // The same seed gives the same rows, another seed other rows.
    const again = await json<typeof out>(['surface', A, '--random', '1', '--points', '3', '--range', '-0.5:0.5', '--seed', '4', ...EXAMPLES]);
    expect(again.rows).toEqual(out.rows);
    const other = await json<typeof out>(['surface', A, '--random', '1', '--points', '3', '--range', '-0.5:0.5', '--seed', '5', ...EXAMPLES]);
    expect(other.rows[2]!.loss).not.toBe(out.rows[2]!.loss);
  }, 60_000);

  it('2-D: a β-major α × β grid whose (0, 0) is the model itself; --bias-bn keep moves the biases too', async () => {
    const args = ['surface', A, '--random', '2', '--points', '3', '--range', '-0.2:0.2', ...EXAMPLES];
    const out = await json<{ rows: { alpha: number; beta: number; loss: number }[] }>(args);
    expect(out.rows.map((r) => [r.alpha, r.beta])).toEqual([-0.2, 0, 0.2].flatMap((b) => [-0.2, 0, 0.2].map((al) => [al, b])));
    const keep = await json<typeof out>([...args, '--bias-bn', 'keep']);
    expect(keep.rows[4]!.loss).toBe(out.rows[4]!.loss);
    expect(keep.rows[0]!.loss).not.toBe(out.rows[0]!.loss);
  }, 60_000);
});

describe('modeconn barrier linear --range', () => {
  it('evaluates t beyond the endpoints; rows at 0, ½, 1 and the barrier equal those of the [0, 1] grid; t = 1.5 equals A + 1.5(B − A) by hand', async () => {
    const wide = await json<PathRows>(['barrier', 'linear', A, B, '--range', '-0.5:1.5', '--points', '5', ...EXAMPLES]);
    const inner = await json<PathRows>(['barrier', 'linear', A, B, '--points', '3', ...EXAMPLES]);
    expect(wide.rows.map((r) => r.t)).toEqual([-0.5, 0, 0.5, 1, 1.5]);
    expect(wide.rows.slice(1, 4).map((r) => r.loss)).toEqual(inner.rows.map((r) => r.loss));
    expect(wide.barrier).toEqual(inner.barrier);
    const extrapolated = join(dir, 'extrapolated.safetensors');
    await saveLike(combine([[-0.5, host.a], [1.5, host.b]]), extrapolated);
    const byHand = await json<PathRows>(['barrier', 'linear', extrapolated, extrapolated, '--points', '2', ...EXAMPLES]);
    expect(wide.rows[4]!.loss).toBeCloseTo(byHand.rows[0]!.loss, 3);
    // Without 0 and 1 on the grid there is no barrier, and the command says why.
    const off = await run(['barrier', 'linear', A, B, '--range', '-0.5:1.5', '--points', '4', ...EXAMPLES, '--json']);
    expect(off.code).toBe(0);
    expect((JSON.parse(off.stdout) as PathRows).barrier).toBeNull();
    expect(off.stderr).toMatch(/t = 0 and t = 1 are not both on the grid/);
    expect((await run(['barrier', 'layerwise', A, B, '--range', '0:2'])).stderr).toMatch(/--range goes with "barrier linear"/);
  }, 60_000);
});

describe('modeconn compare', () => {
  interface Compare {
    kind: string;
    rows: { layer: string; layerIndex: number; distance: number; cosine: number }[];
    agreement: { split: string; agreement: number; accuracyA: number; accuracyB: number; count: number }[];
    disagreement: { split: string; predictedA: number; predictedB: number; count: number }[];
  }
  it('layer distances and cosines equal host computations, agreement a direct argmax comparison, the matrix sums to the examples', async () => {
    const out = await json<Compare>(['compare', A, B, ...EXAMPLES]);
    const spec = getArchitecture(a.architecture).spec(a.config);
    for (const [i, group] of spec.layers.entries()) {
      const pick = (h: Host): Host => new Map(group.params.map((n) => [n, h.get(n)!]));
      const [ga, gb] = [pick(host.a), pick(host.b)];
      const row = out.rows[i]!;
      expect(row.layer).toBe(group.name);
      expect(row.distance).toBeCloseTo(Math.sqrt(dot(ga, ga) + dot(gb, gb) - 2 * dot(ga, gb)), 3);
      expect(row.cosine).toBeCloseTo(dot(ga, gb) / Math.sqrt(dot(ga, ga) * dot(gb, gb)), 5);
    }
    const all = out.rows.at(-1)!;
    expect(all.layer).toBe('all');
    const plane = await json<Surface>(['surface', A, B, C, '--grid', '2', '--margin', '0', ...EXAMPLES]);
    expect(all.distance).toBeCloseTo(plane.scale, 3);
    // Predictions by hand on the same 60 test images.
    const analysis = await openAnalysis([A, B], { testExamples: 60, splits: ['test'] });
    const arch = getArchitecture(a.architecture);
    let same = 0;
    let count = 0;
    for (const batch of analysis.data.test ?? []) {
      const [pa, pb] = analysis.models.map((m) => tf.tidy(() => tf.argMax(arch.apply(m.config, m, batch.x, { training: false }).logits, 1)).arraySync() as number[]) as [number[], number[]];
      same += pa.filter((p, i) => p === pb[i]).length;
      count += pa.length;
    }
    analysis.dispose();
    expect(count).toBe(60);
    expect(out.agreement).toHaveLength(1);
    expect(out.agreement[0]!.agreement).toBe(same / count);
    expect(out.disagreement.reduce((s, c) => s + c.count, 0)).toBe(60);
    expect((await run(['compare', A, B, '--bn-batches', '5'])).stderr).toMatch(/--bn-batches: compare predicts with each model's stored BatchNorm statistics/);
  }, 60_000);
});

describe('worker threads', () => {
  it('surface A B C --workers 2 gives the rows of --workers 1', async () => {
    const args = ['surface', A, B, C, '--grid', '2x3', ...EXAMPLES];
    const single = await json<Surface>(args);
    const pooled = await json<Surface>([...args, '--workers', '2']);
    expect(pooled.rows).toEqual(single.rows);
    expect(single.rows).toHaveLength(6);
  }, 60_000);
});

describe('tensors', () => {
  it('surface (plane, curve, random) and compare leave no tensors behind', async () => {
    const commands = [
      ['surface', A, B, C, '--grid', '2'],
      ['surface', '--path', CURVE, A, '--grid', '2', '--curve-points', '3'],
      ['surface', A, '--random', '2', '--points', '2'],
      ['compare', A, B],
    ];
    for (const args of commands) await run([...args, ...EXAMPLES, '--json']);
    const before = tf.memory().numTensors;
    for (const args of commands) {
      const result = await run([...args, ...EXAMPLES, '--json']);
      expect(result.code, result.stderr).toBe(0);
      expect(tf.memory().numTensors, args.join(' ')).toBe(before);
    }
  }, 60_000);
});

describe('--chart DIR', () => {
  it('barrier linear, surface, surface --random and compare write their charts, rows and sidecars in one go; report collects them', async () => {
    const charts = join(dir, 'charts');
    const commands: [string[], string[]][] = [
      [['barrier', 'linear', A, B, '--points', '3'], ['linear.rows.json', 'linear-path.png', 'linear-path.svg', 'linear-path.vl.json', 'linear-path.meta.json']],
      [['surface', A, B, C, '--grid', '3'], ['surface.rows.json', 'surface.png', 'surface.meta.json']],
      [['surface', A, '--random', '1', '--points', '3'], ['directions.rows.json', 'directions.png', 'directions.meta.json']],
      [['compare', A, B], ['compare.rows.json', 'compare-layers.png', 'compare-disagreement.png', 'compare-disagreement.meta.json']],
    ];
    for (const [args, files] of commands) {
      const result = await run([...args, ...EXAMPLES, '--chart', charts, '--format', 'png,svg']);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/charts: wrote .* to /);
      for (const file of files) expect(existsSync(join(charts, file)), file).toBe(true);
    }
    const meta = parseChartMeta(await readFile(join(charts, 'surface.meta.json'), 'utf8'), 'surface.meta.json');
    expect(meta.kind).toBe('surface');
    expect(meta.rowsCommand).toContain('modeconn surface');
    expect(meta.checkpoints.map((c) => c.label)).toEqual([A, B, C]);
    expect(meta.splits).toEqual([{ split: 'test', examples: 60 }]);
    // The rows file beside the charts draws again with modeconn chart.
    const again = await run(['chart', join(charts, 'compare.rows.json'), '--out', join(dir, 'again')]);
    expect(again.code, again.stderr).toBe(0);
    expect(existsSync(join(dir, 'again', 'compare-layers.png'))).toBe(true);
    const report = await run(['report', charts]);
    expect(report.code, report.stderr).toBe(0);
  }, 120_000);

  it('path llpf draws the path and the run\'s ticks, simulate its accuracy and layer variance; path average refuses --chart', async () => {
    const charts = join(dir, 'charts-runs');
    const llpf = await run(['path', 'llpf', A, '--to', `model:${B}`, '--ticks', '2', '--record-every', '1', '--no-train', '--step-adaptive', '0.5', '--out', join(dir, 'llpf'), '--points', '3', ...EXAMPLES, '--chart', charts, '--format', 'svg']);
    expect(llpf.code, llpf.stderr).toBe(0);
    for (const file of ['llpf.rows.json', 'llpf-path.svg', 'llpf-path.meta.json', 'llpf-ticks.rows.json', 'llpf-ticks-llpf.svg']) expect(existsSync(join(charts, file)), file).toBe(true);
    expect(existsSync(join(charts, 'llpf-path.png'))).toBe(false);
    const simulate = await run(['simulate', '--nodes', '3', '--topology', 'ring', '--ticks', '2', '--record-every', '1', '--test-examples', '20', '--samples-per-node', '20', '--workers', '1', '--out', join(dir, 'sim'), '--chart', charts, '--format', 'svg']);
    expect(simulate.code, simulate.stderr).toBe(0);
    for (const file of ['simulate.rows.json', 'simulate-accuracy.svg', 'simulate-layer-variance.svg', 'simulate-accuracy.meta.json']) expect(existsSync(join(charts, file)), file).toBe(true);
    const average = await run(['path', 'average', A, B, '--out', join(dir, 'avg.safetensors'), '--chart', charts]);
    expect(average.stderr).toMatch(/--chart: path average gives one row per model/);
  }, 120_000);
});
