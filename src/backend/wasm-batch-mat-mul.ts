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
 *
 * Batched products (more than one matrix on either side) run in the wasm kernel's plain C++ loop,
 * whatever the transposes: ~0.3 GFLOP/s on CCT-2's attention products [64,64,64]·[64,64,64], half
 * of a CCT-2 training step. They go matrix by matrix through the fast path instead:
 *
 *   C[i] = op(A[i]) · op(B[i])   for every batch index i (a side with one matrix is broadcast),
 *
 * each A[i], B[i] copied (transposed where asked, by a blocked JS pass) into an untransposed
 * [1, m, k], [1, k, n] pair; where B is one shared matrix and A is not transposed, the whole batch
 * is one [batch·m, k] · [k, n] product. Products under `MIN_MATRIX_WORK` multiply-adds per matrix,
 * where the per-call cost would dominate, and batch shapes that broadcast in other ways stay with
 * the C++ loop.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { asWasmBackend, callWasmKernel, disposeWasmIntermediates, replaceWasmKernel } from './wasm-kernel-calls.js';

/** Batched products with fewer multiply-adds per matrix (m·k·n) stay in the wasm kernel's loop. */
export const MIN_MATRIX_WORK = 4096;

/** Tile edge of the blocked transpose: 32 × 32 floats, 4 KiB on each side. */
const TILE = 32;

/** dst[dstAt + j·rows + i] = src[srcAt + i·cols + j]: a rows × cols matrix transposed, in TILE × TILE blocks. */
export function transposeMatrixInto(src: Float32Array, srcAt: number, rows: number, cols: number, dst: Float32Array, dstAt: number): void {
  for (let i0 = 0; i0 < rows; i0 += TILE) {
    const i1 = Math.min(rows, i0 + TILE);
    for (let j0 = 0; j0 < cols; j0 += TILE) {
      const j1 = Math.min(cols, j0 + TILE);
      for (let i = i0; i < i1; i++) {
        const from = srcAt + i * cols;
        for (let j = j0; j < j1; j++) dst[dstAt + j * rows + i] = src[from + j] as number;
      }
    }
  }
}

function sameShape(x: readonly number[], y: readonly number[]): boolean {
  return x.length === y.length && x.every((d, i) => d === y[i]);
}

/**
 * A batched product run one matrix at a time through `original`'s untransposed single-matrix
 * path (module comment), or undefined when the shapes are outside what this handles.
 */
function matrixByMatrix(original: tf.KernelConfig, backend: BackendWasm, a: tf.TensorInfo, b: tf.TensorInfo, attrs: tf.BatchMatMulAttrs): tf.TensorInfo | undefined {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return undefined;
  const ra = a.shape.length;
  const rb = b.shape.length;
  const [m, k] = attrs.transposeA ? [a.shape[ra - 1] as number, a.shape[ra - 2] as number] : [a.shape[ra - 2] as number, a.shape[ra - 1] as number];
  const [kb, n] = attrs.transposeB ? [b.shape[rb - 1] as number, b.shape[rb - 2] as number] : [b.shape[rb - 2] as number, b.shape[rb - 1] as number];
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const batchA = tf.util.sizeFromShape(outerA);
  const batchB = tf.util.sizeFromShape(outerB);
  const broadcastable = sameShape(outerA, outerB) || (batchA === 1 && outerA.length <= outerB.length) || (batchB === 1 && outerB.length <= outerA.length);
  if (k !== kb || !broadcastable || m * k * n < MIN_MATRIX_WORK) return undefined;
  const outer = batchA >= batchB && outerA.length >= outerB.length ? outerA : outerB;
  const batch = Math.max(batchA, batchB);
  const outShape = [...outer, m, n];
  const plain = { transposeA: false, transposeB: false };
  const call = (x: tf.TensorInfo, y: tf.TensorInfo): tf.TensorInfo => original.kernelFunc({ inputs: { a: x, b: y }, backend: backend, attrs: plain }) as tf.TensorInfo;

  /** A fresh untransposed copy of matrix `index` of `t` as [1, rows, cols] (`transposed`: t holds it as cols × rows). */
  const matrix = (t: tf.TensorInfo, index: number, rows: number, cols: number, transposed: boolean): tf.TensorInfo => {
    const copy = backend.makeOutput([1, rows, cols], 'float32');
    // Views after makeOutput: allocating may grow (and detach) the heap.
    const from = backend.typedArrayFromHeap(t) as Float32Array;
    const to = backend.typedArrayFromHeap(copy) as Float32Array;
    const at = index * rows * cols;
    if (transposed) transposeMatrixInto(from, at, cols, rows, to, 0);
    else to.set(from.subarray(at, at + rows * cols));
    return copy;
  };

  if (batchB === 1 && !attrs.transposeA) {
    // One shared B: the batch of A is the rows of one product.
    const rowsA = callWasmKernel(tf.Reshape, { x: a }, { shape: [1, batch * m, k] }, backend);
    const single = attrs.transposeB ? matrix(b, 0, k, n, true) : callWasmKernel(tf.Reshape, { x: b }, { shape: [1, k, n] }, backend);
    const product = call(rowsA, single);
    disposeWasmIntermediates(backend, rowsA, single);
    const out = callWasmKernel(tf.Reshape, { x: product }, { shape: outShape }, backend);
    disposeWasmIntermediates(backend, product);
    return out;
  }

  const out = backend.makeOutput(outShape, 'float32');
  for (let i = 0; i < batch; i++) {
    const ai = matrix(a, batchA === 1 ? 0 : i, m, k, attrs.transposeA);
    const bi = matrix(b, batchB === 1 ? 0 : i, k, n, attrs.transposeB);
    const product = call(ai, bi);
    (backend.typedArrayFromHeap(out) as Float32Array).set(backend.typedArrayFromHeap(product), i * m * n);
    disposeWasmIntermediates(backend, ai, bi, product);
  }
  return out;
}

/** `original` (tfjs-backend-wasm's BatchMatMul) wrapped so single-matrix products reach it untransposed. */
export function makeWasmBatchMatMulConfig(original: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc = (args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo => {
    const attrs = (args.attrs ?? {}) as unknown as tf.BatchMatMulAttrs;
    const { a, b } = args.inputs as Record<'a' | 'b', tf.TensorInfo>;
    const batches = (t: tf.TensorInfo): number => tf.util.sizeFromShape(t.shape.slice(0, -2));
    const backend = asWasmBackend(args.backend, 'BatchMatMul');
    if (batches(a) > 1 || batches(b) > 1) {
      const batched = matrixByMatrix(original, backend, a, b, attrs);
      return batched ?? (original.kernelFunc(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo);
    }
    if (!attrs.transposeA && !attrs.transposeB) return original.kernelFunc(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
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
