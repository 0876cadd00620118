/**
 * Add for the wasm backend with a fast path for bias addition, x[…, c] + b[c].
 *
 * tfjs-backend-wasm adds broadcast operands in a generic index loop, ~12× slower than a same-shape
 * Add (2.0 ms against 0.16 ms for LeNet-5's conv1 activations [128,28,28,6] + [6]); under
 * `tf.grad`, tfjs unfuses `fused.conv2d`/`fused.matMul` with a relu into conv + Add + Relu, so every
 * training step pays it. The same sum is a 1×1 depthwise convolution with unit weights and the
 * summand as its bias, which XNNPACK runs in one pass:
 *
 *   y[r, c] = x[r, c] · 1 + b[c]   (x viewed as [1, 1, R, C], filter ones [1, 1, C, 1])
 *
 * x · 1 is exact in IEEE arithmetic (also for ±0 and ±∞), so y is bitwise the Add result — except
 * that XNNPACK's output clamp to [−∞, ∞] turns NaN into −∞ (tfjs-backend-wasm's Conv2D does the
 * same). A NaN sum can only come out as ±∞, so a finite Σ y proves there was none; otherwise (NaN
 * or ∞ anywhere, or an overflowing total) the generic kernel recomputes the sum. The check is one
 * wasm reduction (~0.6 ms on [128,28,28,6]; the whole fast path ~1 ms against 2 ms).
 * Other shapes and dtypes go to tfjs-backend-wasm's kernel, which this one wraps.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { asWasmBackend, callWasmKernel, disposeWasmIntermediates, replaceWasmKernel } from './wasm-kernel-calls.js';

/** Below this many elements the generic kernel is as fast and the fast path's setup would dominate. */
const MIN_SIZE = 4096;

/** If `big` + `small` is a bias addition over the last axis, the channel count; else undefined. */
function biasChannels(backend: BackendWasm, big: tf.TensorInfo, small: tf.TensorInfo): number | undefined {
  const channels = big.shape.at(-1);
  if (channels === undefined || big.shape.length < 2 || big.dtype !== 'float32' || small.dtype !== 'float32') return undefined;
  if (small.shape.length !== 1 || small.shape[0] !== channels) return undefined;
  // FusedDepthwiseConv2D reads the bias rank from the buffer, which keeps the shape it was made
  // with when the tensor is a reshape of it: that must be rank 1 too.
  if (backend.dataIdMap.get(small.dataId)?.shape.length !== 1) return undefined;
  if (tf.util.sizeFromShape(big.shape) < MIN_SIZE) return undefined;
  return channels;
}

/**
 * x + b for b broadcast over the last axis of x, as a 1×1 depthwise convolution (module comment);
 * undefined when the result is not all finite and the generic kernel must redo it.
 */
function biasAdd(backend: BackendWasm, x: tf.TensorInfo, b: tf.TensorInfo, channels: number): tf.TensorInfo | undefined {
  const rows = tf.util.sizeFromShape(x.shape) / channels;
  const image = callWasmKernel(tf.Reshape, { x }, { shape: [1, 1, rows, channels] }, backend);
  const bias = callWasmKernel(tf.Reshape, { x: b }, { shape: [channels] }, backend);
  const ones = backend.makeOutput([1, 1, channels, 1], 'float32');
  backend.typedArrayFromHeap(ones).fill(1);
  const y = callWasmKernel(
    tf.FusedDepthwiseConv2D,
    { x: image, filter: ones, bias },
    { strides: [1, 1], pad: 'valid', dilations: [1, 1], dataFormat: 'NHWC', activation: 'linear' },
    backend,
  );
  disposeWasmIntermediates(backend, image, bias, ones);
  y.shape = x.shape.slice();
  const total = callWasmKernel(tf.Sum, { x: y }, { axis: x.shape.map((_, i) => i), keepDims: false }, backend);
  const finite = Number.isFinite(backend.typedArrayFromHeap(total)[0]);
  disposeWasmIntermediates(backend, total);
  if (finite) return y;
  disposeWasmIntermediates(backend, y);
  return undefined;
}

/** `original` (tfjs-backend-wasm's Add) with bias additions routed through `biasAdd`. */
export function makeWasmAddConfig(original: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc = (args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo => {
    const backend = asWasmBackend(args.backend, 'Add');
    const { a, b } = args.inputs as Record<'a' | 'b', tf.TensorInfo>;
    const channelsAB = biasChannels(backend, a, b);
    const channelsBA = channelsAB === undefined ? biasChannels(backend, b, a) : undefined;
    if (channelsAB === undefined && channelsBA === undefined) {
      return original.kernelFunc(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    }
    // Addition commutes exactly in IEEE arithmetic, so the operand order does not matter.
    const y = channelsAB !== undefined ? biasAdd(backend, a, b, channelsAB) : biasAdd(backend, b, a, channelsBA as number);
    return y ?? (original.kernelFunc(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo);
  };
  return replaceWasmKernel(original, kernelFunc);
}
