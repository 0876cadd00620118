/**
 * Sub, Multiply and RealDiv for the wasm backend with a fast path for operands that broadcast
 * over leading axes only: a per-channel vector against NHWC activations (BatchNorm's x − μ,
 * (x − μ)·γ/σ and their gradients) and a scalar against a tensor.
 *
 * tfjs-backend-wasm computes broadcast operands in a generic loop that rebuilds the index of
 * both inputs for every element, ~30× slower than same-shape operands ([1,1,1,64] · [8,32,32,64]
 * took ~17 ms per ResNet-18 step's worth of calls). When the small operand's shape, leading ones
 * dropped, is a suffix of the big one's, the big operand is a matrix [R, C] and
 *
 *   y[r, c] = big[r, c] ∘ small[c]   (or small[c] ∘ big[r, c])
 *
 * one pass in JS. The values are bitwise those of float32 arithmetic: JS computes in float64 and
 * rounds once on store, and for +, −, ×, ÷ of float32 operands that double rounding is exact
 * (53 ≥ 2·24 + 2 bits; Figueroa, "When is double rounding innocuous?", SIGNUM 1995).
 * Other shapes and dtypes go to tfjs-backend-wasm's kernel, which this one wraps.
 */
import * as tf from '@tensorflow/tfjs-core';
import { asWasmBackend, replaceWasmKernel } from './wasm-kernel-calls.js';

type Op = (p: number, q: number) => number;

const OPS: Readonly<Record<string, Op>> = {
  [tf.Sub]: (p, q) => p - q,
  [tf.Multiply]: (p, q) => p * q,
  [tf.RealDiv]: (p, q) => p / q,
};

/** Below this many output elements the generic kernel's per-call cost is as low. */
const MIN_SIZE = 1024;

/** C when `small` broadcasts against `big` over leading axes only (its shape, leading ones dropped, ends big's); else undefined. */
export function trailingBroadcastSize(big: readonly number[], small: readonly number[]): number | undefined {
  let first = 0;
  while (first < small.length && small[first] === 1) first++;
  const core = small.slice(first);
  if (core.length > big.length || small.length > big.length) return undefined;
  const offset = big.length - core.length;
  if (core.some((d, i) => d !== big[offset + i])) return undefined;
  return tf.util.sizeFromShape(core);
}

/** out[r·C + c] = op(big[r·C + c], small[c]) (or with the operands swapped when `smallFirst`). */
export function broadcastRows(op: Op, big: Float32Array, small: Float32Array, smallFirst: boolean, out: Float32Array): void {
  const cols = small.length;
  const rows = cols === 0 ? 0 : big.length / cols;
  for (let r = 0; r < rows; r++) {
    const at = r * cols;
    if (smallFirst) {
      for (let c = 0; c < cols; c++) out[at + c] = op(small[c] as number, big[at + c] as number);
    } else {
      for (let c = 0; c < cols; c++) out[at + c] = op(big[at + c] as number, small[c] as number);
    }
  }
}

/** `original` (tfjs-backend-wasm's Sub, Multiply or RealDiv) with leading-axis broadcasts in one JS pass. */
export function makeWasmTrailingBroadcastConfig(original: tf.KernelConfig): tf.KernelConfig {
  const op = OPS[original.kernelName];
  if (op === undefined) throw new Error(`makeWasmTrailingBroadcastConfig: expected one of ${Object.keys(OPS).join(', ')}, found ${original.kernelName}`);
  const kernelFunc = (args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo => {
    const { a, b } = args.inputs as Record<'a' | 'b', tf.TensorInfo>;
    const sizeA = tf.util.sizeFromShape(a.shape);
    const sizeB = tf.util.sizeFromShape(b.shape);
    const smallFirst = sizeA < sizeB;
    const [big, small] = smallFirst ? [b, a] : [a, b];
    const fits =
      a.dtype === 'float32' &&
      b.dtype === 'float32' &&
      sizeA !== sizeB &&
      Math.max(sizeA, sizeB) >= MIN_SIZE &&
      trailingBroadcastSize(big.shape, small.shape) !== undefined;
    if (!fits) return original.kernelFunc(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    const backend = asWasmBackend(args.backend, original.kernelName);
    const out = backend.makeOutput(big.shape.slice(), 'float32');
    // Views after makeOutput: allocating may grow (and detach) the heap.
    broadcastRows(
      op,
      backend.typedArrayFromHeap(big) as Float32Array,
      backend.typedArrayFromHeap(small) as Float32Array,
      smallFirst,
      backend.typedArrayFromHeap(out) as Float32Array,
    );
    return out;
  };
  return replaceWasmKernel(original, kernelFunc);
}
