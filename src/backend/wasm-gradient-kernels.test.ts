import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectNoLeakedTensors, maxRelativeError, onBackend, useTestBackend } from '../../test/helpers.js';
import { createRandom, normalArray, type Random } from '../util/random.js';
import { registerWasmGradientKernels, WASM_GRADIENT_KERNELS, WASM_REPLACED_KERNELS } from './wasm-gradient-kernels.js';
import { isOurReplacement } from './wasm-kernel-calls.js';

type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
type Rounding = 'floor' | 'round' | 'ceil' | undefined;

interface ConvCase {
  readonly xShape: [number, number, number, number];
  readonly filterShape: [number, number, number, number];
  readonly strides: [number, number];
  readonly dilations: [number, number];
  readonly pad: Pad;
  readonly dimRoundingMode: Rounding;
  readonly x: Float32Array;
  readonly filter: Float32Array;
  /** Weights of the loss Σ r·y, so dy = r is random rather than all ones. */
  readonly r: Float32Array;
  readonly outShape: [number, number, number, number];
}

function pick<T>(random: Random, items: readonly T[]): T {
  return items[random.int(items.length)] as T;
}

interface CaseOptions {
  readonly depthwise: boolean;
  /** Dilation > 1 (with stride 1, as tfjs requires). */
  readonly dilation: boolean;
  /**
   * Numeric pads with a dimRoundingMode. The wasm forward Conv2D (XNNPACK) always floors and tfjs
   * sizes numeric-pad outputs from the filter height and stride alone, so such cases can only be
   * run through the backprop kernels directly, never through a wasm forward pass.
   */
  readonly rounding: boolean;
}

/** A random convolution whose output is non-empty: batch 1–8, channels 1–8, non-square, stride 1–2. */
function randomCase(random: Random, options: CaseOptions): ConvCase {
  for (;;) {
    const n = 1 + random.int(8);
    const h = 1 + random.int(12);
    const w = 1 + random.int(12);
    const c = 1 + random.int(8);
    const kind = pick(random, ['same', 'valid', 'number', 'explicit'] as const);
    // tfjs sizes numeric-pad outputs as if filter and stride were square: keep them square there.
    const square = kind === 'number';
    const kh = 1 + random.int(5);
    const kw = square ? kh : 1 + random.int(5);
    const out = options.depthwise ? 1 + random.int(3) : 1 + random.int(8);
    const dilated = options.dilation && random.next() < 0.6;
    const sh = dilated ? 1 : 1 + random.int(2);
    const strides: [number, number] = [sh, square || dilated ? sh : 1 + random.int(2)];
    const dh = dilated ? 1 + random.int(3) : 1;
    const dilations: [number, number] = [dh, square || !dilated ? dh : 1 + random.int(3)];
    let pad: Pad = kind === 'number' ? random.int(3) : kind === 'explicit' ? 'valid' : kind;
    if (kind === 'explicit') {
      pad = [
        [0, 0],
        [random.int(3), random.int(3)],
        [random.int(3), random.int(3)],
        [0, 0],
      ];
    }
    const dimRoundingMode: Rounding =
      kind === 'number' && options.rounding ? pick(random, ['floor', 'round', 'ceil'] as const) : undefined;
    const xShape: [number, number, number, number] = [n, h, w, c];
    const filterShape: [number, number, number, number] = [kh, kw, c, out];
    let info: tf.backend_util.Conv2DInfo;
    try {
      info = tf.backend_util.computeConv2DInfo(xShape, filterShape, strides, dilations, pad, dimRoundingMode, options.depthwise);
    } catch {
      continue;
    }
    const [, oh, ow, oc] = info.outShape;
    if (oh < 1 || ow < 1) continue;
    const outShape: [number, number, number, number] = [n, oh, ow, oc];
    return {
      xShape,
      filterShape,
      strides,
      dilations,
      pad,
      dimRoundingMode,
      outShape,
      x: normalArray(n * h * w * c, 0, 1, random),
      filter: normalArray(kh * kw * c * out, 0, 1, random),
      r: normalArray(n * oh * ow * oc, 0, 1, random),
    };
  }
}

function describeCase(c: ConvCase): string {
  return `x [${c.xShape.join(',')}] filter [${c.filterShape.join(',')}] strides ${c.strides.join('x')} dilations ${c.dilations.join('x')} pad ${JSON.stringify(c.pad)} rounding ${c.dimRoundingMode ?? '-'}`;
}

/** Gradients of Σ r·conv(x, W) with respect to x and W, computed through tf.grads on the active backend. */
function convGradients(c: ConvCase, depthwise: boolean): { dx: Float32Array; dw: Float32Array } {
  return tf.tidy(() => {
    const x = tf.tensor4d(c.x, c.xShape);
    const filter = tf.tensor4d(c.filter, c.filterShape);
    const r = tf.tensor4d(c.r, c.outShape);
    const loss = (xs: tf.Tensor, ws: tf.Tensor): tf.Scalar => {
      const y = depthwise
        ? tf.depthwiseConv2d(xs as tf.Tensor4D, ws as tf.Tensor4D, c.strides, c.pad, 'NHWC', c.dilations, c.dimRoundingMode)
        : tf.conv2d(xs as tf.Tensor4D, ws as tf.Tensor4D, c.strides, c.pad, 'NHWC', c.dilations, c.dimRoundingMode);
      return tf.sum(tf.mul(y, r));
    };
    const [dx, dw] = tf.grads(loss)([x, filter]);
    return { dx: (dx as tf.Tensor).dataSync() as Float32Array, dw: (dw as tf.Tensor).dataSync() as Float32Array };
  });
}

/** Runs the backprop kernels directly, bypassing tfjs's gradient checks (which refuse dilation > 1). */
function runBackpropKernels(c: ConvCase, depthwise: boolean): { dx: Float32Array; dw: Float32Array } {
  return tf.tidy(() => {
    const x = tf.tensor4d(c.x, c.xShape);
    const filter = tf.tensor4d(c.filter, c.filterShape);
    const dy = tf.tensor4d(c.r, c.outShape);
    const common = depthwise
      ? { strides: c.strides, dilations: c.dilations, pad: c.pad, dimRoundingMode: c.dimRoundingMode }
      : { strides: c.strides, pad: c.pad, dimRoundingMode: c.dimRoundingMode, dataFormat: 'NHWC' };
    const engine = tf.engine();
    const filterKernel = depthwise ? tf.DepthwiseConv2dNativeBackpropFilter : tf.Conv2DBackpropFilter;
    const inputKernel = depthwise ? tf.DepthwiseConv2dNativeBackpropInput : tf.Conv2DBackpropInput;
    const dw = engine.runKernel(filterKernel, { x, dy }, { ...common, filterShape: c.filterShape } as unknown as tf.NamedAttrMap);
    const dx = engine.runKernel(inputKernel, { dy, filter }, { ...common, inputShape: c.xShape } as unknown as tf.NamedAttrMap);
    return { dx: (dx as tf.Tensor).dataSync() as Float32Array, dw: (dw as tf.Tensor).dataSync() as Float32Array };
  });
}

/** ⟨a, b⟩ in float64. */
function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] as number) * (b[i] as number);
  return sum;
}

/** ⟨r, depthwiseConv2d(u, v)⟩ by the cpu backend's forward pass, which implements dilation. */
function forwardPairing(c: ConvCase, u: Float32Array, v: Float32Array): number {
  const y = tf.tidy(() =>
    tf
      .depthwiseConv2d(tf.tensor4d(u, c.xShape), tf.tensor4d(v, c.filterShape), c.strides, c.pad, 'NHWC', c.dilations, c.dimRoundingMode)
      .dataSync(),
  );
  return dot(c.r, y);
}

const CASES = 24;

describe('wasm gradient kernels', () => {
  beforeAll(async () => {
    expect(await useTestBackend()).toBe('wasm');
  });

  it('registerWasmGradientKernels fills the gaps tfjs-backend-wasm leaves, and is idempotent', () => {
    for (const config of WASM_GRADIENT_KERNELS) expect(tf.getKernel(config.kernelName, 'wasm')).toBeDefined();
    expect(registerWasmGradientKernels()).toEqual([]);
  });

  it('Conv2DBackpropInput, MaxPoolGrad, BatchMatMul, Add, Identity, Tile, Pack, Unpack, Sum and Mean on wasm are our replacements', () => {
    expect(Object.keys(WASM_REPLACED_KERNELS).sort()).toEqual(
      [tf.Add, tf.BatchMatMul, tf.Conv2DBackpropInput, tf.Identity, tf.MaxPoolGrad, tf.Tile, tf.Pack, tf.Unpack, tf.Sum, tf.Mean].sort(),
    );
    for (const name of Object.keys(WASM_REPLACED_KERNELS)) expect(isOurReplacement(tf.getKernel(name, 'wasm')), name).toBe(true);
  });

  for (const depthwise of [false, true]) {
    const op = depthwise ? 'depthwiseConv2d' : 'conv2d';
    it(`${op} gradients through tf.grads on wasm match the cpu backend within 1e-4`, async () => {
      const random = createRandom(depthwise ? 7 : 20240501);
      for (let i = 0; i < CASES; i++) {
        const c = randomCase(random, { depthwise, dilation: false, rounding: false });
        const expected = await onBackend('cpu', () => convGradients(c, depthwise));
        const got = await onBackend('wasm', () => convGradients(c, depthwise));
        expect(maxRelativeError(got.dw, expected.dw), `dW for ${describeCase(c)}`).toBeLessThanOrEqual(1e-4);
        expect(maxRelativeError(got.dx, expected.dx), `dx for ${describeCase(c)}`).toBeLessThanOrEqual(1e-4);
      }
    });

    it(`${op} backprop kernels with numeric pads and every dimRoundingMode match the cpu backend's kernels`, async () => {
      const random = createRandom(depthwise ? 8 : 9);
      for (let i = 0; i < CASES; i++) {
        const c = randomCase(random, { depthwise, dilation: false, rounding: true });
        const expected = await onBackend('cpu', () => runBackpropKernels(c, depthwise));
        const got = await onBackend('wasm', () => runBackpropKernels(c, depthwise));
        expect(maxRelativeError(got.dw, expected.dw), `dW for ${describeCase(c)}`).toBeLessThanOrEqual(1e-4);
        expect(maxRelativeError(got.dx, expected.dx), `dx for ${describeCase(c)}`).toBeLessThanOrEqual(1e-4);
      }
    });
  }

  it('depthwise backprop kernels with dilation > 1 satisfy the adjoint identities of the forward op', async () => {
    // The cpu backend's depthwise backprop kernels ignore dilation, so the reference is the forward op:
    // ⟨r, conv(x, V)⟩ = ⟨dW(x, r), V⟩ and ⟨r, conv(U, W)⟩ = ⟨dx(r, W), U⟩ for random U, V.
    const random = createRandom(99);
    let dilatedCases = 0;
    for (let i = 0; i < CASES; i++) {
      const c = randomCase(random, { depthwise: true, dilation: true, rounding: true });
      if (c.dilations[0] > 1 || c.dilations[1] > 1) dilatedCases++;
      const got = await onBackend('wasm', () => runBackpropKernels(c, true));
      const u = normalArray(c.x.length, 0, 1, random);
      const v = normalArray(c.filter.length, 0, 1, random);
      const [viaW, viaX] = await onBackend('cpu', () => [forwardPairing(c, c.x, v), forwardPairing(c, u, c.filter)]);
      expect(Math.abs(dot(got.dw, v) - (viaW)) / Math.max(1, Math.abs(viaW)), `dW for ${describeCase(c)}`).toBeLessThanOrEqual(1e-4);
      expect(Math.abs(dot(got.dx, u) - (viaX)) / Math.max(1, Math.abs(viaX)), `dx for ${describeCase(c)}`).toBeLessThanOrEqual(1e-4);
    }
    expect(dilatedCases).toBeGreaterThan(5);
  });

  it('a 1×1 convolution’s filter gradient is the closed form Σ_{n,h,w} x·dy', async () => {
    // Independent of both backends: with a 1×1 filter, stride 1, dW[0,0,ci,co] = Σ x[…,ci]·r[…,co].
    const random = createRandom(3);
    const c: ConvCase = {
      xShape: [3, 4, 5, 2],
      filterShape: [1, 1, 2, 3],
      strides: [1, 1],
      dilations: [1, 1],
      pad: 'valid',
      dimRoundingMode: undefined,
      outShape: [3, 4, 5, 3],
      x: normalArray(3 * 4 * 5 * 2, 0, 1, random),
      filter: normalArray(6, 0, 1, random),
      r: normalArray(3 * 4 * 5 * 3, 0, 1, random),
    };
    const expected = new Float32Array(6);
    for (let p = 0; p < 60; p++) {
      for (let ci = 0; ci < 2; ci++) {
        for (let co = 0; co < 3; co++) {
          expected[ci * 3 + co] = (expected[ci * 3 + co] as number) + (c.x[p * 2 + ci] as number) * (c.r[p * 3 + co] as number);
        }
      }
    }
    const got = await onBackend('wasm', () => convGradients(c, false));
    expect(maxRelativeError(got.dw, expected)).toBeLessThanOrEqual(1e-5);
  });

  it('a LeNet-sized training step leaks no tensors on wasm', async () => {
    await tf.setBackend('wasm');
    const random = createRandom(11);
    const x = tf.tensor4d(normalArray(4 * 12 * 12 * 3, 0, 1, random), [4, 12, 12, 3]);
    const w1 = tf.variable(tf.tensor4d(normalArray(3 * 3 * 3 * 4, 0, 0.3, random), [3, 3, 3, 4]));
    const w2 = tf.variable(tf.tensor4d(normalArray(3 * 3 * 4 * 2, 0, 0.3, random), [3, 3, 4, 2]));
    const step = (): void => {
      tf.tidy(() => {
        const { grads } = tf.variableGrads(() => {
          const h = tf.relu(tf.conv2d(x, w1, 2, 'same'));
          return tf.sum(tf.square(tf.depthwiseConv2d(h, w2, 1, 'valid')));
        });
        w1.assign(tf.sub(w1, tf.mul(0.01, grads[w1.name] as tf.Tensor)));
        w2.assign(tf.sub(w2, tf.mul(0.01, grads[w2.name] as tf.Tensor)));
      });
    };
    await expectNoLeakedTensors(step, 4);
    // Kernel intermediates live below the engine: count the wasm backend's buffers too.
    const backend = tf.backend() as BackendWasm;
    const buffers = backend.numDataIds();
    step();
    step();
    expect(backend.numDataIds()).toBe(buffers);
    tf.dispose([x, w1, w2]);
  });
});
