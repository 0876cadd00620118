/**
 * Sum and Mean for the wasm backend with a fast path for reductions over leading axes, the
 * per-channel reductions of BatchNorm in training (moments over [N, H, W] of NHWC activations)
 * and of every bias gradient.
 *
 * tfjs-backend-wasm reduces only innermost axes: it first transposes the reduced axes to the end
 * with its generic Transpose kernel (17–100 ns per element here), so Sum over [0, 1, 2] of
 * ResNet-18's [8,32,32,64] activations took ~85 ms per training step's worth of calls. With the
 * input read as a matrix [R, C] (R = product of the reduced leading dims, C of the rest):
 *
 *   sum[c] = Σ_r x[r, c],   mean[c] = sum[c] / R
 *
 * one pass over the rows, accumulated in float64 (at least as accurate as the float32 kernel).
 * Other axis sets and non-float32 inputs go to tfjs-backend-wasm's kernel, which this one wraps.
 */
import * as tf from '@tensorflow/tfjs-core';
import { asWasmBackend, replaceWasmKernel } from './wasm-kernel-calls.js';

/** Column sums of x read as [rows, cols], into `out` (length cols). */
export function sumLeadingRows(x: Float32Array, rows: number, cols: number, out: Float64Array): void {
  out.fill(0);
  for (let r = 0; r < rows; r++) {
    const at = r * cols;
    for (let c = 0; c < cols; c++) out[c] = (out[c] as number) + (x[at + c] as number);
  }
}

/** The number of leading axes `axis` reduces when it is exactly [0, …, k−1] with 0 < k < rank; else undefined. */
export function leadingAxes(axis: number | number[], rank: number): number | undefined {
  const axes = [...new Set(tf.util.parseAxisParam(axis, new Array<number>(rank).fill(1)))].sort((p, q) => p - q);
  if (axes.length === 0 || axes.length >= rank || axes.some((a, i) => a !== i)) return undefined;
  return axes.length;
}

/** `original` (tfjs-backend-wasm's Sum or Mean) with leading-axis float32 reductions in one JS pass. */
export function makeWasmLeadingAxesReduceConfig(original: tf.KernelConfig): tf.KernelConfig {
  const mean = original.kernelName === tf.Mean;
  if (!mean && original.kernelName !== tf.Sum) throw new Error(`makeWasmLeadingAxesReduceConfig: expected the Sum or Mean kernel, found ${original.kernelName}`);
  const kernelFunc = (args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo => {
    const { x } = args.inputs as Record<'x', tf.TensorInfo>;
    const { axis, keepDims } = (args.attrs ?? {}) as unknown as tf.SumAttrs;
    const reduced = x.dtype === 'float32' ? leadingAxes(axis, x.shape.length) : undefined;
    if (reduced === undefined) return original.kernelFunc(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    const backend = asWasmBackend(args.backend, original.kernelName);
    const rows = tf.util.sizeFromShape(x.shape.slice(0, reduced));
    const kept = x.shape.slice(reduced);
    const cols = tf.util.sizeFromShape(kept);
    const out = backend.makeOutput(keepDims ? [...new Array<number>(reduced).fill(1), ...kept] : kept, 'float32');
    const sums = new Float64Array(cols);
    // Views after makeOutput: allocating may grow (and detach) the heap.
    sumLeadingRows(backend.typedArrayFromHeap(x) as Float32Array, rows, cols, sums);
    const values = backend.typedArrayFromHeap(out) as Float32Array;
    for (let c = 0; c < cols; c++) values[c] = mean ? (sums[c] as number) / rows : (sums[c] as number);
    return out;
  };
  return replaceWasmKernel(original, kernelFunc);
}
