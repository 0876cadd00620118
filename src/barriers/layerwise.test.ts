import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedTensors, useTestBackend } from '../../test/helpers.js';
import {
  asModel,
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
import { cumulativeBarriers, layerOrder, layerwiseBarriers, layerwiseBarriersByEpoch } from './layerwise.js';
import { evaluatePath, linearPath } from '../paths/linear-path.js';

beforeAll(async () => {
  await useTestBackend();
});

const mlp: ToyConfig = { inputs: 4, hidden: 6, classes: 3, batchNorm: false };
const data = toyData(30, mlp, 31);
let batches: ReturnType<typeof toyBatches>;
beforeAll(() => {
  batches = toyBatches(data, [10, 10, 10]);
});
afterAll(() => tf.dispose(batches.flatMap((b) => [b.x, b.y])));

const arrays = (m: Model) => ({
  w1: readMatrix(m.params.get('fc1.weight')!),
  b1: Array.from(m.params.get('fc1.bias')!.dataSync()),
  w2: readMatrix(m.params.get('fc2.weight')!),
  b2: Array.from(m.params.get('fc2.bias')!.dataSync()),
});

/** B with fc1 taken from A: the two differ in fc2 only. */
function sharingFc1(a: Model, b: Model): Model {
  return asModel(mlp, { params: new Map([...b.params].map(([n, t]) => [n, n.startsWith('fc1') ? a.params.get(n)!.clone() : t.clone()])), buffers: new Map() });
}

describe('layerwiseBarriers', () => {
  it('matches the closed-form loss with one layer interpolated and the rest from A or from B', async () => {
    const a = toyModel(mlp, 1);
    const b = toyModel(mlp, 2);
    const pa = arrays(a);
    const pb = arrays(b);
    const rows = await layerwiseBarriers(a, b, { test: batches, bnBatches: [] }, { ts: [0.5, 0.25], architecture: toy });
    // t = 0 and 1 are added for the barrier: 2 layers × 2 rests × 4 t.
    expect(rows).toHaveLength(16);
    for (const r of rows) {
      const rest = r.rest === 'A' ? pa : pb;
      const p = r.layer === 'fc1'
        ? { ...rest, w1: lerp(pa.w1, pb.w1, r.t), b1: lerp(pa.b1, pb.b1, r.t) }
        : { ...rest, w2: lerp(pa.w2, pb.w2, r.t), b2: lerp(pa.b2, pb.b2, r.t) };
      const expected = crossEntropy(mlpLogits(data.xs, p), data.labels);
      expect(r.loss).toBeCloseTo(expected.loss, 5);
      expect(r.accuracy).toBe(expected.accuracy);
      expect(r.layerIndex).toBe(r.layer === 'fc1' ? 0 : 1);
    }
    // The barrier column is the interpolation-baseline maximum of the layer's own path.
    const fc2A = rows.filter((r) => r.layer === 'fc2' && r.rest === 'A').sort((x, y) => x.t - y.t);
    const l0 = fc2A[0]!.loss;
    const l1 = fc2A[3]!.loss;
    const expectedBarrier = Math.max(...fc2A.map((r) => r.loss - (l0 + r.t * (l1 - l0))));
    for (const r of fc2A) expect(r.barrier).toBeCloseTo(expectedBarrier, 12);
    disposeTensors(a, b);
  });

  it('single-layer interpolation equals the full interpolation when the other layers are identical', async () => {
    const a = toyModel(mlp, 3);
    const other = toyModel(mlp, 4);
    const b = sharingFc1(a, other);
    const ts = [0, 0.2, 0.5, 0.8, 1];
    const data = { test: batches, bnBatches: [] };
    const path = linearPath(a, b);
    const full = await evaluatePath(path, data, { ts, architecture: toy });
    const layer = await layerwiseBarriers(a, b, data, { ts, architecture: toy, layers: ['fc2'] });
    for (const rest of ['A', 'B'] as const) {
      const mine = layer.filter((r) => r.rest === rest);
      expect(mine.map((r) => r.loss)).toEqual(full.map((r) => r.loss));
    }
    path.dispose();
    disposeTensors(a, other, b);
  });

  it('with BatchNorm (re-estimated at every point), single-layer fc2 interpolation equals the full path when fc1+BN are shared', async () => {
    const bn: ToyConfig = { ...mlp, batchNorm: true };
    const a = toyModel(bn, 13);
    const other = toyModel(bn, 14);
    // B shares A's fc1 group (fc1, bn params) but has its own (different) stored BN statistics.
    const b = asModel(bn, {
      params: new Map([...other.params].map(([n, t]) => [n, n.startsWith('fc2') ? t.clone() : a.params.get(n)!.clone()])),
      buffers: new Map([...other.buffers].map(([n, t]) => [n, t.clone()])),
    });
    const ts = [0, 0.5, 1];
    const bnData = { test: batches, bnBatches: batches };
    const path = linearPath(a, b);
    const full = await evaluatePath(path, bnData, { ts, architecture: toy });
    const layer = await layerwiseBarriers(a, b, bnData, { ts, architecture: toy, layers: ['fc2'] });
    for (const rest of ['A', 'B'] as const) {
      expect(layer.filter((r) => r.rest === rest).map((r) => r.loss)).toEqual(full.map((r) => r.loss));
    }
    path.dispose();
    disposeTensors(a, other, b);
  });

  it('rejects an unknown layer, and leaks no tensors', async () => {
    const a = toyModel(mlp, 5);
    const b = toyModel(mlp, 6);
    await expect(layerwiseBarriers(a, b, { test: batches, bnBatches: [] }, { architecture: toy, layers: ['conv9'] })).rejects.toThrow(/unknown layer group "conv9"; the model has fc1, fc2/);
    await expectNoLeakedTensors(() => layerwiseBarriers(a, b, { test: batches, bnBatches: [] }, { points: 3, architecture: toy }));
    disposeTensors(a, b);
  });

  it('by epoch: one block of rows per checkpoint pair, labelled with the epoch', async () => {
    const runA = [toyModel(mlp, 7), toyModel(mlp, 8)];
    const runB = [toyModel(mlp, 9), toyModel(mlp, 10)];
    const rows = await layerwiseBarriersByEpoch(runA, runB, { test: batches, bnBatches: [] }, { ts: [0.5], epochs: [1, 5], architecture: toy, rests: ['A'] });
    expect([...new Set(rows.map((r) => r.epoch))]).toEqual([1, 5]);
    const epoch5 = await layerwiseBarriers(runA[1]!, runB[1]!, { test: batches, bnBatches: [] }, { ts: [0.5], architecture: toy, rests: ['A'] });
    expect(rows.filter((r) => r.epoch === 5).map((r) => r.loss)).toEqual(epoch5.map((r) => r.loss));
    await expect(layerwiseBarriersByEpoch(runA, runB.slice(1), { test: batches, bnBatches: [] }, { architecture: toy })).rejects.toThrow(/run A has 2 checkpoints, run B has 1/);
    disposeTensors(...runA, ...runB);
  });
});

describe('cumulativeBarriers', () => {
  const deep: ToyConfig = { ...mlp, hidden: 5 };
  it('ends, in every order, at the full-model midpoint barrier, and starts with the single-layer midpoint', async () => {
    const a = toyModel(deep, 11);
    const b = toyModel(deep, 12);
    const pa = arrays(a);
    const pb = arrays(b);
    const rows = await cumulativeBarriers(a, b, { test: batches, bnBatches: [] }, { architecture: toy, seed: 3 });
    const la = crossEntropy(mlpLogits(data.xs, pa), data.labels).loss;
    const lb = crossEntropy(mlpLogits(data.xs, pb), data.labels).loss;
    const mid = crossEntropy(mlpLogits(data.xs, { w1: lerp(pa.w1, pb.w1, 0.5), b1: lerp(pa.b1, pb.b1, 0.5), w2: lerp(pa.w2, pb.w2, 0.5), b2: lerp(pa.b2, pb.b2, 0.5) }), data.labels).loss;
    for (const order of ['shallow', 'deep', 'random'] as const) {
      const mine = rows.filter((r) => r.order === order);
      expect(mine.map((r) => r.step)).toEqual([1, 2]);
      expect(mine[1]!.barrier).toBeCloseTo(mid - 0.5 * (la + lb), 5);
    }
    // Shallow step 1: fc1 at ½, fc2 from A; endpoint: fc1 from B, fc2 from A.
    const shallow1 = rows.find((r) => r.order === 'shallow' && r.step === 1)!;
    expect(shallow1.addedLayer).toBe('fc1');
    const half = crossEntropy(mlpLogits(data.xs, { ...pa, w1: lerp(pa.w1, pb.w1, 0.5), b1: lerp(pa.b1, pb.b1, 0.5) }), data.labels).loss;
    const swapped = crossEntropy(mlpLogits(data.xs, { ...pa, w1: pb.w1, b1: pb.b1 }), data.labels).loss;
    expect(shallow1.barrier).toBeCloseTo(half - 0.5 * (la + swapped), 5);
    expect(rows.find((r) => r.order === 'deep' && r.step === 1)!.addedLayer).toBe('fc2');
    disposeTensors(a, b);
  });

  it('random order is a seeded permutation', () => {
    const layers = Array.from({ length: 8 }, (_, i) => ({ name: `l${i}`, params: [], buffers: [] }));
    const r1 = layerOrder(layers, 'random', 1).map((l) => l.name);
    expect(layerOrder(layers, 'random', 1).map((l) => l.name)).toEqual(r1);
    expect([...r1].sort()).toEqual(layers.map((l) => l.name));
    expect(layerOrder(layers, 'random', 2).map((l) => l.name)).not.toEqual(r1);
    expect(layerOrder(layers, 'deep').map((l) => l.name)[0]).toBe('l7');
  });
});
