/**
 * Operations on named tensor maps (parameter maps and buffer maps): the vocabulary that
 * interpolation, curves, layer-wise operations and averaging are written in.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelState, TensorMap } from './types.js';

/** Disposes every tensor of the given maps or states. */
export function disposeTensors(...items: readonly (TensorMap | ModelState | undefined)[]): void {
  for (const item of items) {
    if (item === undefined) continue;
    if (isModelState(item)) {
      disposeTensors(item.params, item.buffers);
    } else {
      for (const tensor of item.values()) tensor.dispose();
    }
  }
}

function isModelState(item: TensorMap | ModelState): item is ModelState {
  return 'params' in item && 'buffers' in item && !(item instanceof Map);
}

/** A new map with `fn` applied to every tensor (same names, same order). */
export function mapTensors(map: TensorMap, fn: (tensor: tf.Tensor, name: string) => tf.Tensor): Map<string, tf.Tensor> {
  const out = new Map<string, tf.Tensor>();
  for (const [name, tensor] of map) out.set(name, fn(tensor, name));
  return out;
}

/** Independent copies of every tensor. */
export function cloneTensors(map: TensorMap): Map<string, tf.Tensor> {
  return mapTensors(map, (t) => t.clone());
}

/**
 * Checks that two maps hold the same names in the same order with the same shapes and dtypes.
 * Throws an error naming `what` and the first tensor that differs.
 */
export function assertSameLayout(a: TensorMap, b: TensorMap, what: string): void {
  const namesA = [...a.keys()];
  const namesB = new Set(b.keys());
  const missing = namesA.filter((n) => !namesB.has(n));
  const extra = [...b.keys()].filter((n) => !a.has(n));
  if (missing.length > 0 || extra.length > 0) {
    throw new Error(
      `${what}: tensor sets differ` +
        (missing.length > 0 ? `; only in the first: ${missing.slice(0, 5).join(', ')}` : '') +
        (extra.length > 0 ? `; only in the second: ${extra.slice(0, 5).join(', ')}` : ''),
    );
  }
  for (const [name, ta] of a) {
    const tb = b.get(name) as tf.Tensor;
    if (ta.shape.join('x') !== tb.shape.join('x') || ta.dtype !== tb.dtype) {
      throw new Error(`${what}: tensor "${name}" is ${ta.dtype}[${ta.shape.join(', ')}] in the first and ${tb.dtype}[${tb.shape.join(', ')}] in the second`);
    }
  }
}

/**
 * Linear interpolation θ(t) = (1 − t)·θ_A + t·θ_B, tensor by tensor.
 * Only the names in `only` are interpolated when given; the others are copied from `a`.
 */
export function interpolateTensors(a: TensorMap, b: TensorMap, t: number, only?: ReadonlySet<string>): Map<string, tf.Tensor> {
  return mapTensors(a, (ta, name) => {
    const tb = b.get(name);
    if (tb === undefined) throw new Error(`interpolate: tensor "${name}" is missing from the second map`);
    if (only !== undefined && !only.has(name)) return ta.clone();
    return tf.tidy(() => (t === 0 ? ta.clone() : t === 1 ? tb.clone() : tf.add(tf.mul(ta, 1 - t), tf.mul(tb, t))));
  });
}

/** Σ_i ‖a_i‖² over the map, or over the names in `only`. */
export function squaredNorm(map: TensorMap, only?: ReadonlySet<string>): number {
  let total = 0;
  for (const [name, tensor] of map) {
    if (only !== undefined && !only.has(name)) continue;
    const sum = tf.tidy(() => tf.sum(tf.square(tensor)));
    total += sum.dataSync()[0] as number;
    sum.dispose();
  }
  return total;
}

/** Number of scalars in the map. */
export function countScalars(map: TensorMap): number {
  let total = 0;
  for (const tensor of map.values()) total += tensor.size;
  return total;
}
