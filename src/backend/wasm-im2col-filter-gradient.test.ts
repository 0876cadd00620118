import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedTensors, maxRelativeError, onBackend, useTestBackend } from '../../test/helpers.js';
import { createRandom, normalArray, type Random } from '../util/random.js';
import { filterGradientByIm2col, writeTransposedPatches, type PatchGeometry } from './wasm-im2col-filter-gradient.js';

type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;

interface FilterGradCase {
  readonly xShape: [number, number, number, number];
  readonly filterShape: [number, number, number, number];
  readonly strides: [number, number];
  readonly pad: Pad;
  readonly dimRoundingMode: 'floor' | 'round' | 'ceil' | undefined;
  readonly dyShape: [number, number, number, number];
  readonly x: Float32Array;
  readonly dy: Float32Array;
}

const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** A random dilation-1 geometry: batch 1–5, inputs 1–13 (odd and even), filters 1–5 non-square, strides 1–3, every pad kind. */
function randomCase(random: Random): FilterGradCase {
  for (;;) {
    const kind = random.int(4);
    const square = kind === 2;
    const kh = 1 + random.int(5);
    const kw = square ? kh : 1 + random.int(5);
    const sh = 1 + random.int(3);
    const strides: [number, number] = [sh, square ? sh : 1 + random.int(3)];
    const xShape: [number, number, number, number] = [1 + random.int(5), 1 + random.int(13), 1 + random.int(13), 1 + random.int(6)];
    const filterShape: [number, number, number, number] = [kh, kw, xShape[3], 1 + random.int(6)];
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
    const dimRoundingMode = kind === 2 ? ([undefined, 'floor', 'round', 'ceil'] as const)[random.int(4)] : undefined;
    let info: tf.backend_util.Conv2DInfo;
    try {
      info = tf.backend_util.computeConv2DInfo(xShape, filterShape, strides, 1, pad, dimRoundingMode);
    } catch {
      continue;
    }
    if (info.outHeight < 1 || info.outWidth < 1) continue;
    const dyShape: [number, number, number, number] = [xShape[0], info.outHeight, info.outWidth, filterShape[3]];
    return { xShape, filterShape, strides, pad, dimRoundingMode, dyShape, x: normalArray(size(xShape), 0, 1, random), dy: normalArray(size(dyShape), 0, 1, random) };
  }
}

function describeCase(c: FilterGradCase): string {
  return `x [${c.xShape.join(',')}] filter [${c.filterShape.join(',')}] strides ${c.strides.join('x')} pad ${JSON.stringify(c.pad)} rounding ${c.dimRoundingMode ?? '-'}`;
}

/** The Conv2DBackpropFilter kernel of the active backend on case c. */
function kernelGradient(c: FilterGradCase): Float32Array {
  return tf.tidy(
    () =>
      tf
        .engine()
        .runKernel<tf.Tensor>(
          tf.Conv2DBackpropFilter,
          { x: tf.tensor4d(c.x, c.xShape), dy: tf.tensor4d(c.dy, c.dyShape) },
          { strides: c.strides, pad: c.pad, dimRoundingMode: c.dimRoundingMode, dataFormat: 'NHWC', filterShape: c.filterShape } as unknown as tf.NamedAttrMap,
        )
        .dataSync() as Float32Array,
  );
}

/** `filterGradientByIm2col` called directly on the wasm backend, with a given chunk cap. */
function im2colGradient(c: FilterGradCase, maxPatchElements: number): Float32Array {
  return tf.tidy(() => {
    const x = tf.tensor4d(c.x, c.xShape);
    const dy = tf.tensor4d(c.dy, c.dyShape);
    const backend = tf.backend() as BackendWasm;
    const info = tf.backend_util.computeConv2DInfo(c.xShape, c.filterShape, c.strides, 1, c.pad, c.dimRoundingMode);
    const dw = filterGradientByIm2col(backend, x, dy, info, maxPatchElements);
    const values = (backend.typedArrayFromHeap(dw) as Float32Array).slice();
    expect(dw.shape).toEqual(c.filterShape);
    backend.disposeData(dw.dataId);
    return values;
  });
}

describe('filter gradient by im2col + GEMM on wasm', () => {
  beforeAll(async () => {
    expect(await useTestBackend()).toBe('wasm');
  });

  it('writeTransposedPatches writes Pᵀ[(kh,kw,ci),(n,oh,ow)] = x[n, oh·s+kh−p_t, ow·s+kw−p_l, ci], zero outside', () => {
    // Reference: the definition evaluated per element on x itself (not on its transpose).
    const random = createRandom(41);
    for (let trial = 0; trial < 60; trial++) {
      const g: PatchGeometry = {
        batchSize: 1 + random.int(3),
        inHeight: 1 + random.int(7),
        inWidth: 1 + random.int(40),
        inChannels: 1 + random.int(3),
        outHeight: 1 + random.int(5),
        outWidth: 0,
        filterHeight: 1 + random.int(4),
        filterWidth: 1 + random.int(4),
        strideHeight: 1 + random.int(2),
        strideWidth: 1 + random.int(3),
        padTop: random.int(3),
        padLeft: random.int(3),
      };
      // Half the trials take the stride-1, OW = W geometry of the whole-row copy.
      // Every third trial has OH = H as well: the whole-image copy.
      if (trial % 2 === 0) Object.assign(g, { strideHeight: 1, strideWidth: 1, outWidth: g.inWidth, outHeight: trial % 3 === 0 ? g.inHeight : 1 + random.int(g.inHeight + 2) });
      else Object.assign(g, { outWidth: 1 + random.int(30) });
      const { batchSize: n, inHeight: h, inWidth: w, inChannels: c } = g;
      const x = normalArray(n * h * w * c, 0, 1, random);
      const first = random.int(n);
      const count = 1 + random.int(n - first);
      const columns = count * g.outHeight * g.outWidth;
      // One "heap": a guard of NaN, xT, NaN, Pᵀ (NaN until written), NaN: reads or writes out of place show.
      const guard = 7;
      const outAt = guard + x.length + guard;
      const heap = new Float32Array(outAt + g.filterHeight * g.filterWidth * c * columns + guard).fill(Number.NaN);
      for (let i = 0; i < n; i++) for (let r = 0; r < h; r++) for (let q = 0; q < w; q++) for (let k = 0; k < c; k++) heap[guard + ((k * n + i) * h + r) * w + q] = x[((i * h + r) * w + q) * c + k] as number;
      const before = heap.slice(0, outAt);
      writeTransposedPatches(heap, guard, outAt, g, first, count);
      expect(heap.subarray(0, outAt)).toEqual(before);
      expect(Number.isNaN(heap[heap.length - 1])).toBe(true);
      const got = heap.subarray(outAt);
      for (let kh = 0; kh < g.filterHeight; kh++) {
        for (let kw = 0; kw < g.filterWidth; kw++) {
          for (let ci = 0; ci < c; ci++) {
            for (let i = 0; i < count; i++) {
              for (let oh = 0; oh < g.outHeight; oh++) {
                for (let ow = 0; ow < g.outWidth; ow++) {
                  const ih = oh * g.strideHeight + kh - g.padTop;
                  const iw = ow * g.strideWidth + kw - g.padLeft;
                  const inside = ih >= 0 && ih < h && iw >= 0 && iw < w;
                  const want = inside ? (x[(((first + i) * h + ih) * w + iw) * c + ci] as number) : 0;
                  const at = ((kh * g.filterWidth + kw) * c + ci) * columns + (i * g.outHeight + oh) * g.outWidth + ow;
                  if (got[at] !== want) throw new Error(`trial ${trial} ${JSON.stringify(g)}: Pᵀ at kh ${kh} kw ${kw} ci ${ci} n ${first + i} oh ${oh} ow ${ow} is ${got[at]}, expected ${want}`);
                }
              }
            }
          }
        }
      }
    }
  });

  it('the wasm Conv2DBackpropFilter kernel matches the cpu backend within 1e-4 (odd shapes, strides 1–3, every pad, batch 1)', async () => {
    const random = createRandom(20261201);
    let batchOne = 0;
    let strided = 0;
    for (let i = 0; i < 40; i++) {
      const c = randomCase(random);
      if (c.xShape[0] === 1) batchOne++;
      if (c.strides[0] > 1 || c.strides[1] > 1) strided++;
      const expected = await onBackend('cpu', () => kernelGradient(c));
      const got = await onBackend('wasm', () => kernelGradient(c));
      expect(maxRelativeError(got, expected), describeCase(c)).toBeLessThanOrEqual(1e-4);
    }
    expect(batchOne).toBeGreaterThan(3);
    expect(strided).toBeGreaterThan(10);
  });

  it('chunked over the batch (a patch cap of one image, and of less than one) it gives the same gradient', async () => {
    const random = createRandom(5);
    for (let i = 0; i < 10; i++) {
      const c = randomCase(random);
      const expected = await onBackend('cpu', () => kernelGradient(c));
      for (const cap of [c.filterShape[0] * c.filterShape[1] * c.xShape[3] * c.dyShape[1] * c.dyShape[2], 1]) {
        const got = await onBackend('wasm', () => im2colGradient(c, cap));
        expect(maxRelativeError(got, expected), `${describeCase(c)} cap ${cap}`).toBeLessThanOrEqual(1e-4);
      }
    }
  });

  it('on a ResNet-18-sized layer (x [4,16,16,32], 3×3, stride 2, same) it matches the cpu backend', async () => {
    const random = createRandom(8);
    const xShape: [number, number, number, number] = [4, 16, 16, 32];
    const dyShape: [number, number, number, number] = [4, 8, 8, 64];
    const c: FilterGradCase = { xShape, filterShape: [3, 3, 32, 64], strides: [2, 2], pad: 'same', dimRoundingMode: undefined, dyShape, x: normalArray(size(xShape), 0, 1, random), dy: normalArray(size(dyShape), 0, 1, random) };
    const expected = await onBackend('cpu', () => kernelGradient(c));
    const got = await onBackend('wasm', () => kernelGradient(c));
    expect(maxRelativeError(got, expected)).toBeLessThanOrEqual(1e-4);
  });

  it('a dy whose shape disagrees with the convolution is refused with both shapes named', async () => {
    await tf.setBackend('wasm');
    const x = tf.zeros([1, 5, 5, 2]);
    const dy = tf.zeros([1, 4, 4, 3]);
    expect(() =>
      tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, { strides: 1, pad: 'valid', dataFormat: 'NHWC', filterShape: [3, 3, 2, 3] }),
    ).toThrow(/expected dy of shape \[1, 3, 3, 3\].*found \[1, 4, 4, 3\]/);
    tf.dispose([x, dy]);
  });

  it('leaks neither tensors nor wasm buffers, chunked or not', async () => {
    await tf.setBackend('wasm');
    const random = createRandom(12);
    const c = randomCase(random);
    const backend = tf.backend() as BackendWasm;
    for (const cap of [1, 1 << 20]) {
      await expectNoLeakedTensors(() => im2colGradient(c, cap), 3);
      const buffers = backend.numDataIds();
      im2colGradient(c, cap);
      kernelGradient(c);
      expect(backend.numDataIds()).toBe(buffers);
    }
  });
});
