import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedTensors, useTestBackend } from '../../test/helpers.js';
import { createModel, getArchitecture } from '../models/registry.js';
import { disposeTensors } from '../models/tensor-map.js';
import type { Model, ModelSpec } from '../models/types.js';
import { filterNormalizedDirection } from './filter-normalized-direction.js';

beforeAll(async () => {
  await useTestBackend();
});

/** Norms of the slices along the last axis, computed on the host. */
function filterNorms(t: tf.Tensor): number[] {
  const values = t.dataSync();
  const out = t.shape[t.rank - 1] as number;
  const sums = new Array<number>(out).fill(0);
  for (let i = 0; i < values.length; i++) sums[i % out] = (sums[i % out] as number) + (values[i] as number) ** 2;
  return sums.map(Math.sqrt);
}

describe('filterNormalizedDirection', () => {
  let model: Model;
  let spec: ModelSpec;
  beforeAll(() => {
    model = createModel('lenet5', {}, 5);
    spec = getArchitecture('lenet5').spec(model.config);
  });
  afterAll(() => disposeTensors(model));

  it('gives every filter (last-axis slice) of every weight the norm of the model\'s filter and zeroes 1-D tensors', () => {
    const d = filterNormalizedDirection(model, spec, { seed: 3 });
    expect([...d.keys()]).toEqual(spec.params.map((p) => p.name));
    let weights = 0;
    for (const [name, theta] of model.params) {
      const dir = d.get(name)!;
      expect(dir.shape).toEqual(theta.shape);
      if (theta.rank <= 1) {
        expect(Array.from(dir.dataSync()).every((x) => x === 0), name).toBe(true);
        continue;
      }
      weights++;
      const want = filterNorms(theta);
      const got = filterNorms(dir);
      for (const [j, w] of want.entries()) expect(Math.abs((got[j] as number) - w) / Math.max(1, w), `${name} filter ${j}`).toBeLessThan(1e-5);
      // Not θ itself: a random direction.
      expect(Array.from(dir.dataSync())).not.toEqual(Array.from(theta.dataSync()));
    }
    expect(weights).toBe(5);
    disposeTensors(d);
  });

  it('copies 1-D tensors from θ with biasBn "keep"', () => {
    const d = filterNormalizedDirection(model, spec, { seed: 3, biasBn: 'keep' });
    for (const [name, theta] of model.params) {
      if (theta.rank <= 1) expect(Array.from(d.get(name)!.dataSync()), name).toEqual(Array.from(theta.dataSync()));
    }
    disposeTensors(d);
  });

  it('is deterministic per seed and direction, and differs between them', () => {
    const first = filterNormalizedDirection(model, spec, { seed: 3 });
    const again = filterNormalizedDirection(model, spec, { seed: 3 });
    const other = filterNormalizedDirection(model, spec, { seed: 4 });
    const second = filterNormalizedDirection(model, spec, { seed: 3, direction: 1 });
    const w = (m: Map<string, tf.Tensor>) => Array.from(m.get('conv1.weight')!.dataSync());
    expect(w(again)).toEqual(w(first));
    expect(w(other)).not.toEqual(w(first));
    expect(w(second)).not.toEqual(w(first));
    disposeTensors(first, again, other, second);
  });

  it('names the tensor when the model does not match the spec, and leaks nothing', async () => {
    const before = tf.memory().numTensors;
    const partial = { params: new Map([...model.params].slice(0, 2)), buffers: model.buffers };
    expect(() => filterNormalizedDirection(partial, spec)).toThrow(/is missing from the model/);
    expect(tf.memory().numTensors).toBe(before);
    await expectNoLeakedTensors(() => disposeTensors(filterNormalizedDirection(model, spec, { seed: 1 })));
  });
});
