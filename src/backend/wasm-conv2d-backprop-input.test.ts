import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedTensors, maxRelativeError, onBackend, useTestBackend } from '../../test/helpers.js';
import { createRandom, normalArray, type Random } from '../util/random.js';
import { writeRotatedSubFilter } from './wasm-conv2d-backprop-input.js';

type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;

interface InputGradCase {
  readonly inputShape: [number, number, number, number];
  readonly filterShape: [number, number, number, number];
  readonly stride: number;
  readonly pad: Pad;
  readonly dy: Float32Array;
  readonly filter: Float32Array;
  readonly dyShape: [number, number, number, number];
}

/** A random square-stride (1–3) convolution geometry: filters 1–5 (non-square), inputs 1–13, every pad kind. */
function randomCase(random: Random): InputGradCase {
  for (;;) {
    const stride = 1 + random.int(3);
    const kind = random.int(4);
    const kh = 1 + random.int(5);
    const kw = kind === 2 ? kh : 1 + random.int(5);
    const inputShape: [number, number, number, number] = [1 + random.int(3), 1 + random.int(13), 1 + random.int(13), 1 + random.int(5)];
    const filterShape: [number, number, number, number] = [kh, kw, inputShape[3], 1 + random.int(5)];
    const pad: Pad =
      kind === 0
        ? 'same'
        : kind === 1
          ? 'valid'
          : kind === 2
            ? random.int(3)
            : [
                [0, 0],
                [random.int(3), random.int(3)],
                [random.int(3), random.int(3)],
                [0, 0],
              ];
    let info: tf.backend_util.Conv2DInfo;
    try {
      info = tf.backend_util.computeConv2DInfo(inputShape, filterShape, stride, 1, pad);
    } catch {
      continue;
    }
    if (info.outHeight < 1 || info.outWidth < 1) continue;
    const dyShape: [number, number, number, number] = [inputShape[0], info.outHeight, info.outWidth, filterShape[3]];
    const size = (s: number[]): number => s.reduce((a, b) => a * b, 1);
    return { inputShape, filterShape, stride, pad, dyShape, dy: normalArray(size(dyShape), 0, 1, random), filter: normalArray(size(filterShape), 0, 1, random) };
  }
}

function inputGradient(c: InputGradCase): Float32Array {
  return tf.tidy(
    () =>
      tf
        .engine()
        .runKernel<tf.Tensor>(
          tf.Conv2DBackpropInput,
          { dy: tf.tensor4d(c.dy, c.dyShape), filter: tf.tensor4d(c.filter, c.filterShape) },
          { strides: [c.stride, c.stride], pad: c.pad, dataFormat: 'NHWC', inputShape: c.inputShape },
        )
        .dataSync() as Float32Array,
  );
}

function describeCase(c: InputGradCase): string {
  return `x [${c.inputShape.join(',')}] filter [${c.filterShape.join(',')}] stride ${c.stride} pad ${JSON.stringify(c.pad)}`;
}

describe('Conv2DBackpropInput on wasm (sub-pixel decomposition into stride-1 convolutions)', () => {
  beforeAll(async () => {
    expect(await useTestBackend()).toBe('wasm');
  });

  it('writeRotatedSubFilter writes out[a,b,co,ci] = W[s·(A−1−a)+ρ, s·(B−1−b)+ρ′, ci, co] (channels past one 32-tile too)', () => {
    const random = createRandom(77);
    for (let trial = 0; trial < 40; trial++) {
      const shape: [number, number, number, number] = [1 + random.int(5), 1 + random.int(5), 1 + random.int(trial % 4 === 0 ? 70 : 6), 1 + random.int(trial % 4 === 1 ? 70 : 6)];
      const strides: [number, number] = [1 + random.int(3), 1 + random.int(3)];
      const firsts: [number, number] = [random.int(strides[0]), random.int(strides[1])];
      const [kh, kw, ci, co] = shape;
      const rows = Math.max(0, Math.ceil((kh - firsts[0]) / strides[0]));
      const cols = Math.max(0, Math.ceil((kw - firsts[1]) / strides[1]));
      const filter = normalArray(kh * kw * ci * co, 0, 1, random);
      const got = new Float32Array(rows * cols * co * ci).fill(Number.NaN);
      writeRotatedSubFilter(filter, shape, firsts, strides, got);
      for (let a = 0; a < rows; a++) {
        for (let b = 0; b < cols; b++) {
          for (let o = 0; o < co; o++) {
            for (let i = 0; i < ci; i++) {
              const h = strides[0] * (rows - 1 - a) + firsts[0];
              const w = strides[1] * (cols - 1 - b) + firsts[1];
              const want = filter[((h * kw + w) * ci + i) * co + o];
              const at = ((a * cols + b) * co + o) * ci + i;
              if (got[at] !== want) throw new Error(`trial ${trial} shape [${shape.join(',')}] strides ${strides.join('x')} firsts ${firsts.join(',')}: out[${a},${b},${o},${i}] is ${got[at]}, expected ${want}`);
            }
          }
        }
      }
    }
  });

  it('matches the cpu kernel for strides 1–3, every pad kind, filters larger and smaller than the stride', async () => {
    const random = createRandom(404);
    const strides = new Set<number>();
    for (let i = 0; i < 60; i++) {
      const c = randomCase(random);
      strides.add(c.stride);
      const expected = await onBackend('cpu', () => inputGradient(c));
      const got = await onBackend('wasm', () => inputGradient(c));
      expect(maxRelativeError(got, expected), describeCase(c)).toBeLessThanOrEqual(1e-4);
    }
    expect([...strides].sort()).toEqual([1, 2, 3]);
  });

  it('ResNet-style stride-2 shapes (3×3 same, 1×1 valid shortcut) match the cpu kernel', async () => {
    const random = createRandom(18);
    const geometries: Omit<InputGradCase, 'dy' | 'filter'>[] = [
      { inputShape: [2, 16, 16, 8], filterShape: [3, 3, 8, 16], stride: 2, pad: 'same', dyShape: [2, 8, 8, 16] },
      { inputShape: [2, 16, 16, 8], filterShape: [1, 1, 8, 16], stride: 2, pad: 'valid', dyShape: [2, 8, 8, 16] },
      { inputShape: [3, 15, 9, 4], filterShape: [3, 3, 4, 6], stride: 2, pad: 'same', dyShape: [3, 8, 5, 6] },
    ];
    const cases: InputGradCase[] = geometries.map((c) => ({
      ...c,
      dy: normalArray(c.dyShape.reduce((a, b) => a * b, 1), 0, 1, random),
      filter: normalArray(c.filterShape.reduce((a, b) => a * b, 1), 0, 1, random),
    }));
    for (const c of cases) {
      const expected = await onBackend('cpu', () => inputGradient(c));
      const got = await onBackend('wasm', () => inputGradient(c));
      expect(maxRelativeError(got, expected), describeCase(c)).toBeLessThanOrEqual(1e-4);
    }
  });

  it('a 1×1 stride-2 gradient is dy·Wᵀ on even positions and zero elsewhere (closed form)', async () => {
    // x [1,2,2,1], W [1,1,1,2] = [2, 3], dy [1,1,1,2] = [5, 7]: dx[0,0] = 5·2 + 7·3 = 31.
    const got = await onBackend('wasm', () =>
      tf.tidy(() =>
        tf
          .engine()
          .runKernel<tf.Tensor>(
            tf.Conv2DBackpropInput,
            { dy: tf.tensor4d([5, 7], [1, 1, 1, 2]), filter: tf.tensor4d([2, 3], [1, 1, 1, 2]) },
            { strides: [2, 2], pad: 'valid', dataFormat: 'NHWC', inputShape: [1, 2, 2, 1] },
          )
          .dataSync(),
      ),
    );
    expect(Array.from(got)).toEqual([31, 0, 0, 0]);
  });

  it('stride-2 conv2d gradients leak no tensors and no wasm buffers', async () => {
    await tf.setBackend('wasm');
    const random = createRandom(3);
    const x = tf.tensor4d(normalArray(2 * 9 * 9 * 3, 0, 1, random), [2, 9, 9, 3]);
    const w = tf.tensor4d(normalArray(3 * 3 * 3 * 4, 0, 1, random), [3, 3, 3, 4]);
    const step = (): void => {
      tf.tidy(() => tf.grad((v: tf.Tensor) => tf.sum(tf.square(tf.conv2d(v as tf.Tensor4D, w, 2, 'same'))))(x).dataSync());
    };
    await expectNoLeakedTensors(step, 4);
    const backend = tf.backend() as BackendWasm;
    const buffers = backend.numDataIds();
    step();
    expect(backend.numDataIds()).toBe(buffers);
    tf.dispose([x, w]);
  });
});
