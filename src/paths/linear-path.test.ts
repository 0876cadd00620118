import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedTensors, useTestBackend } from '../../test/helpers.js';
import {
  applyCalls,
  crossEntropy,
  lerp,
  mlpLogits,
  readMatrix,
  toy,
  toyBatches,
  toyData,
  toyModel,
  type ToyConfig,
} from '../../test/fixtures/barriers-toy-architectures.js';
import { disposeTensors } from '../models/tensor-map.js';
import type { Model } from '../models/types.js';
import { evaluatePath, linearPath, uniformGrid } from './linear-path.js';
import { barrierMetrics } from '../barriers/metrics.js';

beforeAll(async () => {
  await useTestBackend();
});

const linear: ToyConfig = { inputs: 5, hidden: 0, classes: 4, batchNorm: false };
const data = toyData(40, linear, 21);
let batches: ReturnType<typeof toyBatches>;
beforeAll(() => {
  batches = toyBatches(data, [16, 16, 8]);
});
afterAll(() => tf.dispose(batches.flatMap((b) => [b.x, b.y])));

describe('linearPath + evaluatePath', () => {
  it('matches the closed-form cross-entropy of a linear softmax model, whose logits are linear in t', async () => {
    const a = toyModel(linear, 1);
    const b = toyModel(linear, 2);
    const path = linearPath(a, b);
    const ts = [0, 0.05, 0.3, 0.5, 0.51, 0.9, 1];
    const rows = await evaluatePath(path, { test: batches, bnBatches: [] }, { ts, architecture: toy });
    const wa = readMatrix(a.params.get('fc2.weight')!);
    const wb = readMatrix(b.params.get('fc2.weight')!);
    const ba = Array.from(a.params.get('fc2.bias')!.dataSync());
    const bb = Array.from(b.params.get('fc2.bias')!.dataSync());
    expect(rows.map((r) => r.t)).toEqual(ts);
    for (const r of rows) {
      // z(t) = x·W(t) + b(t) — computed here in float64 from the endpoint arrays.
      const expected = crossEntropy(mlpLogits(data.xs, { w2: lerp(wa, wb, r.t), b2: lerp(ba, bb, r.t) }), data.labels);
      expect(r.path).toBe('linear');
      expect(r.split).toBe('test');
      expect(r.loss).toBeCloseTo(expected.loss, 5);
      expect(r.accuracy).toBe(expected.accuracy);
    }
    path.dispose();
    disposeTensors(a, b);
  });

  it('gives exactly zero barrier between identical endpoints', async () => {
    const a = toyModel({ ...linear, hidden: 6, batchNorm: true }, 3);
    const copy: Model = { ...a, params: new Map([...a.params].map(([n, t]) => [n, t.clone()])), buffers: new Map([...a.buffers].map(([n, t]) => [n, t.clone()])) };
    const path = linearPath(a, copy);
    const rows = await evaluatePath(path, { train: batches, test: batches, bnBatches: batches }, { points: 5, architecture: toy });
    expect(rows).toHaveLength(10);
    for (const m of barrierMetrics(rows)) {
      expect(m.lossBarrier).toBe(0);
      expect(m.lossBarrierEndpointMean).toBe(0);
      expect(m.errorBarrier).toBe(0);
    }
    path.dispose();
    disposeTensors(a, copy);
  });

  it('rejects endpoints of different architectures, configs, shapes or tensor sets before any computation', () => {
    const a = toyModel(linear, 1);
    const wider = toyModel({ ...linear, classes: 5 }, 2);
    const otherArch: Model = { ...a, architecture: 'resnet18' };
    const fewer: Model = { ...a, params: new Map([...a.params].filter(([n]) => n !== 'fc2.bias')) };
    const reshaped: Model = { ...a, params: new Map([...a.params].map(([n, t]) => [n, n === 'fc2.bias' ? tf.zeros([2, 2]) : t])) };
    const before = applyCalls.count;
    expect(() => linearPath(a, otherArch)).toThrow(/architectures differ: the first is barriers-toy, the second resnet18/);
    expect(() => linearPath(a, wider)).toThrow(/configs differ/);
    expect(() => linearPath(a, fewer)).toThrow(/only in the first: fc2.bias/);
    expect(() => linearPath(a, { ...reshaped, config: a.config })).toThrow(/"fc2.bias" is float32\[4\] in the first and float32\[2, 2\]/);
    expect(applyCalls.count).toBe(before);
    reshaped.params.get('fc2.bias')!.dispose();
    disposeTensors(a, wider);
  });

  it('reports progress once per point and leaks no tensors', async () => {
    const a = toyModel(linear, 4);
    const b = toyModel(linear, 5);
    const path = linearPath(a, b);
    const calls: [number, number][] = [];
    await evaluatePath(path, { test: batches, bnBatches: [] }, { points: 3, architecture: toy, progress: (e) => calls.push([e.step, e.total]) });
    expect(calls).toEqual([[1, 3], [2, 3], [3, 3]]);
    await expectNoLeakedTensors(() => evaluatePath(path, { test: batches, bnBatches: [] }, { points: 3, architecture: toy }));
    path.dispose();
    disposeTensors(a, b);
  });

  it('uniformGrid has exact endpoints', () => {
    expect(uniformGrid(11)[10]).toBe(1);
    expect(uniformGrid(3)).toEqual([0, 0.5, 1]);
    expect(() => uniformGrid(1)).toThrow(/≥ 2/);
  });
});
