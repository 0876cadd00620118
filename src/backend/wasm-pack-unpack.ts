/**
 * Pack (tf.stack) and Unpack (tf.unstack) for the wasm backend as strided block copies, replacing
 * tfjs-backend-wasm's, which build Pack from ExpandDims + Concat and Unpack from one Slice per
 * output. Along the last axis, as ShuffleNetV2's channel shuffle stacks and its gradient unstacks
 * ([32,8,8,58,2]), every copied block is one element, and Unpack took ~75% of a ShuffleNetV2
 * training step (bench/PROFILE.md).
 *
 * With axis a, outer = Π_{b<a} shape_b and inner = Π_{b>a} shape_b of the unstacked shape, and
 * k tensors t_0 … t_{k−1}:
 *
 *   stacked[o, i, j] = t_i[o, j]    (o < outer, i < k, j < inner)
 *
 * Pack writes `stacked` from the t_i, Unpack the t_i from `stacked`: one pass over the data.
 * Strings (not on the wasm heap) and mixed dtypes go to the original kernels.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { asWasmBackend, replaceWasmKernel } from './wasm-kernel-calls.js';

type NumericArray = Float32Array | Int32Array | Uint8Array;
type Args = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

/** Copies `count` blocks of `inner` elements from `from` (block stride `fromStride`) to `to` (stride `toStride`). */
function copyBlocks(from: NumericArray, fromStart: number, fromStride: number, to: NumericArray, toStart: number, toStride: number, count: number, inner: number): void {
  if (inner >= 16) {
    for (let o = 0; o < count; o++) {
      const src = fromStart + o * fromStride;
      to.set(from.subarray(src, src + inner), toStart + o * toStride);
    }
  } else if (inner === 1) {
    for (let o = 0; o < count; o++) to[toStart + o * toStride] = from[fromStart + o * fromStride] as number;
  } else {
    for (let o = 0; o < count; o++) {
      const src = fromStart + o * fromStride;
      const dst = toStart + o * toStride;
      for (let j = 0; j < inner; j++) to[dst + j] = from[src + j] as number;
    }
  }
}

function product(dims: readonly number[]): number {
  return dims.reduce((p, d) => p * d, 1);
}

/** `original` (tfjs-backend-wasm's Pack) with numeric tensors stacked by strided copies (module comment). */
export function makeWasmPackConfig(original: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc = (args: Args): tf.TensorInfo => {
    const tensors = Object.values(args.inputs) as tf.TensorInfo[];
    const first = tensors[0];
    const same = first !== undefined && tensors.every((t) => t.dtype === first.dtype && t.shape.length === first.shape.length && t.shape.every((d, i) => d === first.shape[i]));
    if (first === undefined || !same || first.dtype === 'string' || first.dtype === 'complex64') return original.kernelFunc(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    const backend = asWasmBackend(args.backend, 'Pack');
    const rank = first.shape.length + 1;
    const { axis: rawAxis } = (args.attrs ?? {}) as unknown as tf.PackAttrs;
    const axis = rawAxis < 0 ? rawAxis + rank : rawAxis;
    const shape = [...first.shape.slice(0, axis), tensors.length, ...first.shape.slice(axis)];
    const outer = product(first.shape.slice(0, axis));
    const inner = product(first.shape.slice(axis));
    const out = backend.makeOutput(shape, first.dtype);
    // Views after makeOutput: allocating may grow (and detach) the heap.
    const to = backend.typedArrayFromHeap(out);
    const k = tensors.length;
    tensors.forEach((t, i) => copyBlocks(backend.typedArrayFromHeap(t), 0, inner, to, i * inner, k * inner, outer, inner));
    return out;
  };
  return replaceWasmKernel(original, kernelFunc);
}

/** `original` (tfjs-backend-wasm's Unpack) with numeric tensors unstacked by strided copies (module comment). */
export function makeWasmUnpackConfig(original: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc = (args: Args): tf.TensorInfo[] => {
    const { value } = args.inputs as Record<'value', tf.TensorInfo>;
    if (value.dtype === 'string' || value.dtype === 'complex64') return original.kernelFunc(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo[];
    const backend: BackendWasm = asWasmBackend(args.backend, 'Unpack');
    const { axis: rawAxis } = (args.attrs ?? {}) as unknown as tf.UnpackAttrs;
    const axis = rawAxis < 0 ? rawAxis + value.shape.length : rawAxis;
    const k = value.shape[axis] as number;
    const shape = [...value.shape.slice(0, axis), ...value.shape.slice(axis + 1)];
    const outer = product(value.shape.slice(0, axis));
    const inner = product(value.shape.slice(axis + 1));
    const outs = Array.from({ length: k }, () => backend.makeOutput(shape, value.dtype));
    const from = backend.typedArrayFromHeap(value);
    outs.forEach((out, i) => copyBlocks(from, i * inner, k * inner, backend.typedArrayFromHeap(out), 0, inner, outer, inner));
    return outs;
  };
  return replaceWasmKernel(original, kernelFunc);
}
