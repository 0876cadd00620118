import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestBackend } from '../../test/helpers.js';
import { disposeTensors } from '../models/tensor-map.js';
import type { TensorMap } from '../models/types.js';
import { crossEntropy } from '../train/loss.js';
import { tensorBatchSource } from './batch-source.js';
import { createCurve, curveParamsAt, disposeCurve, type Curve } from './curve.js';
import { toyMlp, trainXorModel, xorData, xorModels } from '../../test/fixtures/toy-mlp.js';
import { bendKey, curveLossAndGradients, curveTAt, trainCurve } from './train-curve.js';

let data: { x: tf.Tensor4D; y: tf.Tensor1D };
beforeAll(async () => {
  await useTestBackend();
  data = xorData(256);
});
afterAll(() => {
  data.x.dispose();
  data.y.dispose();
});

function lossAt(params: TensorMap): number {
  return tf.tidy(() => crossEntropy(toyMlp.apply({ hidden: 8 }, { params, buffers: new Map() }, data.x, { training: false }).logits, data.y).dataSync()[0] as number);
}

function maxLossAlong(curve: Curve, points = 21): number {
  let worst = -Infinity;
  for (let k = 0; k < points; k++) {
    const params = curveParamsAt(curve, k / (points - 1));
    worst = Math.max(worst, lossAt(params));
    disposeTensors(params);
  }
  return worst;
}

const values = (m: TensorMap): number[][] => [...m.values()].map((t) => Array.from(t.dataSync()));

describe('curveTAt', () => {
  it('is deterministic in (seed, step), in [0, 1), and differs across steps', () => {
    expect(curveTAt(3, 10)).toBe(curveTAt(3, 10));
    const ts = Array.from({ length: 200 }, (_, s) => curveTAt(3, s));
    expect(ts.every((t) => t >= 0 && t < 1)).toBe(true);
    expect(new Set(ts).size).toBe(200);
    const mean = ts.reduce((a, b) => a + b, 0) / ts.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.06); // U(0,1): sd of the mean = 0.29/√200 ≈ 0.02
  });
});

describe('curveLossAndGradients', () => {
  it('matches central finite differences of CE(θ(t)) + ½·wd·‖θ(t)‖² in a bend entry', () => {
    const { a, b } = xorModels();
    const curve = createCurve(a, b, { kind: 'bezier', bends: 3 });
    const batch = { x: data.x, y: data.y };
    const t = 0.37;
    const wd = 0.05;
    const { objective, loss, grads } = curveLossAndGradients(toyMlp, curve, batch, t, wd);
    expect([...grads.keys()]).toEqual(['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias'].map((n) => bendKey(1, n)));
    const objectiveAt = (bend1: TensorMap): number => {
      const c: Curve = { ...curve, bends: [curve.bends[0]!, bend1, curve.bends[2]!] };
      const params = curveParamsAt(c, t);
      let sq = 0;
      for (const p of params.values()) sq += Array.from(p.dataSync()).reduce((s, v) => s + v * v, 0);
      const value = lossAt(params) + 0.5 * wd * sq;
      disposeTensors(params);
      return value;
    };
    expect(objective.dataSync()[0]).toBeCloseTo(objectiveAt(curve.bends[1]!), 5);
    expect(loss.dataSync()[0]).toBeLessThan(objective.dataSync()[0]!);
    const h = 1e-2;
    for (const [name, index] of [['fc2.weight', 1], ['fc1.weight', 3], ['fc2.bias', 0]] as const) {
      const base = curve.bends[1]!.get(name)!;
      const shifted = (delta: number): number => {
        const values = base.dataSync().slice();
        values[index] = (values[index] as number) + delta;
        const replaced = tf.tensor(values, base.shape);
        const bend = new Map(curve.bends[1]);
        bend.set(name, replaced);
        const v = objectiveAt(bend);
        replaced.dispose();
        return v;
      };
      const numeric = (shifted(h) - shifted(-h)) / (2 * h);
      expect(grads.get(bendKey(1, name))!.dataSync()[index]).toBeCloseTo(numeric, 3);
    }
    disposeTensors(grads, a, b);
    objective.dispose();
    loss.dispose();
    disposeCurve(curve);
  });
});

describe('trainCurve', () => {
  it('lowers the max loss along the curve below the straight line barrier, endpoints bit-identical', async () => {
    const a = trainXorModel(1, data);
    const b = trainXorModel(2, data);
    const curve = createCurve(a, b, { kind: 'bezier', bends: 3 });
    const lineMax = maxLossAlong(curve); // the initial curve is the straight line
    expect(lineMax).toBeGreaterThan(0.5); // ≈ 0.85 at the midpoint, ≈ 0.05 at the ends
    const source = tensorBatchSource(data.x, data.y, { batchSize: 32, seed: 1 });
    const steps: number[] = [];
    const result = await trainCurve(toyMlp, curve, source, { epochs: 10, lr: 0.1, weightDecay: 1e-4, seed: 2, progress: (p) => steps.push(p.step) });
    expect(steps.length).toBe(10 * 8);
    expect(steps.at(-1)).toBe(80);
    const trainedMax = maxLossAlong(result.curve);
    // measured: straight line 0.93, trained Bezier 0.25
    expect(trainedMax, `straight line max ${lineMax}, trained curve max ${trainedMax}`).toBeLessThan(0.5 * lineMax);
    expect(result.rows.length).toBe(10);
    expect(result.rows[9]!.lr).toBeCloseTo(0.001, 9); // epoch 9 of 10 is past 90%: 1% of lr
    expect(values(result.curve.bends[0]!)).toEqual(values(a.params));
    expect(values(result.curve.bends[2]!)).toEqual(values(b.params));
    expect(values(result.curve.bends[1]!)).not.toEqual(values(curve.bends[1]!));
    disposeCurve(curve);
    disposeCurve(result.curve);
    disposeTensors(result.state.slots, a, b);
  });

  it('resuming in chunks reproduces one uninterrupted run exactly, without leaking tensors', async () => {
    const { a, b } = xorModels();
    const curve = createCurve(a, b, { kind: 'polychain', bends: 4 });
    const source = tensorBatchSource(data.x, data.y, { batchSize: 64, seed: 1 });
    const options = { epochs: 3, lr: 0.05, seed: 5 };
    const whole = await trainCurve(toyMlp, curve, source, options);
    const before = tf.memory().numTensors;
    let current = curve;
    let state = undefined as undefined | Awaited<ReturnType<typeof trainCurve>>['state'];
    const counts: number[] = [];
    for (let chunk = 0; chunk < 4; chunk++) {
      const part = await trainCurve(toyMlp, current, source, { ...options, maxSteps: 3, ...(state === undefined ? {} : { resume: state }) });
      if (current !== curve) disposeCurve(current);
      if (state !== undefined) disposeTensors(state.slots);
      current = part.curve;
      state = part.state;
      counts.push(tf.memory().numTensors);
    }
    expect(state!.step).toBe(12);
    expect(counts.every((c) => c === counts[0]), `live tensors after each chunk: ${counts.join(', ')}`).toBe(true);
    for (let i = 0; i < 4; i++) expect(values(current.bends[i]!)).toEqual(values(whole.curve.bends[i]!));
    disposeCurve(current);
    disposeTensors(state!.slots);
    expect(tf.memory().numTensors).toBe(before);
    disposeCurve(whole.curve);
    disposeTensors(whole.state.slots, a, b);
    disposeCurve(curve);
  });

  it('trains the endpoints too when asked', async () => {
    const { a, b } = xorModels();
    const curve = createCurve(a, b, { trainStart: true });
    expect(curve.trainable).toEqual([true, true, false]);
    const source = tensorBatchSource(data.x, data.y, { batchSize: 64 });
    const result = await trainCurve(toyMlp, curve, source, { epochs: 1, lr: 0.1 });
    expect(values(result.curve.bends[0]!)).not.toEqual(values(a.params));
    expect(values(result.curve.bends[2]!)).toEqual(values(b.params));
    disposeCurve(curve);
    disposeCurve(result.curve);
    disposeTensors(result.state.slots, a, b);
  });
});
