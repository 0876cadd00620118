/**
 * A faster Conv2DBackpropInput for the wasm backend: tfjs-backend-wasm's own kernel is a plain
 * C++ loop nest (the slowest kernel of a LeNet-5 training step, ~3× the filter gradient); for
 * stride 1 and dilation 1 the input gradient is an ordinary convolution that XNNPACK runs:
 *
 *   dx[n, h, w, ci] = Σ_{kh, kw, co} dy[n, h + p_t − kh, w + p_l − kw, co] · W[kh, kw, ci, co]
 *                   = conv2d(dy, W̃, stride 1, pad top K_h−1−p_t, left K_w−1−p_l)[n, h, w, ci],
 *   W̃[kh, kw, co, ci] = W[K_h−1−kh, K_w−1−kw, ci, co]   (the filter rotated 180° with its channels swapped).
 *
 * Other cases (stride > 1, which needs a zero-inserted dy, or pads wider than the filter) go to the
 * kernel tfjs-backend-wasm registered, which this one wraps.
 */
import * as tf from '@tensorflow/tfjs-core';
import { asWasmBackend, callWasmKernel, disposeWasmIntermediates, replaceWasmKernel } from './wasm-kernel-calls.js';

/**
 * A Conv2DBackpropInput config for 'wasm' that runs stride-1 cases through XNNPACK's convolution
 * and everything else through `fallback` (tfjs-backend-wasm's kernel, whose setup it keeps).
 */
export function makeWasmConv2DBackpropInputConfig(fallback: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc = (args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo => {
    const backend = asWasmBackend(args.backend, 'Conv2DBackpropInput');
    const { dy, filter } = args.inputs as Record<'dy' | 'filter', tf.TensorInfo>;
    const attrs = (args.attrs ?? {}) as unknown as tf.Conv2DBackpropInputAttrs;
    const info = tf.backend_util.computeConv2DInfo(
      attrs.inputShape,
      filter.shape as [number, number, number, number],
      attrs.strides,
      1,
      attrs.pad,
      attrs.dimRoundingMode,
      false,
      tf.backend_util.convertConv2DDataFormat(attrs.dataFormat),
    );
    const { filterHeight, filterWidth, inHeight, inWidth } = info;
    const top = filterHeight - 1 - info.padInfo.top;
    const left = filterWidth - 1 - info.padInfo.left;
    const [, outHeight, outWidth] = dy.shape as [number, number, number, number];
    const direct =
      info.strideHeight === 1 &&
      info.strideWidth === 1 &&
      info.dataFormat === 'channelsLast' &&
      top >= 0 &&
      left >= 0 &&
      outHeight === info.outHeight &&
      outWidth === info.outWidth;
    if (!direct) return fallback.kernelFunc(args as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;

    // Output rows of the full convolution: outHeight + top + bottom − K_h + 1 must reach inHeight.
    const bottom = Math.max(0, inHeight - 1 + filterHeight - outHeight - top);
    const right = Math.max(0, inWidth - 1 + filterWidth - outWidth - left);
    const reversed = callWasmKernel(tf.Reverse, { x: filter }, { dims: [0, 1] }, backend);
    const rotated = callWasmKernel(tf.Transpose, { x: reversed }, { perm: [0, 1, 3, 2] }, backend);
    disposeWasmIntermediates(backend, reversed);
    const full = callWasmKernel(
      tf.Conv2D,
      { x: dy, filter: rotated },
      {
        strides: [1, 1],
        dilations: [1, 1],
        pad: [
          [0, 0],
          [top, bottom],
          [left, right],
          [0, 0],
        ],
        dataFormat: 'NHWC',
      },
      backend,
    );
    disposeWasmIntermediates(backend, rotated);
    const [batch, fullHeight, fullWidth, channels] = full.shape as [number, number, number, number];
    if (fullHeight === inHeight && fullWidth === inWidth) return full;
    const dx = callWasmKernel(tf.Slice, { x: full }, { begin: [0, 0, 0, 0], size: [batch, inHeight, inWidth, channels] }, backend);
    disposeWasmIntermediates(backend, full);
    return dx;
  };
  return replaceWasmKernel(fallback, kernelFunc);
}
