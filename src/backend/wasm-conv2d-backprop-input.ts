/**
 * A faster Conv2DBackpropInput for the wasm backend: tfjs-backend-wasm's own kernel is a plain
 * C++ loop nest (at stride 1 the slowest kernel of a LeNet-5 training step; at stride 2 ~10× its
 * forward convolution on ResNet-18 shapes). The input gradient is a sum of ordinary stride-1
 * convolutions that XNNPACK runs, one per residue class of the input position modulo the stride
 * ("sub-pixel" decomposition).
 *
 * For y = conv2d(x, W) with stride s, pad top p_t (rows shown; columns alike):
 *
 *   dx[h] = Σ_{kh, oh : oh·s + kh − p_t = h} dy[oh] · W[kh]
 *
 * Write h = s·i + r (0 ≤ r < s). Only taps kh = s·a + ρ with ρ = (r + p_t) mod s reach class r,
 * from oh = i − a + q with q = ⌊(r + p_t)/s⌋, so each class is a stride-1 input gradient with the
 * sub-filter W_r[a] = W[s·a + ρ] (A_r = ⌈(K − ρ)/s⌉ taps) and "pad" q:
 *
 *   dx_r[i] = Σ_a dy[i + q − a] · W_r[a] = conv2d(dy, W̃_r, stride 1, pad top A_r−1−q)[i],
 *   W̃_r[a, co, ci] = W_r[A_r−1−a, ci, co]   (rotated 180°, channels swapped).
 *
 * Negative pads become crops of dy. The s² class outputs, each ⌈H/s⌉ × ⌈W/s⌉, are written
 * interleaved into dx (positions past H × W dropped); a class that no tap or no dy row reaches
 * (A_r = 0, e.g. a 1×1 filter at stride 2) is zero. At stride 1 this is a single convolution. Non-square strides, NCHW, or a dy whose shape disagrees with the conv
 * info go to the kernel tfjs-backend-wasm registered, which this one wraps.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { asWasmBackend, callWasmKernel, disposeWasmIntermediates, replaceWasmKernel } from './wasm-kernel-calls.js';

/** One axis of one residue class: the sub-filter's first tap ρ, its tap count A, and the conv pads. */
export interface ClassAxis {
  readonly first: number;
  readonly taps: number;
  /** dy rows to drop before / after (a negative pad), and zero rows to add before / after. */
  readonly cropBefore: number;
  readonly cropAfter: number;
  readonly padBefore: number;
  readonly padAfter: number;
}

/** The geometry of residue class r along one axis (module comment), producing `rows` outputs. */
export function classAxis(r: number, stride: number, padStart: number, taps: number, dyRows: number, rows: number): ClassAxis {
  const first = (r + padStart) % stride;
  const count = Math.max(0, Math.ceil((taps - first) / stride));
  const q = Math.floor((r + padStart) / stride);
  // conv(dy, W̃_r) with pads (before, after) has dyRows + before + after − count + 1 rows.
  const before = count - 1 - q;
  const after = rows - dyRows + count - 1 - before;
  return {
    first,
    taps: count,
    cropBefore: Math.max(0, -before),
    cropAfter: Math.max(0, -after),
    padBefore: Math.max(0, before),
    padAfter: Math.max(0, after),
  };
}

/** Channel tile of the blocked transpose in `writeRotatedSubFilter`: 32 × 32 floats, 4 KiB each side. */
const TILE = 32;

/**
 * W̃_r = the sub-filter of one residue class, rotated 180° with channels swapped, in one pass:
 *
 *   out[a, b, co, ci] = W[s_h·(A_r − 1 − a) + ρ_h, s_w·(A_c − 1 − b) + ρ_w, ci, co]
 *
 * with A the tap counts ⌈(K − ρ)/s⌉. tfjs-backend-wasm's StridedSlice + Reverse + Transpose did
 * the same in three passes, of which Reverse alone took ~570 ms on ResNet-18's [3,3,512,512]
 * filter (bench/PROFILE.md); each tap's [ci, co] → [co, ci] transpose here is blocked in
 * TILE × TILE tiles so reads and writes both stay in cache.
 */
export function writeRotatedSubFilter(
  filter: Float32Array,
  shape: readonly [number, number, number, number],
  firsts: readonly [number, number],
  strides: readonly [number, number],
  out: Float32Array,
): void {
  const [kh, kw, ci, co] = shape;
  const rows = Math.max(0, Math.ceil((kh - firsts[0]) / strides[0]));
  const cols = Math.max(0, Math.ceil((kw - firsts[1]) / strides[1]));
  const tap = ci * co;
  for (let a = 0; a < rows; a++) {
    const h = strides[0] * (rows - 1 - a) + firsts[0];
    for (let b = 0; b < cols; b++) {
      const w = strides[1] * (cols - 1 - b) + firsts[1];
      const src = (h * kw + w) * tap;
      const dst = (a * cols + b) * tap;
      for (let i0 = 0; i0 < ci; i0 += TILE) {
        const i1 = Math.min(ci, i0 + TILE);
        for (let o0 = 0; o0 < co; o0 += TILE) {
          const o1 = Math.min(co, o0 + TILE);
          for (let i = i0; i < i1; i++) {
            const from = src + i * co;
            for (let o = o0; o < o1; o++) out[dst + o * ci + i] = filter[from + o] as number;
          }
        }
      }
    }
  }
}

/** dx_r for one residue class (rows × cols × ci per example), or undefined when it is zero. */
function classGradient(
  backend: BackendWasm,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  strides: readonly [number, number],
  rowAxis: ClassAxis,
  colAxis: ClassAxis,
): tf.TensorInfo | undefined {
  const [kh, kw, ci, co] = filter.shape as [number, number, number, number];
  const [, dyRows, dyCols] = dy.shape as [number, number, number, number];
  const keptRows = dyRows - rowAxis.cropBefore - rowAxis.cropAfter;
  const keptCols = dyCols - colAxis.cropBefore - colAxis.cropAfter;
  if (rowAxis.taps === 0 || colAxis.taps === 0 || keptRows < 1 || keptCols < 1) return undefined;
  const rotated = backend.makeOutput([rowAxis.taps, colAxis.taps, co, ci], 'float32');
  // Views after makeOutput: allocating may grow (and detach) the heap.
  writeRotatedSubFilter(
    backend.typedArrayFromHeap(filter) as Float32Array,
    [kh, kw, ci, co],
    [rowAxis.first, colAxis.first],
    strides,
    backend.typedArrayFromHeap(rotated) as Float32Array,
  );
  return convolveClass(backend, tf.Conv2D, dy, rotated, rowAxis, colAxis);
}

/**
 * One residue class's convolution, shared by the dense and the depthwise input gradients: dy
 * cropped to the rows and columns the class reads, convolved (`kernel`: Conv2D or
 * DepthwiseConv2dNative) at stride 1 with the class's rotated sub-filter `rotated` and the class's
 * padding. Frees `rotated` and the crop; the caller owns the result.
 */
export function convolveClass(
  backend: BackendWasm,
  kernel: typeof tf.Conv2D | typeof tf.DepthwiseConv2dNative,
  dy: tf.TensorInfo,
  rotated: tf.TensorInfo,
  rowAxis: ClassAxis,
  colAxis: ClassAxis,
): tf.TensorInfo {
  const [batch, dyRows, dyCols, channels] = dy.shape as [number, number, number, number];
  const keptRows = dyRows - rowAxis.cropBefore - rowAxis.cropAfter;
  const keptCols = dyCols - colAxis.cropBefore - colAxis.cropAfter;
  const cropped =
    rowAxis.cropBefore + rowAxis.cropAfter + colAxis.cropBefore + colAxis.cropAfter === 0
      ? dy
      : callWasmKernel(tf.Slice, { x: dy }, { begin: [0, rowAxis.cropBefore, colAxis.cropBefore, 0], size: [batch, keptRows, keptCols, channels] }, backend);
  const out = callWasmKernel(
    kernel,
    { x: cropped, filter: rotated },
    {
      strides: [1, 1],
      dilations: [1, 1],
      pad: [
        [0, 0],
        [rowAxis.padBefore, rowAxis.padAfter],
        [colAxis.padBefore, colAxis.padAfter],
        [0, 0],
      ],
      dataFormat: 'NHWC',
    },
    backend,
  );
  disposeWasmIntermediates(backend, rotated);
  if (cropped !== dy) disposeWasmIntermediates(backend, cropped);
  return out;
}

/**
 * Writes class (rh, rw)'s block [n, ⌈H/s⌉, ⌈W/s⌉, c·M] into dx [n, H, W, c] at rows s·i + rh and
 * columns s·j + rw, summing each channel's M consecutive outputs (M = 1 for a dense convolution,
 * the channel multiplier for a depthwise one). A JS pass over the heap: tfjs-backend-wasm's
 * DepthToSpace and 5-D Transpose take ~100 ns per element here (220 ms for 2M elements), this ~1–2 ns.
 */
export function interleave(backend: BackendWasm, block: tf.TensorInfo, dx: tf.TensorInfo, rh: number, rw: number, stride: number, multiplier = 1): void {
  const [batch, height, width, channels] = dx.shape as [number, number, number, number];
  const [, rows, cols, q] = block.shape as [number, number, number, number];
  const from = backend.typedArrayFromHeap(block) as Float32Array;
  const to = backend.typedArrayFromHeap(dx) as Float32Array;
  for (let n = 0; n < batch; n++) {
    for (let i = 0; i < rows; i++) {
      const h = i * stride + rh;
      if (h >= height) break;
      for (let j = 0; j < cols; j++) {
        const w = j * stride + rw;
        if (w >= width) break;
        const src = ((n * rows + i) * cols + j) * q;
        const dst = ((n * height + h) * width + w) * channels;
        if (multiplier === 1) {
          if (channels >= 16) to.set(from.subarray(src, src + channels), dst);
          else for (let c = 0; c < channels; c++) to[dst + c] = from[src + c] as number;
        } else {
          for (let c = 0; c < channels; c++) {
            let acc = 0;
            for (let m = 0; m < multiplier; m++) acc += from[src + c * multiplier + m] as number;
            to[dst + c] = acc;
          }
        }
      }
    }
  }
}

/**
 * A Conv2DBackpropInput config for 'wasm' that runs NHWC cases through XNNPACK convolutions (module
 * comment) and the rest through `fallback` (tfjs-backend-wasm's kernel, whose setup it keeps).
 */
export function makeWasmConv2DBackpropInputConfig(fallback: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc = (args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo => {
    const backend = asWasmBackend(args.backend, 'Conv2DBackpropInput');
    const { dy, filter } = args.inputs as Record<'dy' | 'filter', tf.TensorInfo>;
    const attrs = (args.attrs ?? {}) as unknown as tf.Conv2DBackpropInputAttrs;
    const info = tf.backend_util.computeConv2DInfo(
      attrs.inputShape,
      filter.shape as [number, number, number, number],
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
      false,
      tf.backend_util.convertConv2DDataFormat(attrs.dataFormat),
    );
    const { batchSize, filterHeight, filterWidth, inHeight, inWidth, inChannels, strideHeight, strideWidth } = info;
    const [, outHeight, outWidth] = dy.shape as [number, number, number, number];
    const handled =
      info.dataFormat === 'channelsLast' &&
      strideHeight === strideWidth &&
      dy.dtype === 'float32' &&
      filter.dtype === 'float32' &&
      outHeight === info.outHeight &&
      outWidth === info.outWidth;
    if (!handled) return fallback.kernelFunc(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;

    const stride = strideHeight;
    const rows = Math.ceil(inHeight / stride);
    const cols = Math.ceil(inWidth / stride);
    const rowAxes = Array.from({ length: stride }, (_, r) => classAxis(r, stride, info.padInfo.top, filterHeight, outHeight, rows));
    const colAxes = Array.from({ length: stride }, (_, r) => classAxis(r, stride, info.padInfo.left, filterWidth, outWidth, cols));
    const dxShape = [batchSize, inHeight, inWidth, inChannels];
    if (stride === 1) {
      const only = classGradient(backend, dy, filter, [1, 1], rowAxes[0] as ClassAxis, colAxes[0] as ClassAxis);
      if (only !== undefined) return only;
    }
    const dx = backend.makeOutput(dxShape, 'float32');
    // Classes no tap reaches keep these zeros; the others overwrite their positions.
    backend.typedArrayFromHeap(dx).fill(0);
    for (let rh = 0; rh < stride; rh++) {
      for (let rw = 0; rw < stride; rw++) {
        const block = classGradient(backend, dy, filter, [stride, stride], rowAxes[rh] as ClassAxis, colAxes[rw] as ClassAxis);
        if (block === undefined) continue;
        interleave(backend, block, dx, rh, rw, stride);
        disposeWasmIntermediates(backend, block);
      }
    }
    return dx;
  };
  return replaceWasmKernel(fallback, kernelFunc);
}
