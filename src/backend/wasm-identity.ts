/**
 * Identity for the wasm backend that shares the input's buffer instead of copying it.
 *
 * tfjs-backend-wasm's Identity copies every element (`makeOutput` + `set`); the cpu and webgl
 * backends return the same dataId with its reference count raised, which is sound because no
 * kernel writes into its inputs and variables are reassigned, never written in place. tfjs's
 * gradient machinery calls Identity dozens of times per training step (36 calls, 1.8 ms of a
 * LeNet-5 step at batch 128), so sharing removes that work:
 *
 *   identity(x) = x   (same buffer, refCount + 1; freed when the last holder is disposed)
 *
 * Strings (not stored on the wasm heap) go to tfjs-backend-wasm's kernel, which this one wraps.
 */
import type * as tf from '@tensorflow/tfjs-core';
import { asWasmBackend, replaceWasmKernel } from './wasm-kernel-calls.js';

/** `original` (tfjs-backend-wasm's Identity) with numeric tensors shared rather than copied. */
export function makeWasmIdentityConfig(original: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc = (args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo => {
    const { x } = args.inputs as Record<'x', tf.TensorInfo>;
    if (x.dtype === 'string') return original.kernelFunc(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    asWasmBackend(args.backend, 'Identity').incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
  return replaceWasmKernel(original, kernelFunc);
}
