/**
 * DepthwiseConv2dNativeBackpropFilter and DepthwiseConv2dNativeBackpropInput for the wasm backend,
 * which tfjs-backend-wasm 4.22 lacks.
 *
 * For y = depthwiseConv2d(x, W) with channel multiplier M, stride s, dilation d and padding
 * (top p_t, left p_l), NHWC, output channel q = c·M + m, and input position
 * h = oh·s_h + kh·d_h − p_t, w = ow·s_w + kw·d_w − p_l:
 *
 *   dW[kh, kw, c, m]  = Σ_{n, oh, ow} x[n, h, w, c] · dy[n, oh, ow, c·M + m]
 *   dx[n, h, w, c]   = Σ_{kh, kw, m} W[kh, kw, c, m] · dy[n, oh, ow, c·M + m]   (over taps that land on h, w)
 *
 * Depthwise and grouped convolutions (MobileNetV2, ShuffleNetV2, RegNet, EfficientNet; grouped ones
 * run as depthwise with M = O/g, `src/models/grouped-conv.ts`) put both on the hot path:
 *
 * - dx without dilation and with a square stride is XNNPACK's depthwise *forward* convolution, by
 *   the sub-pixel decomposition of `wasm-conv2d-backprop-input.ts`: for each residue class
 *   r = (r_h, r_w) of the stride, with ρ, A, q as there,
 *
 *     dx_r[i, j, c] = Σ_m depthwiseConv2d(dy, W̃_r, stride 1, pad A−1−q)[i, j, c·M + m],
 *     W̃_r[a, b, c·M + m] = W[s·(A_h−1−a) + ρ_h, s·(A_w−1−b) + ρ_w, c, m]   (rotated 180°),
 *
 *   run with multiplier 1 on the C·M channels of dy, then summed over m while the class is
 *   written into dx. Dilated or non-square-stride cases run the scatter loop below.
 * - dW is one wasm SIMD inner product per (kh, kw, n, oh) row (`wasm-simd-rows.ts`): over the
 *   output columns ow whose tap lands inside x, four contiguous channels per lane group (M = 1:
 *   x[…, c]·dy[…, c]; M a multiple of 4: x[…, c] broadcast against dy[…, c·M + m]). Channels
 *   past the last whole vector, other multipliers, or an engine without wasm SIMD take the same
 *   loop in JS.
 *
 * Sums accumulate in float64 so long reductions over n·oh·ow stay as accurate as the cpu backend's.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { classAxis, convolveClass, interleave, type ClassAxis } from './wasm-conv2d-backprop-input.js';
import { asWasmBackend, disposeWasmIntermediates } from './wasm-kernel-calls.js';
import { simdRows } from './wasm-simd-rows.js';

interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}

/** The range [start, end) of output columns (or rows) whose tap k lands inside an input of `size`. */
function validRange(k: number, stride: number, dilation: number, padStart: number, size: number, outSize: number): [number, number] {
  // o·stride + k·dilation − padStart ∈ [0, size)
  const offset = k * dilation - padStart;
  const start = Math.max(0, Math.ceil(-offset / stride));
  const end = Math.min(outSize, Math.floor((size - 1 - offset) / stride) + 1);
  return [start, Math.max(start, end)];
}

/** dW [kh, kw, c, M] of a depthwise convolution from x and dy (formula in the module comment). */
export function wasmDepthwiseConv2dNativeBackpropFilter(args: KernelArgs): tf.TensorInfo {
  const backend = asWasmBackend(args.backend, 'DepthwiseConv2dNativeBackpropFilter');
  const { x, dy } = args.inputs as Record<'x' | 'dy', tf.TensorInfo>;
  const attrs = (args.attrs ?? {}) as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    attrs.dilations,
    attrs.pad,
    attrs.dimRoundingMode,
    true,
  );
  checkShape('DepthwiseConv2dNativeBackpropFilter', 'dy', dy.shape, info.outShape);
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = info;
  const { filterHeight, filterWidth, strideHeight, strideWidth, dilationHeight, dilationWidth } = info;
  const multiplier = outChannels / inChannels;
  const { top, left } = info.padInfo;

  const sums = new Float64Array(filterHeight * filterWidth * outChannels);
  const rows = x.dtype === 'float32' && dy.dtype === 'float32' ? simdRows(backend) : undefined;
  // Channels the SIMD loops cover: whole 4-lane vectors of x's channels (M = 1) or of dy's (M a multiple of 4).
  const vectors = rows === undefined ? 0 : multiplier === 1 ? Math.floor(inChannels / 4) : multiplier % 4 === 0 ? outChannels / 4 : 0;
  const acc = vectors > 0 ? backend.makeOutput([4 * vectors], 'float32') : undefined;
  // Views after makeOutput: allocating may grow (and detach) the heap.
  const xs = backend.typedArrayFromHeap(x) as Float32Array;
  const dys = backend.typedArrayFromHeap(dy) as Float32Array;
  const accs = acc === undefined ? undefined : (backend.typedArrayFromHeap(acc) as Float32Array);
  const pointer = (info: tf.TensorInfo): number => (backend.dataIdMap.get(info.dataId) as { memoryOffset: number }).memoryOffset;
  const [xPointer, dyPointer, accPointer] = acc === undefined ? [0, 0, 0] : [pointer(x), pointer(dy), pointer(acc)];
  // Channels (of x when M = 1, of dy otherwise) left to the JS loop.
  const firstLoopChannel = multiplier === 1 ? 4 * vectors : vectors > 0 ? inChannels : 0;
  const columns = Array.from({ length: filterWidth }, (_, kw) => validRange(kw, strideWidth, dilationWidth, left, inWidth, outWidth));
  for (let kh = 0; kh < filterHeight; kh++) {
    const [ohStart, ohEnd] = validRange(kh, strideHeight, dilationHeight, top, inHeight, outHeight);
    for (let kw = 0; kw < filterWidth; kw++) {
      const [owStart, owEnd] = columns[kw] as [number, number];
      if (owEnd <= owStart) continue;
      const wBase = (kh * filterWidth + kw) * outChannels;
      const wOffset = kw * dilationWidth - left;
      for (let n = 0; n < batchSize; n++) {
        for (let oh = ohStart; oh < ohEnd; oh++) {
          const h = oh * strideHeight + kh * dilationHeight - top;
          const xRow = (n * inHeight + h) * inWidth;
          const dyRow = (n * outHeight + oh) * outWidth;
          if (rows !== undefined && accs !== undefined) {
            // One output row's partial sums in f32 (at most outWidth terms), accumulated in f64 here.
            const xAt = xPointer + 4 * (xRow + owStart * strideWidth + wOffset) * inChannels;
            const dyAt = dyPointer + 4 * (dyRow + owStart) * outChannels;
            const count = owEnd - owStart;
            if (multiplier === 1) rows.rowDot(xAt, dyAt, accPointer, count, vectors, 4 * strideWidth * inChannels, 4 * outChannels);
            else rows.rowDotSplat(xAt, dyAt, accPointer, count, vectors, 4 * strideWidth * inChannels, 4 * outChannels, multiplier / 4);
            for (let q = 0; q < 4 * vectors; q++) sums[wBase + q] = (sums[wBase + q] as number) + (accs[q] as number);
          }
          if (firstLoopChannel === inChannels) continue;
          for (let ow = owStart; ow < owEnd; ow++) {
            const xBase = (xRow + ow * strideWidth + wOffset) * inChannels;
            const dyBase = (dyRow + ow) * outChannels;
            if (multiplier === 1) {
              for (let c = firstLoopChannel; c < inChannels; c++) {
                sums[wBase + c] = (sums[wBase + c] as number) + (xs[xBase + c] as number) * (dys[dyBase + c] as number);
              }
            } else {
              for (let c = 0; c < inChannels; c++) {
                const xv = xs[xBase + c] as number;
                const q0 = c * multiplier;
                for (let m = 0; m < multiplier; m++) {
                  sums[wBase + q0 + m] = (sums[wBase + q0 + m] as number) + xv * (dys[dyBase + q0 + m] as number);
                }
              }
            }
          }
        }
      }
    }
  }
  if (acc !== undefined) disposeWasmIntermediates(backend, acc);
  // makeOutput may grow the heap, which detaches earlier views: write through a fresh one.
  const dw = backend.makeOutput([filterHeight, filterWidth, inChannels, multiplier], 'float32');
  backend.typedArrayFromHeap(dw).set(sums);
  return dw;
}

/** dx [n, h, w, c] of a depthwise convolution from dy and W (formula in the module comment). */
export function wasmDepthwiseConv2dNativeBackpropInput(args: KernelArgs): tf.TensorInfo {
  const backend = asWasmBackend(args.backend, 'DepthwiseConv2dNativeBackpropInput');
  const { dy, filter } = args.inputs as Record<'dy' | 'filter', tf.TensorInfo>;
  const attrs = (args.attrs ?? {}) as unknown as tf.DepthwiseConv2dNativeBackpropInputAttrs;
  const info = tf.backend_util.computeConv2DInfo(
    attrs.inputShape,
    filter.shape as [number, number, number, number],
    attrs.strides,
    attrs.dilations,
    attrs.pad,
    attrs.dimRoundingMode,
    true,
  );
  checkShape('DepthwiseConv2dNativeBackpropInput', 'dy', dy.shape, info.outShape);
  const byConvolution =
    info.dilationHeight === 1 &&
    info.dilationWidth === 1 &&
    info.strideHeight === info.strideWidth &&
    dy.dtype === 'float32' &&
    filter.dtype === 'float32';
  return byConvolution ? inputGradientByConvolution(backend, dy, filter, info) : inputGradientByLoop(backend, dy, filter, info);
}

/** dx by XNNPACK depthwise convolutions, one per residue class of the stride (module comment). */
function inputGradientByConvolution(backend: BackendWasm, dy: tf.TensorInfo, filter: tf.TensorInfo, info: tf.backend_util.Conv2DInfo): tf.TensorInfo {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels, filterHeight, filterWidth } = info;
  const stride = info.strideHeight;
  const multiplier = outChannels / inChannels;
  const rows = Math.ceil(inHeight / stride);
  const cols = Math.ceil(inWidth / stride);
  const rowAxes = Array.from({ length: stride }, (_, r) => classAxis(r, stride, info.padInfo.top, filterHeight, outHeight, rows));
  const colAxes = Array.from({ length: stride }, (_, r) => classAxis(r, stride, info.padInfo.left, filterWidth, outWidth, cols));
  if (stride === 1 && multiplier === 1) {
    const only = classGradient(backend, dy, filter, 1, rowAxes[0] as ClassAxis, colAxes[0] as ClassAxis);
    if (only !== undefined) return only;
  }
  const dx = backend.makeOutput([batchSize, inHeight, inWidth, inChannels], 'float32');
  // Classes no tap reaches keep these zeros; the others overwrite their positions.
  backend.typedArrayFromHeap(dx).fill(0);
  for (let rh = 0; rh < stride; rh++) {
    for (let rw = 0; rw < stride; rw++) {
      const block = classGradient(backend, dy, filter, stride, rowAxes[rh] as ClassAxis, colAxes[rw] as ClassAxis);
      if (block === undefined) continue;
      interleave(backend, block, dx, rh, rw, stride, multiplier);
      disposeWasmIntermediates(backend, block);
    }
  }
  return dx;
}

/** depthwiseConv2d(dy, W̃_r) for one residue class, [n, ⌈H/s⌉, ⌈W/s⌉, C·M], or undefined when the class is zero. */
function classGradient(backend: BackendWasm, dy: tf.TensorInfo, filter: tf.TensorInfo, stride: number, rowAxis: ClassAxis, colAxis: ClassAxis): tf.TensorInfo | undefined {
  const [, kw, c, m] = filter.shape as [number, number, number, number];
  const [, dyRows, dyCols] = dy.shape as [number, number, number, number];
  const keptRows = dyRows - rowAxis.cropBefore - rowAxis.cropAfter;
  const keptCols = dyCols - colAxis.cropBefore - colAxis.cropAfter;
  if (rowAxis.taps === 0 || colAxis.taps === 0 || keptRows < 1 || keptCols < 1) return undefined;
  const q = c * m;
  const rotated = backend.makeOutput([rowAxis.taps, colAxis.taps, q, 1], 'float32');
  // Views after makeOutput: allocating may grow (and detach) the heap.
  const from = backend.typedArrayFromHeap(filter) as Float32Array;
  const to = backend.typedArrayFromHeap(rotated) as Float32Array;
  for (let a = 0; a < rowAxis.taps; a++) {
    const h = stride * (rowAxis.taps - 1 - a) + rowAxis.first;
    for (let b = 0; b < colAxis.taps; b++) {
      const w = stride * (colAxis.taps - 1 - b) + colAxis.first;
      const src = (h * kw + w) * q;
      to.set(from.subarray(src, src + q), (a * colAxis.taps + b) * q);
    }
  }
  return convolveClass(backend, tf.DepthwiseConv2dNative, dy, rotated, rowAxis, colAxis);
}

/** dx by scattering every (oh, ow, kh, kw) tap's dy·W onto the x position it read (dilated or non-square-stride cases). */
function inputGradientByLoop(backend: BackendWasm, dy: tf.TensorInfo, filter: tf.TensorInfo, info: tf.backend_util.Conv2DInfo): tf.TensorInfo {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = info;
  const { filterHeight, filterWidth, strideHeight, strideWidth, dilationHeight, dilationWidth } = info;
  const multiplier = outChannels / inChannels;
  const { top, left } = info.padInfo;

  const sums = new Float64Array(batchSize * inHeight * inWidth * inChannels);
  const dys = backend.typedArrayFromHeap(dy);
  const ws = backend.typedArrayFromHeap(filter);
  for (let n = 0; n < batchSize; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let kh = 0; kh < filterHeight; kh++) {
        const h = oh * strideHeight + kh * dilationHeight - top;
        if (h < 0 || h >= inHeight) continue;
        for (let ow = 0; ow < outWidth; ow++) {
          const dyBase = ((n * outHeight + oh) * outWidth + ow) * outChannels;
          for (let kw = 0; kw < filterWidth; kw++) {
            const w = ow * strideWidth + kw * dilationWidth - left;
            if (w < 0 || w >= inWidth) continue;
            const xBase = ((n * inHeight + h) * inWidth + w) * inChannels;
            const wBase = (kh * filterWidth + kw) * outChannels;
            for (let c = 0; c < inChannels; c++) {
              let acc = 0;
              for (let m = 0; m < multiplier; m++) {
                const q = c * multiplier + m;
                acc += (ws[wBase + q] as number) * (dys[dyBase + q] as number);
              }
              sums[xBase + c] = (sums[xBase + c] as number) + acc;
            }
          }
        }
      }
    }
  }
  const dx = backend.makeOutput([batchSize, inHeight, inWidth, inChannels], 'float32');
  backend.typedArrayFromHeap(dx).set(sums);
  return dx;
}

function checkShape(kernel: string, name: string, got: readonly number[], expected: readonly number[]): void {
  if (got.length !== expected.length || got.some((v, i) => v !== expected[i])) {
    throw new Error(`${kernel} on wasm: ${name} has shape [${got.join(', ')}], expected [${expected.join(', ')}] from the convolution's attributes`);
  }
}

/** Registration record for `tf.registerKernel`. */
export const wasmDepthwiseConv2dNativeBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.DepthwiseConv2dNativeBackpropFilter,
  backendName: 'wasm',
  kernelFunc: wasmDepthwiseConv2dNativeBackpropFilter,
};

/** Registration record for `tf.registerKernel`. */
export const wasmDepthwiseConv2dNativeBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.DepthwiseConv2dNativeBackpropInput,
  backendName: 'wasm',
  kernelFunc: wasmDepthwiseConv2dNativeBackpropInput,
};
