/**
 * DepthwiseConv2dNativeBackpropFilter and DepthwiseConv2dNativeBackpropInput for the wasm backend,
 * which tfjs-backend-wasm 4.22 lacks.
 *
 * For y = depthwiseConv2d(x, W) with channel multiplier M, stride s, dilation d and padding
 * (top p_t, left p_l), NHWC, output channel q = c·M + m, and input position
 * h = oh·s_h + kh·d_h − p_t, w = ow·s_w + kw·d_w − p_l:
 *
 *   dW[kh, kw, c, m]  = Σ_{n, oh, ow} x[n, h, w, c] · dy[n, oh, ow, c·M + m]
 *   dx[n, h, w, c]   = Σ_{kh, kw, m} W[kh, kw, c, m] · dy[n, oh, ow, c·M + m]   (over taps that land on h, w)
 *
 * Depthwise layers are not on our models' hot path, so these are direct loops over the wasm heap
 * (innermost over contiguous channels) rather than compositions of other kernels; sums accumulate in
 * float64 so long reductions over n·oh·ow stay as accurate as the cpu backend's.
 */
import * as tf from '@tensorflow/tfjs-core';
import { asWasmBackend } from './wasm-kernel-calls.js';

interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}

/** dW [kh, kw, c, M] of a depthwise convolution from x and dy (formula in the module comment). */
export function wasmDepthwiseConv2dNativeBackpropFilter(args: KernelArgs): tf.TensorInfo {
  const backend = asWasmBackend(args.backend, 'DepthwiseConv2dNativeBackpropFilter');
  const { x, dy } = args.inputs as Record<'x' | 'dy', tf.TensorInfo>;
  const attrs = (args.attrs ?? {}) as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs;
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    attrs.dilations,
    attrs.pad,
    attrs.dimRoundingMode,
    true,
  );
  checkShape('DepthwiseConv2dNativeBackpropFilter', 'dy', dy.shape, info.outShape);
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = info;
  const { filterHeight, filterWidth, strideHeight, strideWidth, dilationHeight, dilationWidth } = info;
  const multiplier = outChannels / inChannels;
  const { top, left } = info.padInfo;

  const sums = new Float64Array(filterHeight * filterWidth * outChannels);
  const xs = backend.typedArrayFromHeap(x);
  const dys = backend.typedArrayFromHeap(dy);
  for (let n = 0; n < batchSize; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let kh = 0; kh < filterHeight; kh++) {
        const h = oh * strideHeight + kh * dilationHeight - top;
        if (h < 0 || h >= inHeight) continue;
        for (let ow = 0; ow < outWidth; ow++) {
          const dyBase = ((n * outHeight + oh) * outWidth + ow) * outChannels;
          for (let kw = 0; kw < filterWidth; kw++) {
            const w = ow * strideWidth + kw * dilationWidth - left;
            if (w < 0 || w >= inWidth) continue;
            const xBase = ((n * inHeight + h) * inWidth + w) * inChannels;
            const wBase = (kh * filterWidth + kw) * outChannels;
            for (let c = 0; c < inChannels; c++) {
              const xv = xs[xBase + c] as number;
              for (let m = 0; m < multiplier; m++) {
                const q = c * multiplier + m;
                sums[wBase + q] = (sums[wBase + q] as number) + xv * (dys[dyBase + q] as number);
              }
            }
          }
        }
      }
    }
  }
  // makeOutput may grow the heap, which detaches earlier views: write through a fresh one.
  const dw = backend.makeOutput([filterHeight, filterWidth, inChannels, multiplier], 'float32');
  backend.typedArrayFromHeap(dw).set(sums);
  return dw;
}

/** dx [n, h, w, c] of a depthwise convolution from dy and W (formula in the module comment). */
export function wasmDepthwiseConv2dNativeBackpropInput(args: KernelArgs): tf.TensorInfo {
  const backend = asWasmBackend(args.backend, 'DepthwiseConv2dNativeBackpropInput');
  const { dy, filter } = args.inputs as Record<'dy' | 'filter', tf.TensorInfo>;
  const attrs = (args.attrs ?? {}) as unknown as tf.DepthwiseConv2dNativeBackpropInputAttrs;
  const info = tf.backend_util.computeConv2DInfo(
    attrs.inputShape,
    filter.shape as [number, number, number, number],
    attrs.strides,
    attrs.dilations,
    attrs.pad,
    attrs.dimRoundingMode,
    true,
  );
  checkShape('DepthwiseConv2dNativeBackpropInput', 'dy', dy.shape, info.outShape);
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = info;
  const { filterHeight, filterWidth, strideHeight, strideWidth, dilationHeight, dilationWidth } = info;
  const multiplier = outChannels / inChannels;
  const { top, left } = info.padInfo;

  const sums = new Float64Array(batchSize * inHeight * inWidth * inChannels);
  const dys = backend.typedArrayFromHeap(dy);
  const ws = backend.typedArrayFromHeap(filter);
  // Scatter form of the sum: every (oh, ow, kh, kw) tap adds dy·W to the x position it read.
  for (let n = 0; n < batchSize; n++) {
    for (let oh = 0; oh < outHeight; oh++) {
      for (let kh = 0; kh < filterHeight; kh++) {
        const h = oh * strideHeight + kh * dilationHeight - top;
        if (h < 0 || h >= inHeight) continue;
        for (let ow = 0; ow < outWidth; ow++) {
          const dyBase = ((n * outHeight + oh) * outWidth + ow) * outChannels;
          for (let kw = 0; kw < filterWidth; kw++) {
            const w = ow * strideWidth + kw * dilationWidth - left;
            if (w < 0 || w >= inWidth) continue;
            const xBase = ((n * inHeight + h) * inWidth + w) * inChannels;
            const wBase = (kh * filterWidth + kw) * outChannels;
            for (let c = 0; c < inChannels; c++) {
              let acc = 0;
              for (let m = 0; m < multiplier; m++) {
                const q = c * multiplier + m;
                acc += (ws[wBase + q] as number) * (dys[dyBase + q] as number);
              }
              sums[xBase + c] = (sums[xBase + c] as number) + acc;
            }
          }
        }
      }
    }
  }
  const dx = backend.makeOutput([batchSize, inHeight, inWidth, inChannels], 'float32');
  backend.typedArrayFromHeap(dx).set(sums);
  return dx;
}

function checkShape(kernel: string, name: string, got: readonly number[], expected: readonly number[]): void {
  if (got.length !== expected.length || got.some((v, i) => v !== expected[i])) {
    throw new Error(`${kernel} on wasm: ${name} has shape [${got.join(', ')}], expected [${expected.join(', ')}] from the convolution's attributes`);
  }
}

/** Registration record for `tf.registerKernel`. */
export const wasmDepthwiseConv2dNativeBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.DepthwiseConv2dNativeBackpropFilter,
  backendName: 'wasm',
  kernelFunc: wasmDepthwiseConv2dNativeBackpropFilter,
};

/** Registration record for `tf.registerKernel`. */
export const wasmDepthwiseConv2dNativeBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.DepthwiseConv2dNativeBackpropInput,
  backendName: 'wasm',
  kernelFunc: wasmDepthwiseConv2dNativeBackpropInput,
};
