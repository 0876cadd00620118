/**
 * Calls between wasm kernels: how our gradient kernels reuse the kernels tfjs-backend-wasm ships.
 *
 * A kernel function may not go through `tf.engine()` (that would record nested ops and hand out
 * tensors the engine must later free), so, as tfjs-backend-wasm's own kernels do, we call other
 * kernels' functions directly on TensorInfo and free every intermediate with `disposeData`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** The wasm backend behind a kernel call, with a clear error if a kernel runs elsewhere. */
export function asWasmBackend(backend: unknown, kernelName: string): BackendWasm {
  const candidate = backend as Partial<BackendWasm> | null;
  if (candidate === null || typeof candidate.typedArrayFromHeap !== 'function' || typeof candidate.makeOutput !== 'function') {
    throw new Error(`${kernelName}: expected to run on the wasm backend, but the backend has no wasm heap`);
  }
  return candidate as BackendWasm;
}

/** Runs the wasm kernel `kernelName` on TensorInfo inputs; the caller frees the result. */
export function callWasmKernel(
  kernelName: string,
  inputs: tf.NamedTensorInfoMap,
  attrs: tf.NamedAttrMap,
  backend: BackendWasm,
): tf.TensorInfo {
  const config = tf.getKernel(kernelName, 'wasm');
  if (config === undefined) throw new Error(`the wasm backend has no ${kernelName} kernel, which our gradient kernels need`);
  const out = config.kernelFunc({ inputs, attrs, backend });
  if (Array.isArray(out)) throw new Error(`${kernelName}: expected one output, got ${out.length}`);
  return out;
}

/** Frees intermediates made by `callWasmKernel` or `makeOutput`. */
export function disposeWasmIntermediates(backend: BackendWasm, ...infos: readonly tf.TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

/** Configs made by `replaceWasmKernel`, so registration can tell them from tfjs-backend-wasm's (idempotence). */
const OUR_REPLACEMENTS = new WeakSet<tf.KernelConfig>();

/** True if `config` was made by `replaceWasmKernel`. */
export function isOurReplacement(config: tf.KernelConfig | undefined): boolean {
  return config !== undefined && OUR_REPLACEMENTS.has(config);
}

/**
 * A config for the kernel `original` registers on 'wasm', running `kernelFunc` instead. It keeps
 * the original's setupFunc and disposeFunc: a replacement that falls back to `original.kernelFunc`
 * needs the wasm function bindings that setup makes, and setup runs when the backend starts.
 */
export function replaceWasmKernel(original: tf.KernelConfig, kernelFunc: tf.KernelFunc): tf.KernelConfig {
  const config: tf.KernelConfig = {
    kernelName: original.kernelName,
    backendName: 'wasm',
    kernelFunc,
    ...(original.setupFunc === undefined ? {} : { setupFunc: original.setupFunc }),
    ...(original.disposeFunc === undefined ? {} : { disposeFunc: original.disposeFunc }),
  };
  OUR_REPLACEMENTS.add(config);
  return config;
}
