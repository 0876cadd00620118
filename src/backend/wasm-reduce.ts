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
 * one pass reads x in order as wasm SIMD sums over rows (`wasm-simd-rows.ts`'s rowSum64, each f32
 * lane widened and summed in f64, as precise as a scalar f64 loop). A row narrower than a whole
 * number of f32x4 vectors is read g = 4 / gcd(inner, 4) rows at a time (inner = 6: 12 lanes), the
 * last reduce mod g rows in a JS loop in f64, as is everything where wasm SIMD is unavailable.
 * Innermost or scattered axes, other dtypes, and empty tensors go to tfjs-backend-wasm's kernel,
 * which this one wraps.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { asWasmBackend, disposeWasmIntermediates, replaceWasmKernel } from './wasm-kernel-calls.js';
import { simdRows } from './wasm-simd-rows.js';

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

/** Greatest common divisor of two positive integers. */
function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** Σ over the middle axis of x viewed as [outer, reduce, inner], in f64 (module comment). */
function sumMiddle(backend: BackendWasm, x: tf.TensorInfo, outer: number, reduce: number, inner: number): Float64Array {
  const sums = new Float64Array(outer * inner);
  // g consecutive rows make one SIMD row of g·inner lanes, a whole number of f32x4 vectors
  // (inner = 6: pairs of rows, 12 lanes); lane q then sums channel q mod inner.
  const group = 4 / gcd(inner, 4);
  const lanes = group * inner;
  const simdRowCount = Math.floor(reduce / group);
  const rows = simdRowCount > 0 ? simdRows(backend) : undefined;
  const vectors = lanes / 4;
  // Per-lane f64 sums: 2 doubles per f32 lane pair, 8 bytes a lane.
  const scratch = rows === undefined ? undefined : backend.makeOutput([2 * lanes], 'float32');
  // Views after makeOutput: allocating may grow (and detach) the heap.
  const xs = backend.typedArrayFromHeap(x) as Float32Array;
  let jsFrom = 0;
  if (rows !== undefined && scratch !== undefined) {
    const xPointer = (backend.dataIdMap.get(x.dataId) as { memoryOffset: number }).memoryOffset;
    const accPointer = (backend.dataIdMap.get(scratch.dataId) as { memoryOffset: number }).memoryOffset;
    const heap = backend.typedArrayFromHeap(scratch) as Float32Array;
    const acc = new Float64Array(heap.buffer, heap.byteOffset, lanes);
    for (let o = 0; o < outer; o++) {
      const base = o * inner;
      rows.rowSum64(xPointer + 4 * o * reduce * inner, accPointer, simdRowCount, vectors, 4 * lanes);
      // Lanes in vector order: (0, 1), (2, 3) of each f32x4, i.e. lane q at position q.
      for (let q = 0; q < lanes; q++) sums[base + (q % inner)] = (sums[base + (q % inner)] as number) + (acc[q] as number);
    }
    jsFrom = simdRowCount * group;
  }
  // The rows SIMD did not cover (all of them without SIMD, else fewer than `group`), in JS.
  for (let o = 0; o < outer; o++) {
    const base = o * inner;
    for (let r = jsFrom; r < reduce; r++) {
      const from = (o * reduce + r) * inner;
      for (let j = 0; j < inner; j++) sums[base + j] = (sums[base + j] as number) + (xs[from + j] as number);
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
