/**
 * Registers the gradient kernels tfjs-backend-wasm 4.22 lacks, so `tf.grad` through conv2d and
 * depthwiseConv2d works on the wasm backend:
 *
 * - Conv2DBackpropFilter (a transposed XNNPACK convolution, `wasm-conv2d-backprop-filter.ts`)
 * - DepthwiseConv2dNativeBackpropFilter, DepthwiseConv2dNativeBackpropInput (loops over the wasm
 *   heap, `wasm-depthwise-conv2d-backprop.ts`)
 *
 * and replaces tfjs-backend-wasm's Conv2DBackpropInput (a plain loop nest) by a wrapper that runs
 * stride-1 cases through XNNPACK (`wasm-conv2d-backprop-input.ts`), ~10× faster on LeNet-5 shapes.
 */
import * as tf from '@tensorflow/tfjs-core';
import { wasmConv2DBackpropFilterConfig } from './wasm-conv2d-backprop-filter.js';
import { isOurConv2DBackpropInput, makeWasmConv2DBackpropInputConfig } from './wasm-conv2d-backprop-input.js';
import {
  wasmDepthwiseConv2dNativeBackpropFilterConfig,
  wasmDepthwiseConv2dNativeBackpropInputConfig,
} from './wasm-depthwise-conv2d-backprop.js';

/** The kernels `registerWasmGradientKernels` adds, in registration order. */
export const WASM_GRADIENT_KERNELS: readonly tf.KernelConfig[] = [
  wasmConv2DBackpropFilterConfig,
  wasmDepthwiseConv2dNativeBackpropFilterConfig,
  wasmDepthwiseConv2dNativeBackpropInputConfig,
];

/**
 * Registers our wasm gradient kernels; idempotent, and a kernel some other package already
 * registered for 'wasm' (a future tfjs-backend-wasm) is left in place.
 *
 * @returns the names of the kernels this call registered (empty when all were present).
 */
export function registerWasmGradientKernels(): string[] {
  const registered: string[] = [];
  for (const config of WASM_GRADIENT_KERNELS) {
    if (tf.getKernel(config.kernelName, 'wasm') !== undefined) continue;
    tf.registerKernel(config);
    registered.push(config.kernelName);
  }
  const input = tf.getKernel(tf.Conv2DBackpropInput, 'wasm');
  if (input !== undefined && !isOurConv2DBackpropInput(input)) {
    // Must happen before the backend starts: the wrapper carries the original's setupFunc.
    tf.unregisterKernel(tf.Conv2DBackpropInput, 'wasm');
    tf.registerKernel(makeWasmConv2DBackpropInputConfig(input));
    registered.push(tf.Conv2DBackpropInput);
  }
  return registered;
}
