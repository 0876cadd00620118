/**
 * Conv2DBackpropFilter for the wasm backend, which tfjs-backend-wasm 4.22 lacks.
 *
 * For y = conv2d(x, W) with stride s, dilation d and padding (top p_t, left p_l), NHWC:
 *
 *   dW[kh, kw, ci, co] = Σ_{n, oh, ow} x[n, oh·s_h + kh·d_h − p_t, ow·s_w + kw·d_w − p_l, ci] · dy[n, oh, ow, co]
 *
 * Read with ci as the batch, n as the input channels and (oh, ow) as the filter taps, this is itself a
 * convolution: x' = xᵀ [ci, H, W, n], filter dy' = dyᵀ [oh, ow, n, co], stride d, dilation s:
 *
 *   dW'[ci, kh, kw, co] = conv2d(x', dy', strides = d, dilations = s, pad = (p_t, p_l, bottom, right))
 *
 * so the work runs in XNNPACK's convolution (the kernel tfjs-backend-wasm's Conv2D uses), with three
 * small transposes around it. Bottom/right padding is chosen so the output is exactly kh × kw; where
 * the input has rows the forward pass never read (VALID, stride 2), the output is cropped instead.
 *
 * The kernel runs the im2col + GEMM of `wasm-im2col-filter-gradient.ts` instead wherever it applies
 * (NHWC float32, dilation 1: every gradient tfjs asks for) and measured faster (all but stride-1
 * convolutions with narrower output rows, see `narrowRows`): one XNNPACK matrix product in place of
 * a convolution whose "filter" is the whole output gradient, which XNNPACK runs poorly (the
 * measured A/B is in `bench/PROFILE.md`). The transposed convolution stays as the general path.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { filterGradientByIm2col } from './wasm-im2col-filter-gradient.js';
import { asWasmBackend, callWasmKernel, disposeWasmIntermediates } from './wasm-kernel-calls.js';

/**
 * Stride-1 convolutions whose output rows are narrower than the input's ('valid'-style padding,
 * e.g. LeNet-5's conv2, x [128,14,14,6] 5×5 → 16): im2col copies them row by row, and the A/B in
 * bench/PROFILE.md had the transposed convolution ~2× faster there, so they keep it.
 */
function narrowRows(info: tf.backend_util.Conv2DInfo): boolean {
  return info.strideHeight === 1 && info.strideWidth === 1 && info.outWidth !== info.inWidth;
}

/** Computes dW from x [n, h, w, ci] and dy [n, oh, ow, co] on the wasm backend (see the module comment). */
export function wasmConv2DBackpropFilter(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo {
  const backend = asWasmBackend(args.backend, 'Conv2DBackpropFilter');
  const { x, dy } = args.inputs as unknown as tf.Conv2DBackpropFilterInputs & Record<'x' | 'dy', tf.TensorInfo>;
  const attrs = (args.attrs ?? {}) as unknown as tf.Conv2DBackpropFilterAttrs;
  if (attrs.dataFormat === 'NCHW') {
    throw new Error('Conv2DBackpropFilter on wasm: dataFormat NCHW is not supported (the wasm Conv2D is NHWC only); use NHWC');
  }
  const convInfo = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const expected = [convInfo.batchSize, convInfo.outHeight, convInfo.outWidth, convInfo.outChannels];
  if (dy.shape.length !== 4 || expected.some((d, i) => dy.shape[i] !== d)) {
    throw new Error(
      `Conv2DBackpropFilter on wasm: expected dy of shape [${expected.join(', ')}] for x [${x.shape.join(', ')}] and filter [${attrs.filterShape.join(', ')}], found [${dy.shape.join(', ')}]`,
    );
  }
  const im2col = x.dtype === 'float32' && dy.dtype === 'float32' && convInfo.dilationHeight === 1 && convInfo.dilationWidth === 1 && !narrowRows(convInfo);
  return im2col ? filterGradientByIm2col(backend, x, dy, convInfo) : filterGradientByConvolution(backend, x, dy, convInfo);
}

/**
 * dW via the transposed convolution described in the module comment; shared with callers that
 * already hold a conv info (dilation is honoured, although tfjs never asks for it in a gradient).
 */
export function filterGradientByConvolution(
  backend: BackendWasm,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  convInfo: tf.backend_util.Conv2DInfo,
): tf.TensorInfo {
  const [, inHeight, inWidth] = x.shape as [number, number, number, number];
  const [, outHeight, outWidth] = dy.shape as [number, number, number, number];
  const { filterHeight, filterWidth, strideHeight, strideWidth, dilationHeight, dilationWidth } = convInfo;
  const { top, left } = convInfo.padInfo;
  // Rows the forward pass reads: from −top to −top + (kh−1)·d + (oh−1)·s.
  const bottom = Math.max(0, (filterHeight - 1) * dilationHeight + (outHeight - 1) * strideHeight + 1 - inHeight - top);
  const right = Math.max(0, (filterWidth - 1) * dilationWidth + (outWidth - 1) * strideWidth + 1 - inWidth - left);

  const xT = callWasmKernel(tf.Transpose, { x }, { perm: [3, 1, 2, 0] }, backend);
  const dyT = callWasmKernel(tf.Transpose, { x: dy }, { perm: [1, 2, 0, 3] }, backend);
  const dwT = callWasmKernel(
    tf.Conv2D,
    { x: xT, filter: dyT },
    {
      strides: [dilationHeight, dilationWidth],
      dilations: [strideHeight, strideWidth],
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
  disposeWasmIntermediates(backend, xT, dyT);
  const [inChannels, gotHeight, gotWidth, outChannels] = dwT.shape as [number, number, number, number];
  let cropped = dwT;
  if (gotHeight !== filterHeight || gotWidth !== filterWidth) {
    cropped = callWasmKernel(
      tf.Slice,
      { x: dwT },
      { begin: [0, 0, 0, 0], size: [inChannels, filterHeight, filterWidth, outChannels] },
      backend,
    );
    disposeWasmIntermediates(backend, dwT);
  }
  const dw = callWasmKernel(tf.Transpose, { x: cropped }, { perm: [1, 2, 0, 3] }, backend);
  disposeWasmIntermediates(backend, cropped);
  return dw;
}

/** Registration record for `tf.registerKernel`. */
export const wasmConv2DBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: wasmConv2DBackpropFilter,
};
