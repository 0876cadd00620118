import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestBackend } from '../../test/helpers.js';
import { disposeTensors, interpolateTensors } from '../models/tensor-map.js';
import type { TensorMap } from '../models/types.js';
import { crossEntropy } from '../train/loss.js';
import { autoNeb, connectAutoNeb, nebPath, parseNebCycles, type NebEnergy } from './autoneb.js';
import { tensorBatchSource } from './batch-source.js';
import { toyMlp, trainXorModel, xorData } from '../../test/fixtures/toy-mlp.js';

beforeAll(async () => {
  await useTestBackend();
});

/**
 * Draxler et al.'s "curvy valley" test surface: E(x, y) = (y − sin x)² + 4β(βx⁴ − x²) + 1 with
 * x₀ = 5π/2, β = 1/(2x₀²). Minima E = 0 at (±x₀, ±1); the valley floor y = sin x rises to its
 * highest point at (0, 0) where E = 1, so any path between the minima reaches E ≥ 1 and the
 * minimum-energy path's saddle is exactly 1. The straight line reaches ≈ 2.98.
 */
const X0 = (5 * Math.PI) / 2;
const BETA = 1 / (2 * X0 * X0);
function curvy(p: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const x = tf.slice(p, [0], [1]);
    const y = tf.slice(p, [1], [1]);
    const valley = tf.square(tf.sub(y, tf.sin(x)));
    const x2 = tf.square(x);
    const bounding = tf.add(tf.mul(tf.sub(tf.mul(tf.square(x2), BETA), x2), 4 * BETA), 1);
    return tf.sum(tf.add(valley, bounding));
  });
}
const curvyEnergy: NebEnergy = {
  lossesAndGradients(points, withGradient) {
    const losses: number[] = [];
    const gradients: (tf.Tensor1D | undefined)[] = [];
    for (const [i, p] of points.entries()) {
      if (withGradient[i] === true) {
        const { value, grad } = tf.valueAndGrad(curvy)(p);
        losses.push(value.dataSync()[0]!);
        value.dispose();
        gradients.push(grad);
      } else {
        const value = curvy(p);
        losses.push(value.dataSync()[0]!);
        value.dispose();
        gradients.push(undefined);
      }
    }
    return Promise.resolve({ losses, gradients });
  },
  evaluate(points) {
    return Promise.resolve(
      points.map((p) => {
        const value = curvy(p);
        const out = value.dataSync()[0]!;
        value.dispose();
        return out;
      }),
    );
  },
};

describe('parseNebCycles', () => {
  it('expands COUNTxSTEPS@LR items', () => {
    expect(parseNebCycles('2x100@0.1,50@1e-3')).toEqual([
      { steps: 100, lr: 0.1 },
      { steps: 100, lr: 0.1 },
      { steps: 50, lr: 0.001 },
    ]);
    expect(() => parseNebCycles('2x100')).toThrow(/--cycles: .*found "2x100"/);
  });
});

describe('autoNeb on the curvy valley', () => {
  it('relaxes the chain until its max energy approaches the closed-form saddle E = 1', async () => {
    const start = tf.tensor1d([-X0, -1]);
    const end = tf.tensor1d([X0, 1]);
    const before = tf.memory().numTensors;
    const result = await autoNeb(start, end, curvyEnergy, { cycles: parseNebCycles('4x80@0.01'), initialPivots: 7 });
    const saddle = Math.max(...result.dense.map((d) => d.loss));
    // measured: saddle estimates 1.154, 1.186, 1.000, 1.000 with 9, 11, 13, 13 pivots
    expect(result.rows.map((r) => r.pivots)).toEqual([9, 11, 13, 13]);
    expect(saddle).toBeGreaterThanOrEqual(0.999);
    expect(saddle).toBeLessThan(1.01);
    expect(result.rows[0]!.saddleLoss).toBeGreaterThan(result.rows.at(-1)!.saddleLoss);
    expect(result.pivots[0]!.dataSync()).toEqual(start.dataSync());
    tf.dispose(result.pivots);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([start, end]);
  });
});

describe('connectAutoNeb and nebPath on a toy network', () => {
  let data: { x: tf.Tensor4D; y: tf.Tensor1D };
  beforeAll(() => {
    data = xorData(256);
  });
  afterAll(() => {
    tf.dispose([data.x, data.y]);
  });
  const lossAt = (params: TensorMap): number =>
    tf.tidy(() => crossEntropy(toyMlp.apply({ hidden: 8 }, { params, buffers: new Map() }, data.x, { training: false }).logits, data.y).dataSync()[0]!);

  it('finds a chain whose max loss is far below the straight line, with exact endpoints and no leaks', async () => {
    const a = trainXorModel(1, data);
    const b = trainXorModel(2, data);
    let lineMax = 0;
    for (let k = 0; k <= 20; k++) {
      const p = interpolateTensors(a.params, b.params, k / 20);
      lineMax = Math.max(lineMax, lossAt(p));
      disposeTensors(p);
    }
    const before = tf.memory().numTensors;
    const source = tensorBatchSource(data.x, data.y, { batchSize: 64, seed: 3 });
    const progressSteps: number[] = [];
    const { chain, rows, dense } = await connectAutoNeb(toyMlp, a, b, { train: source, evaluation: [data] }, {
      cycles: parseNebCycles('3x40@0.1'),
      densePoints: 4,
      progress: (p) => progressSteps.push(p.step),
    });
    expect(progressSteps.length).toBe(120);
    expect(rows.length).toBe(3);
    expect(dense.length).toBe((chain.pivots.length - 1) * 5 + 1);
    const path = nebPath(chain);
    for (const [t, model] of [[0, a], [1, b]] as const) {
      const point = path.pointAt(t);
      for (const [name, tensor] of model.params) expect(Array.from(point.params.get(name)!.dataSync())).toEqual(Array.from(tensor.dataSync()));
      disposeTensors(point);
    }
    let pathMax = 0;
    for (let k = 0; k <= 20; k++) {
      const point = path.pointAt(k / 20);
      pathMax = Math.max(pathMax, lossAt(point.params));
      disposeTensors(point);
    }
    // measured: straight line 0.93, AutoNEB chain 0.076 (endpoints ≈ 0.05)
    expect(pathMax, `line max ${lineMax}, chain max ${pathMax}`).toBeLessThan(0.5 * lineMax);
    path.dispose();
    expect(tf.memory().numTensors).toBe(before);
    disposeTensors(a, b);
  });
});
