/**
 * Forward FLOPs per image, counted from the kernels a forward pass actually runs (tf.profile):
 * 2·MACs of every convolution and matrix product; element-wise work is not counted (the usual
 * convention of FLOP tables). Independent of the backend's kernel choices.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Architecture, ModelState } from '../src/models/types.js';

type Shape = readonly number[];

function product(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** FLOPs of one kernel invocation from its name and shapes, or 0 for kernels not counted. */
export function kernelFlops(name: string, inputs: readonly Shape[], outputs: readonly Shape[]): number {
  const out = outputs[0];
  if (out === undefined) return 0;
  if (name === 'Conv2D' || name === 'FusedConv2D') {
    const filter = inputs[1] ?? [];
    const [kh = 0, kw = 0, cin = 0] = filter;
    return 2 * product(out) * kh * kw * cin;
  }
  if (name === 'DepthwiseConv2dNative' || name === 'FusedDepthwiseConv2D') {
    const [kh = 0, kw = 0] = inputs[1] ?? [];
    return 2 * product(out) * kh * kw;
  }
  if (name === 'BatchMatMul' || name === '_FusedMatMul' || name === 'MatMul') {
    const a = inputs[0] ?? [];
    const b = inputs[1] ?? [];
    // |a|·|b| / |out| = B·K² for a [B, M, K] times b [B, K, N] (transposes do not change it).
    const k = Math.sqrt((product(a) * product(b)) / Math.max(1, product(out)) / batchOf(a, b));
    return 2 * product(out) * Math.round(k);
  }
  return 0;
}

function batchOf(a: Shape, b: Shape): number {
  const batchA = product(a.slice(0, -2));
  const batchB = product(b.slice(0, -2));
  return Math.max(batchA, batchB, 1);
}

/** Forward FLOPs for one image of `config` (profiled on a batch of one). */
export async function forwardFlopsPerImage<C>(arch: Architecture<C>, config: C, state: ModelState): Promise<number> {
  const [h, w, c] = arch.spec(config).inputShape;
  const x = tf.zeros<tf.Rank.R4>([1, h, w, c]);
  const info = await tf.profile(() => {
    const { logits } = arch.apply(config, state, x, { training: false });
    return logits;
  });
  x.dispose();
  tf.dispose(info.result);
  let flops = 0;
  for (const k of info.kernels) flops += kernelFlops(k.name, k.inputShapes, k.outputShapes);
  return flops;
}
