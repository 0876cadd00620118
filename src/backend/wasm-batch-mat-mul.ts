/**
 * BatchMatMul for the wasm backend with transposed operands made explicit.
 *
 * tfjs-backend-wasm runs `transposeA`/`transposeB` products ~10× slower than plain ones of the same
 * size (on LeNet-5's fc1 gradients, [128,120]·[400,120]ᵀ and [128,400]ᵀ·[128,120]: 6.4 ms each
 * against 0.6 ms for the forward [128,400]·[400,120]); those are exactly the products a matMul
 * gradient asks for (dA = dC·Bᵀ, dB = Aᵀ·dC). Transposing the operand first costs one pass over
 * it, then the product runs untransposed:
 *
 *   A·Bᵀ = A·(Bᵀ)   with Bᵀ materialized by the Transpose kernel (last two axes swapped)
 *
 * The result is the same sum over the same inner index; only float rounding order may differ.
 * Batched products (more than one matrix on either side) are left alone: the wasm kernel runs them
 * all in its C++ loop, whose speed hardly depends on the transposes (measured on [128,64,64] ·
 * [128,64,32]: NN, NT and TN within noise of each other), so a transpose would only add work.
 */
import * as tf from '@tensorflow/tfjs-core';
import { asWasmBackend, callWasmKernel, disposeWasmIntermediates, replaceWasmKernel } from './wasm-kernel-calls.js';

/** `original` (tfjs-backend-wasm's BatchMatMul) wrapped so single-matrix products reach it untransposed. */
export function makeWasmBatchMatMulConfig(original: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc = (args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo => {
    const attrs = (args.attrs ?? {}) as unknown as tf.BatchMatMulAttrs;
    const { a, b } = args.inputs as Record<'a' | 'b', tf.TensorInfo>;
    const batches = (t: tf.TensorInfo): number => tf.util.sizeFromShape(t.shape.slice(0, -2));
    if ((!attrs.transposeA && !attrs.transposeB) || batches(a) > 1 || batches(b) > 1) {
      return original.kernelFunc(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    }
    const backend = asWasmBackend(args.backend, 'BatchMatMul');
    const swapLast = (t: tf.TensorInfo): tf.TensorInfo => {
      const perm = t.shape.map((_, i) => i);
      const rank = perm.length;
      perm[rank - 2] = rank - 1;
      perm[rank - 1] = rank - 2;
      return callWasmKernel(tf.Transpose, { x: t }, { perm }, backend);
    };
    const a2 = attrs.transposeA ? swapLast(a) : a;
    const b2 = attrs.transposeB ? swapLast(b) : b;
    const out = original.kernelFunc({ inputs: { a: a2, b: b2 }, backend: args.backend as never, attrs: { transposeA: false, transposeB: false } });
    if (a2 !== a) disposeWasmIntermediates(backend, a2);
    if (b2 !== b) disposeWasmIntermediates(backend, b2);
    return out as tf.TensorInfo;
  };
  return replaceWasmKernel(original, kernelFunc);
}
