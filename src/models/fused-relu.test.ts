import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedTensors, maxRelativeError, onBackend, useTestBackend } from '../../test/helpers.js';
import { createRandom, normalArray } from '../util/random.js';
import { convRelu, denseRelu } from './fused-relu.js';

beforeAll(async () => {
  await useTestBackend();
});

const random = createRandom(31);
const xs = normalArray(3 * 9 * 9 * 4, 0, 1, random);
const ws = normalArray(3 * 3 * 4 * 5, 0, 0.4, random);
const bs = normalArray(5, 0, 0.3, random);
const as = normalArray(6 * 7, 0, 1, random);
const ms = normalArray(7 * 8, 0, 0.5, random);
const cs = normalArray(8, 0, 0.3, random);

type Values = Float32Array[];

/** Value and gradients (x, W, b) of Σ u ⊙ f(x, W, b) for a fixed random u, through `f`. */
function valueAndGrads(f: (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.Tensor, shapes: [number[], number[], number[]], values: [ArrayLike<number>, ArrayLike<number>, ArrayLike<number>]): Values {
  return tf.tidy(() => {
    const inputs = values.map((v, i) => tf.tensor(Float32Array.from(v), shapes[i]));
    const out = f(inputs[0] as tf.Tensor, inputs[1] as tf.Tensor, inputs[2] as tf.Tensor);
    const u = tf.tensor(normalArray(out.size, 0, 1, createRandom(5)), out.shape);
    const { value, grads } = tf.valueAndGrads((x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(x, w, b), u)))(inputs);
    return [out, value, ...grads].map((t) => t.dataSync() as Float32Array);
  });
}

const convShapes: [number[], number[], number[]] = [[3, 9, 9, 4], [3, 3, 4, 5], [5]];
const denseShapes: [number[], number[], number[]] = [[6, 7], [7, 8], [8]];
const fusedConv = (stride: number, pad: 'same' | 'valid') => (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) =>
  convRelu({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, bias: b as tf.Tensor1D, strides: stride, pad });
const plainConv = (stride: number, pad: 'same' | 'valid') => (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) =>
  tf.relu(tf.add(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, stride, pad), b));
const fusedDense = (a: tf.Tensor, m: tf.Tensor, c: tf.Tensor) => denseRelu(a as tf.Tensor2D, m as tf.Tensor2D, c as tf.Tensor1D);
const plainDense = (a: tf.Tensor, m: tf.Tensor, c: tf.Tensor) => tf.relu(tf.add(tf.matMul(a as tf.Tensor2D, m as tf.Tensor2D), c));

describe('convRelu / denseRelu (fused kernels with a registered gradient)', () => {
  for (const backend of ['cpu', 'wasm']) {
    for (const [stride, pad] of [[1, 'same'], [2, 'valid'], [2, 'same']] as const) {
      it(`conv stride ${stride} pad ${pad} on ${backend}: value and every gradient equal conv + add + relu's within 1e-5`, async () => {
        const want = await onBackend('cpu', () => valueAndGrads(plainConv(stride, pad), convShapes, [xs, ws, bs]));
        const got = await onBackend(backend, () => valueAndGrads(fusedConv(stride, pad), convShapes, [xs, ws, bs]));
        got.forEach((g, i) => expect(maxRelativeError(g, want[i] as Float32Array), `output ${i}`).toBeLessThan(1e-5));
        // Some units are off: the relu's mask matters.
        expect((want[0] as Float32Array).filter((v) => v === 0).length).toBeGreaterThan(10);
      });
    }
    it(`conv without bias, numeric pad, on ${backend}: value and gradients equal conv + relu's within 1e-5`, async () => {
      const shapes: [number[], number[], number[]] = [convShapes[0], convShapes[1], [1]];
      // b is not an input of the op here; its "gradient" is 0 both ways.
      const noBias = (f: (x: tf.Tensor, w: tf.Tensor) => tf.Tensor) => (x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => tf.add(f(x, w), tf.mul(b, 0));
      const want = await onBackend('cpu', () => valueAndGrads(noBias((x, w) => tf.relu(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, 1))), shapes, [xs, ws, [0]]));
      const got = await onBackend(backend, () => valueAndGrads(noBias((x, w) => convRelu({ x: x as tf.Tensor4D, filter: w as tf.Tensor4D, strides: 2, pad: 1 })), shapes, [xs, ws, [0]]));
      got.forEach((g, i) => expect(maxRelativeError(g, want[i] as Float32Array), `output ${i}`).toBeLessThan(1e-5));
    });
    it(`dense on ${backend}: value and every gradient equal matMul + add + relu's within 1e-5`, async () => {
      const want = await onBackend('cpu', () => valueAndGrads(plainDense, denseShapes, [as, ms, cs]));
      const got = await onBackend(backend, () => valueAndGrads(fusedDense, denseShapes, [as, ms, cs]));
      got.forEach((g, i) => expect(maxRelativeError(g, want[i] as Float32Array), `output ${i}`).toBeLessThan(1e-5));
    });
  }

  it('runs one fused kernel forward and computes no input gradient that is not asked for', async () => {
    await tf.setBackend('wasm');
    const [x, w, b] = [tf.tensor(xs, convShapes[0]), tf.tensor(ws, convShapes[1]), tf.tensor(bs, convShapes[2])];
    const profile = await tf.profile(() =>
      tf.tidy(() => tf.grads((wv: tf.Tensor, bv: tf.Tensor) => tf.sum(fusedConv(1, 'same')(x, wv, bv)))([w, b]).map((g) => g.dataSync())),
    );
    const names = profile.kernelNames;
    expect(names).toContain('FusedConv2D');
    expect(names).toContain('Conv2DBackpropFilter');
    expect(names).not.toContain('Conv2DBackpropInput');
    expect(names).not.toContain('Conv2D');
    expect(names).not.toContain('Relu');
    tf.dispose([x, w, b]);
  });

  it('leaks no tensors across repeated gradient steps', async () => {
    await tf.setBackend('wasm');
    const [x, w, b] = [tf.tensor(xs, convShapes[0]), tf.tensor(ws, convShapes[1]), tf.tensor(bs, convShapes[2])];
    const [a, m, c] = [tf.tensor(as, denseShapes[0]), tf.tensor(ms, denseShapes[1]), tf.tensor(cs, denseShapes[2])];
    await expectNoLeakedTensors(() =>
      tf.tidy(() => {
        tf.grads((xv: tf.Tensor, wv: tf.Tensor, bv: tf.Tensor) => tf.sum(fusedConv(2, 'same')(xv, wv, bv)))([x, w, b]).forEach((g) => g.dataSync());
        tf.grads((av: tf.Tensor, mv: tf.Tensor, cv: tf.Tensor) => tf.sum(fusedDense(av, mv, cv)))([a, m, c]).forEach((g) => g.dataSync());
      }),
    );
    tf.dispose([x, w, b, a, m, c]);
  });
});
