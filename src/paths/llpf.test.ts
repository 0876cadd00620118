import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestBackend } from '../../test/helpers.js';
import { toyLinear, type ToyConfig } from '../../test/toy-architecture.js';
import { meanAndVariance } from '../averaging/variance-correction.js';
import { lenet5 } from '../models/lenet5/index.js';
import { disposeTensors } from '../models/tensor-map.js';
import type { ModelState } from '../models/types.js';
import { createRandom, normalArray } from '../util/random.js';
import { tensorBatchSource } from './batch-source.js';
import { disposeLlpfRun, llpfPath, runLlpf } from './llpf.js';
import type { ProgressEvent } from '../progress.js';

const config: ToyConfig = { size: 2, classes: 3 };
let x: tf.Tensor4D;
let y: tf.Tensor1D;
let dir: string;

beforeAll(async () => {
  await useTestBackend();
  const random = createRandom(1);
  x = tf.tensor4d(normalArray(64 * 4, 0, 1, random), [64, 2, 2, 1]);
  y = tf.tensor1d(Array.from({ length: 64 }, (_, i) => i % 3), 'int32');
  dir = await mkdtemp(join(tmpdir(), 'llpf-test-'));
});

afterAll(async () => {
  tf.dispose([x, y]);
  await rm(dir, { recursive: true, force: true });
});

function values(state: ModelState, name: string): number[] {
  return [...(state.params.get(name) as tf.Tensor).dataSync()];
}

/** A point with each tensor scaled by 3 (variance ×9) and shifted: far from the start's variance sphere. */
function scaled(state: ModelState, seed: number): ModelState {
  const random = createRandom(seed);
  return {
    params: new Map([...state.params].map(([n, t]) => [n, tf.tensor(normalArray(t.size, 0.5, 3, random), t.shape)])),
    buffers: new Map(),
  };
}

describe('runLlpf', () => {
  it('reaches the target (distance → 0) when training and projection are off', async () => {
    const a = toyLinear.init(config, 1);
    const b = toyLinear.init(config, 2);
    const run = await runLlpf(toyLinear, config, a, { kind: 'model', state: b }, {}, { ticks: 30, stepFixed: 0.05, stepAdaptive: 0.2, training: false, project: false, recordEvery: 5 });
    const distances = run.rows.map((r) => r.distanceToTarget);
    expect(distances[0]).toBeGreaterThan(0.5);
    for (let i = 1; i < distances.length; i++) expect(distances[i]).toBeLessThanOrEqual(distances[i - 1] as number); // monotone: no overshoot
    expect(distances.at(-1)).toBe(0);
    expect(values(run.current, 'fc.weight')).toEqual(values(b, 'fc.weight'));
    expect(run.points.map((p) => p.tick)).toEqual([0, 5, 10, 15, 20, 25, 30]);
    disposeLlpfRun(run);
    disposeTensors(a, b);
  });

  it('projection keeps each tensor at the start variance and its own mean (ε = 0)', async () => {
    const a = toyLinear.init(config, 1);
    const target = scaled(a, 4);
    const run = await runLlpf(toyLinear, config, a, { kind: 'point', state: target }, {}, { ticks: 3, stepAdaptive: 0.3, training: false, epsilon: 0, recordEvery: 1 });
    // Without projection, to compare means: the mean is that of the moved (unprojected) point.
    const free = await runLlpf(toyLinear, config, a, { kind: 'point', state: target }, {}, { ticks: 1, stepAdaptive: 0.3, training: false, project: false });
    for (const name of ['fc.weight', 'fc.bias']) {
      const v0 = meanAndVariance(values(a, name)).variance;
      for (const p of run.points) expect(Math.abs(meanAndVariance(values(p.state, name)).variance - v0) / v0).toBeLessThan(1e-5);
      const tick1 = run.points[1] as { state: ModelState };
      expect(meanAndVariance(values(tick1.state, name)).mean).toBeCloseTo(meanAndVariance(values(free.current, name)).mean, 5);
      expect(meanAndVariance(values(free.current, name)).variance).toBeGreaterThan(1.2 * v0); // the projection did something
    }
    disposeLlpfRun(run);
    disposeLlpfRun(free);
    disposeTensors(a, target);
  });

  it('layers before their first tick do not move (LeNet5, fc layers from tick 3)', async () => {
    const cfg = lenet5.defaultConfig;
    const a = lenet5.init(cfg, 1);
    const b = lenet5.init(cfg, 2);
    const schedule = new Map([['fc1', 3], ['fc2', 3], ['fc3', 3]]);
    const run = await runLlpf(lenet5, cfg, a, { kind: 'model', state: b }, {}, { ticks: 4, training: false, project: false, recordEvery: 1, schedule, stepAdaptive: 0.1 });
    const at = (tick: number): ModelState => (run.points.find((p) => p.tick === tick) as { state: ModelState }).state;
    expect(values(at(3), 'fc1.weight')).toEqual(values(a, 'fc1.weight'));
    expect(values(at(3), 'fc3.bias')).toEqual(values(a, 'fc3.bias'));
    expect(values(at(1), 'conv1.weight')).not.toEqual(values(a, 'conv1.weight'));
    expect(values(at(4), 'fc1.weight')).not.toEqual(values(a, 'fc1.weight'));
    disposeLlpfRun(run);
    disposeTensors(a, b);
  });

  it('trains, records rows with segment maxima, and gives a path through its points', async () => {
    const a = toyLinear.init(config, 1);
    const b = toyLinear.init(config, 2);
    const train = tensorBatchSource(x, y, { batchSize: 16, seed: 3 });
    const evaluation = { test: [{ x, y }], bnBatches: [] };
    const run = await runLlpf(toyLinear, config, a, { kind: 'model', state: b }, { train, evaluation }, {
      ticks: 4, recordEvery: 2, stepAdaptive: 0.1, training: { lr: 0.05, minIterations: 2, maxIterations: 3, lossThreshold: 0 },
    });
    expect(run.iterations).toBe(12); // threshold 0 is never met ⇒ maxIterations every tick
    expect(run.rows.map((r) => [r.tick, r.split])).toEqual([[0, 'test'], [2, 'test'], [4, 'test']]);
    expect(run.rows[0]?.segmentMaxLoss).toBeUndefined();
    for (const r of run.rows.slice(1)) expect(r.segmentMaxLoss).toBeGreaterThanOrEqual(r.loss);
    const path = llpfPath(run);
    const p0 = path.pointAt(0);
    const p1 = path.pointAt(1);
    const mid = path.pointAt(0.25); // halfway between ticks 0 and 2
    expect(values(p0, 'fc.bias')).toEqual(values(a, 'fc.bias'));
    expect(values(p1, 'fc.bias')).toEqual(values(run.current, 'fc.bias'));
    const m = values(mid, 'fc.bias');
    const e0 = values(run.points[0]!.state, 'fc.bias');
    const e1 = values(run.points[1]!.state, 'fc.bias');
    m.forEach((v, i) => expect(v).toBeCloseTo((e0[i]! + e1[i]!) / 2, 6));
    disposeTensors(p0, p1, mid);
    path.dispose();
    disposeTensors(a, b);
  });

  it('a run stopped after tick 5 and resumed equals an uninterrupted 10-tick run (tensors, rows, iterations)', async () => {
    const a = toyLinear.init(config, 1);
    const b = toyLinear.init(config, 2);
    const train = tensorBatchSource(x, y, { batchSize: 16, seed: 3 });
    const evaluation = { test: [{ x, y }], bnBatches: [] };
    const options = { recordEvery: 3, stepAdaptive: 0.05, training: { lr: 0.05, minIterations: 2, maxIterations: 7, lossThreshold: 0.9 } };
    const full = await runLlpf(toyLinear, config, a, { kind: 'model', state: b }, { train, evaluation }, { ...options, ticks: 10 });
    const ckpt = join(dir, 'resume');
    const controller = new AbortController();
    const stopAt5 = (event: ProgressEvent): void => {
      if (event.step === 5) controller.abort();
    };
    const first = await runLlpf(toyLinear, config, a, { kind: 'model', state: b }, { train, evaluation }, { ...options, ticks: 10, checkpoint: { directory: ckpt, every: 2 }, signal: controller.signal, progress: stopAt5 });
    expect(first.completed).toBe(false);
    expect(first.tick).toBe(5);
    disposeLlpfRun(first);
    // Temporary files a kill between write and rename leaves (our naming, old and new) go on resume.
    await writeFile(join(ckpt, '.llpf-state.safetensors.00000000deadbeef.tmp'), 'partial');
    await writeFile(join(ckpt, 'llpf-point-6.safetensors.777.tmp'), 'partial');
    const second = await runLlpf(toyLinear, config, a, { kind: 'model', state: b }, { train, evaluation }, { ...options, ticks: 10, checkpoint: { directory: ckpt, every: 2 }, resume: true });
    expect(second.iterations).toBe(full.iterations);
    expect(second.rows).toEqual(full.rows);
    for (const name of ['fc.weight', 'fc.bias']) expect(values(second.current, name)).toEqual(values(full.current, name));
    expect(second.points.map((p) => p.tick)).toEqual(full.points.map((p) => p.tick));
    expect((await readdir(ckpt)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    disposeLlpfRun(full);
    disposeLlpfRun(second);
    disposeTensors(a, b);
  });

  it('does not leak tensors (moving, projecting, evaluating, recording)', async () => {
    // Training is left out: lossAndGradients (src/train/step.ts) itself leaves one tensor per call
    // on tfjs 4.22, even inside tf.tidy; reported to its owner.
    const a = toyLinear.init(config, 1);
    const b = toyLinear.init(config, 2);
    const evaluation = { test: [{ x, y }], bnBatches: [] };
    const once = async (): Promise<void> => {
      const run = await runLlpf(toyLinear, config, a, { kind: 'point', state: b }, { evaluation }, { ticks: 3, recordEvery: 1, training: false, stepAdaptive: 0.1 });
      disposeLlpfRun(run);
    };
    await once();
    const before = tf.memory().numTensors;
    await once();
    expect(tf.memory().numTensors).toBe(before);
    disposeTensors(a, b);
  });

  it('rejects a schedule naming an unknown layer group', async () => {
    const a = toyLinear.init(config, 1);
    await expect(runLlpf(toyLinear, config, a, { kind: 'origin' }, {}, { ticks: 1, training: false, schedule: new Map([['conv9', 0]]) })).rejects.toThrow(/"conv9"/);
    disposeTensors(a);
  });
});
