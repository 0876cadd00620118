/**
 * The curve objective's gradient with the point gradient computed data-parallel on a gradient
 * pool (src/train/gradient-pool.ts), for curve training on every core.
 *
 * For θ(t) = Σ_i c_i(t)·w_i and ℓ(w) = CE(θ(t)) + ½·wd·‖θ(t)‖², the chain rule gives
 *
 *   ∂ℓ/∂w_i = c_i(t)·(∇_θ CE(θ(t)) + wd·θ(t)),
 *
 * so the workers only need ∇_θ CE at the one point θ(t): the same model gradient as mode
 * training. The result has `curveLossAndGradients`'s contract (train-curve.ts) and equals it up
 * to float rounding (there the gradient is taken by differentiating through the combination).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GradientPool, PoolBatch } from '../train/gradient-pool.js';
import { curveCoefficients, type Curve } from './curve.js';
import { bendKey, type CurveLossAndGradients } from './train-curve.js';

/** `curveLossAndGradients` with ∇_θ CE(θ(t)) from `pool` (formula in the module doc). */
export async function pooledCurveLossAndGradients<C>(
  pool: GradientPool,
  curve: Curve<C>,
  batch: PoolBatch,
  t: number,
  weightDecay: number,
): Promise<CurveLossAndGradients> {
  const coefficients = curveCoefficients(curve.kind, curve.bends.length, t);
  const first = curve.bends[0];
  if (first === undefined) throw new Error('pooledCurveLossAndGradients: the curve has no bends');
  const trainableBends = curve.trainable.flatMap((trainable, i) => (trainable ? [i] : []));
  if (trainableBends.length === 0) throw new Error('pooledCurveLossAndGradients: no bend is trainable');
  const names = [...first.keys()];
  const point = new Map(
    names.map((name) => [name, tf.tidy(() => tf.addN(curve.bends.map((bend, i) => tf.mul(bend.get(name) as tf.Tensor, coefficients[i] as number))))]),
  );
  try {
    const computed = await pool.lossAndGradients({ params: point, buffers: curve.endpointBuffers[0] }, batch);
    tf.dispose([computed.correct, ...computed.batchStats.values()]);
    const grads = new Map<string, tf.Tensor>();
    const objective = tf.tidy((): tf.Scalar => {
      for (const name of names) {
        const g = computed.grads.get(name) as tf.Tensor;
        const total = weightDecay === 0 ? g : tf.add(g, tf.mul(point.get(name) as tf.Tensor, weightDecay));
        for (const i of trainableBends) grads.set(bendKey(i, name), tf.keep(tf.mul(total, coefficients[i] as number)));
      }
      if (weightDecay === 0) return computed.loss.clone();
      const squared = tf.addN([...point.values()].map((p) => tf.sum(tf.square(p))));
      return tf.add<tf.Scalar>(computed.loss, tf.mul(squared, 0.5 * weightDecay));
    });
    tf.dispose([...computed.grads.values()]);
    // Keys in trainCurve's order: bend by bend, tensor by tensor.
    const ordered = new Map(trainableBends.flatMap((i) => names.map((name) => [bendKey(i, name), grads.get(bendKey(i, name)) as tf.Tensor] as const)));
    return { objective, loss: computed.loss, grads: ordered };
  } finally {
    tf.dispose([...point.values()]);
  }
}
