/**
 * Sum and Mean for the wasm backend with a fast path for reductions over a block of axes that is
 * not the innermost, as BatchNorm's statistics and gradients reduce NHWC tensors over (n, h, w)
 * and grouped convolutions sum [n, h, w, g, C/g, M] over C/g.
 *
 * tfjs-backend-wasm transposes the reduced axes innermost and then reduces (the transpose is a
 * generic index loop, ~30 ms for a [32,32,32,72] BatchNorm sum here). Viewing x as
 * [outer, reduce, inner] instead (outer = Π of the axes before the block, inner = Π after),
 *
 *   sum[o, j] = Σ_{r < reduce} x[o, r, j],   mean = sum / reduce,
 *
 * one pass reads x in order: for inner ≥ 16 as wasm SIMD sums over rows (`wasm-simd-rows.ts`'s
 * rowDot against ones, in f32 over chunks of ≤ 256 rows, the chunks summed in f64), else a JS
 * loop in f64. Innermost or scattered axes, other dtypes, and empty tensors go to
 * tfjs-backend-wasm's kernel, which this one wraps.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { asWasmBackend, disposeWasmIntermediates, replaceWasmKernel } from './wasm-kernel-calls.js';
import { simdRows } from './wasm-simd-rows.js';

/** Rows summed in f32 before the partial sum joins the f64 total. */
const CHUNK = 256;

/** [outer, reduce, inner] of x for reduction `axes`, or undefined when they are not one non-innermost block. */
export function reductionBlock(shape: readonly number[], axes: readonly number[]): [number, number, number] | undefined {
  if (axes.length === 0 || shape.length === 0) return undefined;
  const sorted = [...axes].sort((a, b) => a - b);
  const first = sorted[0] as number;
  const last = sorted.at(-1) as number;
  if (last - first + 1 !== sorted.length || last >= shape.length - 1) return undefined;
  const product = (dims: readonly number[]): number => dims.reduce((p, d) => p * d, 1);
  return [product(shape.slice(0, first)), product(shape.slice(first, last + 1)), product(shape.slice(last + 1))];
}

/** Σ over the middle axis of x viewed as [outer, reduce, inner], in f64 (module comment). */
function sumMiddle(backend: BackendWasm, x: tf.TensorInfo, outer: number, reduce: number, inner: number): Float64Array {
  const sums = new Float64Array(outer * inner);
  const rows = inner >= 16 ? simdRows(backend) : undefined;
  const vectors = rows === undefined ? 0 : Math.floor(inner / 4);
  const scratch = vectors > 0 ? backend.makeOutput([8 * vectors], 'float32') : undefined;
  // Views after makeOutput: allocating may grow (and detach) the heap.
  const xs = backend.typedArrayFromHeap(x) as Float32Array;
  if (rows !== undefined && scratch !== undefined) {
    const area = backend.typedArrayFromHeap(scratch) as Float32Array;
    area.fill(1, 0, 4 * vectors);
    const xPointer = (backend.dataIdMap.get(x.dataId) as { memoryOffset: number }).memoryOffset;
    const scratchPointer = (backend.dataIdMap.get(scratch.dataId) as { memoryOffset: number }).memoryOffset;
    const [onesPointer, accPointer] = [scratchPointer, scratchPointer + 16 * vectors];
    const acc = area.subarray(4 * vectors);
    for (let o = 0; o < outer; o++) {
      for (let r0 = 0; r0 < reduce; r0 += CHUNK) {
        const count = Math.min(CHUNK, reduce - r0);
        rows.rowDot(xPointer + 4 * (o * reduce + r0) * inner, onesPointer, accPointer, count, vectors, 4 * inner, 0);
        const base = o * inner;
        for (let q = 0; q < 4 * vectors; q++) sums[base + q] = (sums[base + q] as number) + (acc[q] as number);
      }
    }
  }
  const firstLoopChannel = 4 * vectors;
  if (firstLoopChannel < inner) {
    for (let o = 0; o < outer; o++) {
      const base = o * inner;
      for (let r = 0; r < reduce; r++) {
        const from = (o * reduce + r) * inner;
        for (let j = firstLoopChannel; j < inner; j++) sums[base + j] = (sums[base + j] as number) + (xs[from + j] as number);
      }
    }
  }
  if (scratch !== undefined) disposeWasmIntermediates(backend, scratch);
  return sums;
}

/** `original` (tfjs-backend-wasm's Sum or Mean) with block reductions done in one pass (module comment). */
function makeReduceConfig(original: tf.KernelConfig, mean: boolean): tf.KernelConfig {
  const kernelFunc = (args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo => {
    const { x } = args.inputs as Record<'x', tf.TensorInfo>;
    const { axis, keepDims } = (args.attrs ?? {}) as unknown as tf.SumAttrs;
    const axes = tf.util.parseAxisParam(axis, x.shape);
    const block = x.dtype === 'float32' && tf.util.sizeFromShape(x.shape) > 0 ? reductionBlock(x.shape, axes) : undefined;
    if (block === undefined) return original.kernelFunc(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    const backend = asWasmBackend(args.backend, mean ? 'Mean' : 'Sum');
    const [outer, reduce, inner] = block;
    const sums = sumMiddle(backend, x, outer, reduce, inner);
    if (mean) for (let i = 0; i < sums.length; i++) sums[i] = (sums[i] as number) / reduce;
    const shape = keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
    const out = backend.makeOutput(shape, 'float32');
    backend.typedArrayFromHeap(out).set(sums);
    return out;
  };
  return replaceWasmKernel(original, kernelFunc);
}

/** `original` (tfjs-backend-wasm's Sum) with block reductions done in one pass. */
export function makeWasmSumConfig(original: tf.KernelConfig): tf.KernelConfig {
  return makeReduceConfig(original, false);
}

/** `original` (tfjs-backend-wasm's Mean) with block reductions done in one pass. */
export function makeWasmMeanConfig(original: tf.KernelConfig): tf.KernelConfig {
  return makeReduceConfig(original, true);
}
