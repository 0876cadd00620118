/**
 * Registers the gradient kernels tfjs-backend-wasm 4.22 lacks, so `tf.grad` through conv2d and
 * depthwiseConv2d works on the wasm backend:
 *
 * - Conv2DBackpropFilter (a transposed XNNPACK convolution, `wasm-conv2d-backprop-filter.ts`)
 * - DepthwiseConv2dNativeBackpropFilter, DepthwiseConv2dNativeBackpropInput
 *   (`wasm-depthwise-conv2d-backprop.ts`): dx as XNNPACK depthwise convolutions, one per residue
 *   class of the stride, dW as wasm SIMD row products (`wasm-simd-rows.ts`), 3–10× the former
 *   JS loops on MobileNetV2 / ShuffleNetV2 / RegNet layers
 *
 * and replaces ten of tfjs-backend-wasm's kernels that dominate a training step:
 *
 * - Conv2DBackpropInput (a plain loop nest) by a wrapper that runs NHWC square-stride cases as
 *   XNNPACK convolutions, one per residue class of the stride (`wasm-conv2d-backprop-input.ts`),
 *   ~10× faster on LeNet-5 shapes and 3–6× on ResNet-18's stride-2 layers;
 * - MaxPoolGrad (a loop nest revisiting every covering window per pixel) by one argmax-and-scatter
 *   pass (`wasm-max-pool-grad.ts`);
 * - BatchMatMul by a wrapper that materializes transposed operands (`wasm-batch-mat-mul.ts`): the
 *   wasm kernel's transposed products, which every matMul gradient uses, are ~10× slower;
 * - Add by a wrapper that runs bias additions x[…, c] + b[c] as an XNNPACK 1×1 depthwise
 *   convolution (`wasm-bias-add.ts`): the wasm kernel's broadcasting loop is ~12× slower;
 * - Identity by one that shares the buffer (`wasm-identity.ts`), as the cpu and webgl backends do,
 *   instead of copying it on each of the ~36 calls tfjs's gradient code makes per step;
 * - Tile by block copies (`wasm-tile.ts`): the wasm kernel's per-element loop made BatchNorm's
 *   gradient tiles over a third of a ResNet-18 training step;
 * - Pack and Unpack by strided copies (`wasm-pack-unpack.ts`): Unpack's one Slice per output was
 *   ~75% of a ShuffleNetV2 step (its channel shuffle's gradient);
 * - Sum and Mean over a non-innermost block of axes (BatchNorm's (n, h, w)) in one pass
 *   (`wasm-reduce.ts`) instead of a generic Transpose first.
 *
 * Conv2DBackpropFilter runs as im2col + one XNNPACK GEMM (`wasm-im2col-filter-gradient.ts`) and
 * batched BatchMatMul products matrix by matrix through XNNPACK; `bench/PROFILE.md` has the
 * per-kernel profiles and A/B ratios.
 */
import * as tf from '@tensorflow/tfjs-core';
import { makeWasmBatchMatMulConfig } from './wasm-batch-mat-mul.js';
import { makeWasmAddConfig } from './wasm-bias-add.js';
import { makeWasmIdentityConfig } from './wasm-identity.js';
import { makeWasmTileConfig } from './wasm-tile.js';
import { makeWasmPackConfig, makeWasmUnpackConfig } from './wasm-pack-unpack.js';
import { makeWasmMeanConfig, makeWasmSumConfig } from './wasm-reduce.js';
import { wasmConv2DBackpropFilterConfig } from './wasm-conv2d-backprop-filter.js';
import { makeWasmConv2DBackpropInputConfig } from './wasm-conv2d-backprop-input.js';
import {
  wasmDepthwiseConv2dNativeBackpropFilterConfig,
  wasmDepthwiseConv2dNativeBackpropInputConfig,
} from './wasm-depthwise-conv2d-backprop.js';
import { isOurReplacement, replaceWasmKernel } from './wasm-kernel-calls.js';
import { wasmMaxPoolGrad } from './wasm-max-pool-grad.js';

/** The kernels `registerWasmGradientKernels` adds, in registration order. */
export const WASM_GRADIENT_KERNELS: readonly tf.KernelConfig[] = [
  wasmConv2DBackpropFilterConfig,
  wasmDepthwiseConv2dNativeBackpropFilterConfig,
  wasmDepthwiseConv2dNativeBackpropInputConfig,
];

/** tfjs-backend-wasm kernels `registerWasmGradientKernels` replaces: name → replacement built from the original. */
export const WASM_REPLACED_KERNELS: Readonly<Record<string, (original: tf.KernelConfig) => tf.KernelConfig>> = {
  [tf.Conv2DBackpropInput]: makeWasmConv2DBackpropInputConfig,
  [tf.MaxPoolGrad]: (original) => replaceWasmKernel(original, wasmMaxPoolGrad),
  [tf.BatchMatMul]: makeWasmBatchMatMulConfig,
  [tf.Add]: makeWasmAddConfig,
  [tf.Identity]: makeWasmIdentityConfig,
  [tf.Tile]: makeWasmTileConfig,
  [tf.Pack]: makeWasmPackConfig,
  [tf.Unpack]: makeWasmUnpackConfig,
  [tf.Sum]: makeWasmSumConfig,
  [tf.Mean]: makeWasmMeanConfig,
};

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
  for (const [name, replace] of Object.entries(WASM_REPLACED_KERNELS)) {
    const original = tf.getKernel(name, 'wasm');
    if (original === undefined || isOurReplacement(original)) continue;
    // Must happen before the backend starts: a replacement carries the original's setupFunc.
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(replace(original));
    registered.push(name);
  }
  return registered;
}
