/**
 * Multiply and Sub for the wasm backend with a fast path for per-channel operands, x[…, c] · s[c]
 * and x[…, c] − b[c] (or b[c] − x[…, c]), as BatchNorm's forward pass and gradient compute them.
 *
 * tfjs-backend-wasm runs broadcast operands through a generic index loop (~15–40 ms for a
 * [32,32,32,72] activation against [72] here, against ~2 ms for a same-shape op). As for bias
 * additions (`wasm-bias-add.ts`), each is a 1×1 depthwise convolution, which XNNPACK runs in one
 * pass, x viewed as [1, 1, R, C]:
 *
 *   x · s = depthwiseConv(x, filter s),   x − b = depthwiseConv(x, filter 1) + (−b),
 *   b − x = depthwiseConv(x, filter −1) + b,
 *
 * each bitwise the elementwise result (one rounding; x·1, x·(−1) and −b are exact). XNNPACK's
 * output clamp turns NaN into −∞, so, as there, a result whose total is not finite (a NaN, an ∞
 * or an overflowing sum) is recomputed by the generic kernel. Other shapes and dtypes go to
 * tfjs-backend-wasm's kernel, which this one wraps.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { asWasmBackend, callWasmKernel, disposeWasmIntermediates, replaceWasmKernel } from './wasm-kernel-calls.js';

/** Below this many elements the generic kernel is as fast and the fast path's setup would dominate. */
const MIN_SIZE = 4096;

/** If `small` is a per-channel operand of `big` ([C] or [1, …, 1, C]), the channel count C; else undefined. */
function perChannel(big: tf.TensorInfo, small: tf.TensorInfo): number | undefined {
  const channels = big.shape.at(-1);
  if (channels === undefined || big.shape.length < 2 || big.dtype !== 'float32' || small.dtype !== 'float32') return undefined;
  if (small.shape.length === 0 || small.shape.length > big.shape.length || small.shape.at(-1) !== channels) return undefined;
  if (small.shape.slice(0, -1).some((d) => d !== 1)) return undefined;
  if (tf.util.sizeFromShape(big.shape) < MIN_SIZE) return undefined;
  return channels;
}

/** y = x · f[c] (+ g[c]) as a 1×1 depthwise convolution (module comment); undefined when not all finite. */
function channelAffine(backend: BackendWasm, x: tf.TensorInfo, channels: number, filter: (values: Float32Array) => void, bias?: (values: Float32Array) => void): tf.TensorInfo | undefined {
  const rows = tf.util.sizeFromShape(x.shape) / channels;
  const image = callWasmKernel(tf.Reshape, { x }, { shape: [1, 1, rows, channels] }, backend);
  const weights = backend.makeOutput([1, 1, channels, 1], 'float32');
  const offsets = bias === undefined ? undefined : backend.makeOutput([channels], 'float32');
  // Views after every makeOutput: allocating may grow (and detach) the heap.
  filter(backend.typedArrayFromHeap(weights) as Float32Array);
  if (bias !== undefined && offsets !== undefined) bias(backend.typedArrayFromHeap(offsets) as Float32Array);
  const attrs = { strides: [1, 1], pad: 'valid', dilations: [1, 1], dataFormat: 'NHWC', activation: 'linear' };
  const y =
    offsets === undefined
      ? callWasmKernel(tf.DepthwiseConv2dNative, { x: image, filter: weights }, attrs, backend)
      : callWasmKernel(tf.FusedDepthwiseConv2D, { x: image, filter: weights, bias: offsets }, attrs, backend);
  disposeWasmIntermediates(backend, image, weights, ...(offsets === undefined ? [] : [offsets]));
  y.shape = x.shape.slice();
  const total = callWasmKernel(tf.Sum, { x: y }, { axis: x.shape.map((_, i) => i), keepDims: false }, backend);
  const finite = Number.isFinite(backend.typedArrayFromHeap(total)[0]);
  disposeWasmIntermediates(backend, total);
  if (finite) return y;
  disposeWasmIntermediates(backend, y);
  return undefined;
}

type Args = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };

/** `original` (tfjs-backend-wasm's Multiply) with per-channel scalings as 1×1 depthwise convolutions. */
export function makeWasmMultiplyConfig(original: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc = (args: Args): tf.TensorInfo => {
    const backend = asWasmBackend(args.backend, 'Multiply');
    const { a, b } = args.inputs as Record<'a' | 'b', tf.TensorInfo>;
    const channelsAB = a.shape.length >= b.shape.length ? perChannel(a, b) : undefined;
    const channelsBA = channelsAB === undefined ? perChannel(b, a) : undefined;
    const channels = channelsAB ?? channelsBA;
    if (channels === undefined) return original.kernelFunc(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    // Multiplication commutes exactly in IEEE arithmetic, so the operand order does not matter.
    const [x, s] = channelsAB !== undefined ? [a, b] : [b, a];
    const y = channelAffine(backend, x, channels, (w) => w.set(backend.typedArrayFromHeap(s)));
    return y ?? (original.kernelFunc(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo);
  };
  return replaceWasmKernel(original, kernelFunc);
}

/** `original` (tfjs-backend-wasm's Sub) with per-channel subtractions as 1×1 depthwise convolutions with a bias. */
export function makeWasmSubConfig(original: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc = (args: Args): tf.TensorInfo => {
    const backend = asWasmBackend(args.backend, 'Sub');
    const { a, b } = args.inputs as Record<'a' | 'b', tf.TensorInfo>;
    const channelsAB = a.shape.length >= b.shape.length ? perChannel(a, b) : undefined;
    const channelsBA = channelsAB === undefined ? perChannel(b, a) : undefined;
    let y: tf.TensorInfo | undefined;
    if (channelsAB !== undefined) {
      // a − b = a · 1 + (−b)
      y = channelAffine(backend, a, channelsAB, (w) => w.fill(1), (g) => {
        const values = backend.typedArrayFromHeap(b);
        for (let c = 0; c < channelsAB; c++) g[c] = -(values[c] as number);
      });
    } else if (channelsBA !== undefined) {
      // a − b = b · (−1) + a
      y = channelAffine(backend, b, channelsBA, (w) => w.fill(-1), (g) => g.set(backend.typedArrayFromHeap(a)));
    } else {
      return original.kernelFunc(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
    }
    return y ?? (original.kernelFunc(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo);
  };
  return replaceWasmKernel(original, kernelFunc);
}
