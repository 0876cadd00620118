import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedTensors, useTestBackend } from '../../test/helpers.js';
import { toy, toyBatches, toyData, toyModel, type ToyConfig } from '../../test/fixtures/barriers-toy-architectures.js';
import { disposeTensors, squaredNorm } from '../models/tensor-map.js';
import { layerwiseBarriers } from './layerwise.js';
import { layerRobustness, randomDirection } from './robustness.js';

beforeAll(async () => {
  await useTestBackend();
});

const mlp: ToyConfig = { inputs: 4, hidden: 6, classes: 3, batchNorm: false };
const data = toyData(30, mlp, 41);
let batches: ReturnType<typeof toyBatches>;
beforeAll(() => {
  batches = toyBatches(data, [15, 15]);
});
afterAll(() => tf.dispose(batches.flatMap((b) => [b.x, b.y])));

describe('layerRobustness', () => {
  it('moves along the interpolation direction exactly like single-layer interpolation with the rest from A', async () => {
    const a = toyModel(mlp, 1);
    const b = toyModel(mlp, 2);
    const ts = [0, 0.5, 1];
    const rows = await layerRobustness(a, b, { test: batches, bnBatches: [] }, { ts, samples: 2, architecture: toy });
    const layer = await layerwiseBarriers(a, b, { test: batches, bnBatches: [] }, { ts, rests: ['A'], architecture: toy });
    for (const name of ['fc1', 'fc2']) {
      const interp = rows.filter((r) => r.layer === name && r.direction === 'interpolation').map((r) => r.loss);
      const expected = layer.filter((r) => r.layer === name).map((r) => r.loss);
      expect(interp.map((v, i) => Math.abs(v - expected[i]!))).toSatisfy((d: number[]) => d.every((x) => x < 1e-6));
      const random = rows.filter((r) => r.layer === name && r.direction === 'random');
      expect(random.map((r) => r.sample)).toEqual([0, 0, 0, 1, 1, 1]);
      // t = 0 is A itself for every direction.
      expect(random[0]!.loss).toBe(interp[0]);
      expect(random[3]!.loss).toBe(interp[0]);
      expect(random[2]!.loss).not.toBe(random[5]!.loss);
    }
    disposeTensors(a, b);
  });

  it('random directions have the requested norm and are reproducible from the seed', () => {
    const shapes = new Map([['w', [3, 4]], ['b', [4]]]);
    const d1 = randomDirection(shapes, 2.5, 7, 'fc1', 0);
    const d2 = randomDirection(shapes, 2.5, 7, 'fc1', 0);
    const d3 = randomDirection(shapes, 2.5, 7, 'fc1', 1);
    expect(Math.sqrt(squaredNorm(d1))).toBeCloseTo(2.5, 5);
    expect(Array.from(d1.get('w')!.dataSync())).toEqual(Array.from(d2.get('w')!.dataSync()));
    expect(Array.from(d1.get('w')!.dataSync())).not.toEqual(Array.from(d3.get('w')!.dataSync()));
    disposeTensors(d1, d2, d3);
  });

  it('leaks no tensors', async () => {
    const a = toyModel(mlp, 3);
    const b = toyModel(mlp, 4);
    await expectNoLeakedTensors(() => layerRobustness(a, b, { test: batches, bnBatches: [] }, { points: 2, samples: 1, architecture: toy }));
    disposeTensors(a, b);
  });
});
