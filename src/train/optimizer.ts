/**
 * First-order optimizers on named parameter maps, with PyTorch's update rules so that runs are
 * comparable with the reference implementations.
 *
 * SGD (torch.optim.SGD): g ← ∇ + wd·θ; v ← μ·v + g (v₀ = g); step = nesterov ? g + μ·v : v; θ ← θ − lr·step.
 * Adam (torch.optim.Adam, L2 weight decay added to the gradient):
 *   m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²; θ ← θ − lr·(m/(1−β₁ᵗ)) / (√(v/(1−β₂ᵗ)) + ε).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TensorMap } from '../models/types.js';

export type OptimizerConfig =
  | { readonly kind: 'sgd'; readonly momentum?: number; readonly nesterov?: boolean; readonly weightDecay?: number }
  | {
      readonly kind: 'adam';
      readonly beta1?: number;
      readonly beta2?: number;
      readonly epsilon?: number;
      readonly weightDecay?: number;
    };

export interface Optimizer {
  readonly config: OptimizerConfig;
  /**
   * One update with learning rate `lr`. Returns new parameter tensors; the caller disposes the
   * old ones. Gradients are not disposed. Names without a gradient are copied unchanged.
   */
  step(params: TensorMap, grads: TensorMap, lr: number): Map<string, tf.Tensor>;
  /** Slot tensors (momentum, Adam moments) by name, for checkpointing a run. */
  slots(): Map<string, tf.Tensor>;
  /** Restores slots saved by `slots()`. */
  loadSlots(slots: TensorMap, stepCount: number): void;
  readonly stepCount: number;
  dispose(): void;
}

/** Creates an optimizer; it owns its slot tensors until `dispose()`. */
export function createOptimizer(config: OptimizerConfig): Optimizer {
  const slots = new Map<string, tf.Tensor>();
  let stepCount = 0;
  const setSlot = (key: string, value: tf.Tensor): void => {
    slots.get(key)?.dispose();
    slots.set(key, tf.keep(value));
  };
  return {
    config,
    get stepCount() {
      return stepCount;
    },
    step(params, grads, lr) {
      stepCount += 1;
      const out = new Map<string, tf.Tensor>();
      for (const [name, param] of params) {
        const grad = grads.get(name);
        if (grad === undefined) {
          out.set(name, param.clone());
          continue;
        }
        out.set(
          name,
          tf.tidy(() => {
            const wd = config.weightDecay ?? 0;
            const g = wd === 0 ? grad : tf.add(grad, tf.mul(param, wd));
            if (config.kind === 'sgd') {
              const mu = config.momentum ?? 0;
              if (mu === 0) return tf.sub(param, tf.mul(g, lr));
              const previous = slots.get(`${name}.momentum`);
              const v = previous === undefined ? g.clone() : tf.add(tf.mul(previous, mu), g);
              setSlot(`${name}.momentum`, v);
              const direction = config.nesterov === true ? tf.add(g, tf.mul(v, mu)) : v;
              return tf.sub(param, tf.mul(direction, lr));
            }
            const b1 = config.beta1 ?? 0.9;
            const b2 = config.beta2 ?? 0.999;
            const eps = config.epsilon ?? 1e-8;
            const m0 = slots.get(`${name}.m`);
            const v0 = slots.get(`${name}.v`);
            const m = tf.add(tf.mul(m0 ?? tf.zerosLike(g), b1), tf.mul(g, 1 - b1));
            const v = tf.add(tf.mul(v0 ?? tf.zerosLike(g), b2), tf.mul(tf.square(g), 1 - b2));
            setSlot(`${name}.m`, m);
            setSlot(`${name}.v`, v);
            const mHat = tf.div(m, 1 - b1 ** stepCount);
            const vHat = tf.div(v, 1 - b2 ** stepCount);
            return tf.sub(param, tf.mul(tf.div(mHat, tf.add(tf.sqrt(vHat), eps)), lr));
          }),
        );
      }
      return out;
    },
    slots: () => new Map([...slots].map(([k, v]) => [k, v.clone()])),
    loadSlots(saved, count) {
      for (const [k, v] of saved) setSlot(k, v.clone());
      stepCount = count;
    },
    dispose() {
      for (const t of slots.values()) t.dispose();
      slots.clear();
    },
  };
}
