/**
 * relu(conv2d(x, W) + b) and relu(a·B + b) as one fused kernel also while a gradient is taken.
 *
 * tfjs-core's `tf.fused.conv2d` / `tf.fused.matMul` fall back to a separate convolution (matmul),
 * Add and Relu whenever a gradient is being recorded (`shouldFuse` in its fused_util), so a
 * training step makes three passes over the activations where the fused kernel makes one, and the
 * relu's gradient three more (Step, Cast, Multiply). Here the FusedConv2D / _FusedMatMul kernel
 * (bias and relu applied as the output is written) runs in both cases, with a gradient registered
 * for it, for y = relu(z) with z = conv(x, W) + b (or z = a·B + b):
 *
 *   dz = dy ⊙ [y > 0],   db = Σ_{n,h,w} dz,   dW = Conv2DBackpropFilter(x, dz),   dx = Conv2DBackpropInput(dz, W)
 *   dz = dy ⊙ [y > 0],   db = Σ_n dz,         dB = aᵀ·dz,                          da = dz·Bᵀ
 *
 * [y > 0] = [z > 0] (relu's derivative at 0 is 0 in tfjs and PyTorch alike), so the gradient is
 * the unfused one; the forward value differs from conv-then-add only in where the bias enters the
 * accumulation (float rounding). A registered gradient, unlike `tf.customGrad`, is lazy per input:
 * the gradient of a network's input image is not computed unless asked for.
 *
 * tfjs-core registers no gradient for these kernels (its fused ops wrap them in `customGrad`, where
 * the kernel is not recorded), so the registration below changes nothing else. It supports what
 * these two functions run: NHWC, dilation 1, no transposes, activation relu or linear.
 */
import * as tf from '@tensorflow/tfjs-core';

/** dy ⊙ [y > 0] for a relu, dy for linear; anything else is not what convRelu / denseRelu run. */
function activationGradient(dy: tf.Tensor, y: tf.Tensor, activation: unknown, kernel: string): tf.Tensor {
  if (activation === 'linear') return dy;
  if (activation === 'relu') return tf.mul(dy, tf.step(y));
  throw new Error(`${kernel} gradient: activation "${String(activation)}" is not supported (relu and linear are)`);
}

tf.registerGradient({
  kernelName: tf.FusedConv2D,
  inputsToSave: ['x', 'filter'],
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs) => {
    const [x, filter, y] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
    const { strides, pad, dataFormat, dilations, dimRoundingMode, activation } = attrs as unknown as tf.FusedConv2DAttrs;
    if (dataFormat !== 'NHWC' || !tf.backend_util.tupleValuesAreOne(dilations)) {
      throw new Error(`FusedConv2D gradient: only NHWC without dilation is supported (got ${dataFormat}, dilations ${String(dilations)})`);
    }
    // Shared by the inputs' gradients, so made here (it lives until the backward pass ends).
    const dz = activationGradient(dy as tf.Tensor, y, activation, 'FusedConv2D');
    const convAttrs = { strides, pad, dataFormat, dimRoundingMode };
    return {
      x: () => tf.engine().runKernel<tf.Tensor>(tf.Conv2DBackpropInput, { dy: dz, filter }, { ...convAttrs, inputShape: x.shape }),
      filter: () => tf.engine().runKernel<tf.Tensor>(tf.Conv2DBackpropFilter, { x, dy: dz }, { ...convAttrs, filterShape: filter.shape }),
      bias: () => tf.sum(dz, [0, 1, 2]),
    };
  },
});

tf.registerGradient({
  kernelName: tf._FusedMatMul,
  inputsToSave: ['a', 'b'],
  outputsToSave: [true],
  gradFunc: (dy, saved, attrs) => {
    const [a, b, y] = saved as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
    const { transposeA, transposeB, activation } = attrs as unknown as tf._FusedMatMulAttrs;
    if (transposeA || transposeB) throw new Error('_FusedMatMul gradient: transposed operands are not supported');
    const dz = activationGradient(dy as tf.Tensor, y, activation, '_FusedMatMul') as tf.Tensor3D;
    return {
      a: () => tf.matMul(dz, b, false, true),
      b: () => tf.matMul(a, dz, true, false),
      bias: () => tf.sum(dz, [0, 1]),
    };
  },
});

export interface ConvReluArgs {
  readonly x: tf.Tensor4D;
  /** [kh, kw, inChannels, outChannels] */
  readonly filter: tf.Tensor4D;
  /** [outChannels]; none: relu(conv2d(x, filter)) */
  readonly bias?: tf.Tensor1D;
  readonly strides: number;
  /** 'same', 'valid' or explicit zero padding on every side */
  readonly pad: 'same' | 'valid' | number;
}

/** relu(conv2d(x, filter, strides, pad) + bias), NHWC, one fused kernel also under a gradient (module comment). */
export function convRelu({ x, filter, bias, strides, pad }: ConvReluArgs): tf.Tensor4D {
  const attrs = { strides, pad, dataFormat: 'NHWC', dilations: 1, activation: 'relu' };
  return tf.engine().runKernel<tf.Tensor4D>(tf.FusedConv2D, bias === undefined ? { x, filter } : { x, filter, bias }, attrs);
}

/** relu(a·b + bias) for a [N, K], b [K, M], bias [M], one fused kernel also under a gradient (module comment). */
export function denseRelu(a: tf.Tensor2D, b: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor2D {
  const [n, k] = a.shape;
  const m = b.shape[1];
  // The kernel multiplies batches of matrices: [1, N, K]·[1, K, M].
  return tf.tidy(() => {
    const y = tf.engine().runKernel<tf.Tensor3D>(
      tf._FusedMatMul,
      { a: tf.reshape(a, [1, n, k]), b: tf.reshape(b, [1, k, m]), bias },
      { transposeA: false, transposeB: false, activation: 'relu' },
    );
    return tf.reshape<tf.Rank.R2>(y, [n, m]);
  });
}
