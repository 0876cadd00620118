/**
 * MaxPoolGrad for the wasm backend as one pass over the wasm heap, replacing tfjs-backend-wasm's
 * kernel (a loop nest that, for every input pixel, revisits every window covering it: the slowest
 * kernel of a LeNet-5 training step, ~15 ms of ~80 ms at batch 128).
 *
 * For y = maxPool(x) with windows W(n, oh, ow) (stride s, padding p_t, p_l, NHWC):
 *
 *   dx[n, h, w, c] = Σ_{oh, ow : (h, w) = argmax_{W(n, oh, ow)} x[n, ·, ·, c]} dy[n, oh, ow, c]
 *
 * where argmax is the *first* maximum in row-major window order (a later equal value does not
 * replace it; NaN never wins), as the cpu backend's `maxPoolPositions` defines it, and a window
 * with no value above −∞ routes its gradient nowhere. So: per window, scan for the argmax, then
 * scatter-add dy there — O(x + windows·taps) instead of O(x·taps).
 *
 * The `output` input (y) is not needed: recomputing the argmax from x costs one read per tap and
 * cannot disagree with the tie rule above.
 *
 * LeNet-5's and VGG's pooling (2×2 windows, stride 2, no padding: every cell in at most one
 * window) runs as wasm SIMD four channels at a time (`wasm-simd-rows.ts`'s maxPool2x2GradRow,
 * C ≥ 4): each window's four cells are written once, dy at the argmax and 0 elsewhere, so there
 * is no scatter-add and no branch; cells outside every window (odd sizes) are zeroed first.
 */
import * as tf from '@tensorflow/tfjs-core';
import { asWasmBackend } from './wasm-kernel-calls.js';
import { simdRows } from './wasm-simd-rows.js';

/** dx [n, h, w, c] of max pooling from dy and the pooling input x (formula in the module comment). */
export function wasmMaxPoolGrad(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const backend = asWasmBackend(args.backend, 'MaxPoolGrad');
  const { dy, input: x } = args.inputs as Record<'dy' | 'input', tf.TensorInfo>;
  const attrs = (args.attrs ?? {}) as unknown as tf.MaxPoolGradAttrs;
  if (x.dtype !== 'float32' || dy.dtype !== 'float32') {
    throw new Error(`MaxPoolGrad on wasm: expected float32 dy and input, got ${dy.dtype} and ${x.dtype}`);
  }
  const info = tf.backend_util.computePool2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const { batchSize, inHeight, inWidth, inChannels: channels, outHeight, outWidth, strideHeight, strideWidth } = info;
  const { effectiveFilterHeight, effectiveFilterWidth } = info;
  const { top, left } = info.padInfo;
  const expected = [batchSize, outHeight, outWidth, channels];
  if (dy.shape.length !== 4 || dy.shape.some((d, i) => d !== expected[i])) {
    throw new Error(`MaxPoolGrad on wasm: dy has shape [${dy.shape.join(', ')}], expected [${expected.join(', ')}]`);
  }

  // makeOutput may grow the heap, which detaches earlier views: allocate before taking views.
  const out = backend.makeOutput(x.shape, 'float32');
  const tiles = effectiveFilterHeight === 2 && effectiveFilterWidth === 2 && strideHeight === 2 && strideWidth === 2 && top === 0 && left === 0;
  const rows = tiles && channels >= 4 && 2 * outHeight <= inHeight && 2 * outWidth <= inWidth ? simdRows(backend) : undefined;
  if (rows !== undefined) {
    if (2 * outHeight < inHeight || 2 * outWidth < inWidth) (backend.typedArrayFromHeap(out) as Float32Array).fill(0);
    const pointer = (t: tf.TensorInfo): number => (backend.dataIdMap.get(t.dataId) as { memoryOffset: number }).memoryOffset;
    const [xp, dyp, dxp] = [pointer(x), pointer(dy), pointer(out)];
    const inRow = 4 * inWidth * channels;
    for (let n = 0; n < batchSize; n++) {
      for (let oh = 0; oh < outHeight; oh++) {
        const inOffset = (n * inHeight + 2 * oh) * inRow;
        rows.maxPool2x2GradRow(xp + inOffset, dyp + 4 * (n * outHeight + oh) * outWidth * channels, dxp + inOffset, outWidth, 4 * channels, inRow);
      }
    }
    return out;
  }
  const dx = backend.typedArrayFromHeap(out) as Float32Array;
  const xs = backend.typedArrayFromHeap(x) as Float32Array;
  const dys = backend.typedArrayFromHeap(dy) as Float32Array;
  dx.fill(0);
  const rowStride = inWidth * channels;
  for (let n = 0; n < batchSize; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      const hCorner = oh * strideHeight - top;
      const hStart = Math.max(0, hCorner);
      const hEnd = Math.min(inHeight, hCorner + effectiveFilterHeight);
      for (let ow = 0; ow < outWidth; ow++) {
        const wCorner = ow * strideWidth - left;
        const wStart = Math.max(0, wCorner);
        const wEnd = Math.min(inWidth, wCorner + effectiveFilterWidth);
        const dyBase = ((n * outHeight + oh) * outWidth + ow) * channels;
        const first = ((n * inHeight + hStart) * inWidth + wStart) * channels;
        if (hEnd - hStart === 2 && wEnd - wStart === 2) {
          // The common 2×2 window, unrolled (about twice as fast as the general loop below).
          for (let c = 0; c < channels; c++) {
            const a = first + c;
            const b = a + channels;
            const d = a + rowStride;
            const e = d + channels;
            let at = a;
            let best = xs[a] as number;
            if (!(best > -Infinity)) {
              at = -1;
              best = -Infinity;
            }
            const vb = xs[b] as number;
            if (vb > best) {
              best = vb;
              at = b;
            }
            const vd = xs[d] as number;
            if (vd > best) {
              best = vd;
              at = d;
            }
            if ((xs[e] as number) > best) at = e;
            if (at >= 0) dx[at] = (dx[at] as number) + (dys[dyBase + c] as number);
          }
          continue;
        }
        for (let c = 0; c < channels; c++) {
          let best = -Infinity;
          let at = -1;
          for (let h = hStart; h < hEnd; h++) {
            let i = first + (h - hStart) * rowStride + c;
            for (let w = wStart; w < wEnd; w++, i += channels) {
              const v = xs[i] as number;
              if (v > best) {
                best = v;
                at = i;
              }
            }
          }
          if (at >= 0) dx[at] = (dx[at] as number) + (dys[dyBase + c] as number);
        }
      }
    }
  }
  return out;
}
