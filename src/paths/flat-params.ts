/**
 * Parameter maps as one flat vector and back, for methods that treat a network as a point in
 * R^D (AutoNEB chains: distances, tangents, projections). The order is the map's order, each
 * tensor row-major.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TensorMap } from '../models/types.js';

/** Names, shapes and sizes of the tensors packed into a flat vector. */
export interface FlatLayout {
  readonly names: readonly string[];
  readonly shapes: readonly (readonly number[])[];
  readonly sizes: readonly number[];
  /** D, the length of the flat vector. */
  readonly total: number;
}

/** The layout of `params` (names in map order). */
export function flatLayout(params: TensorMap): FlatLayout {
  const names = [...params.keys()];
  const shapes = names.map((n) => (params.get(n) as tf.Tensor).shape);
  const sizes = names.map((n) => (params.get(n) as tf.Tensor).size);
  return { names, shapes, sizes, total: sizes.reduce((a, b) => a + b, 0) };
}

/** Concatenates the tensors of `params` in layout order into one vector of length D. */
export function flattenParams(params: TensorMap, layout: FlatLayout): tf.Tensor1D {
  return tf.tidy(() =>
    tf.concat<tf.Tensor1D>(
      layout.names.map((name, i) => {
        const tensor = params.get(name);
        if (tensor === undefined) throw new Error(`flattenParams: tensor "${name}" is missing`);
        if (tensor.size !== layout.sizes[i]) throw new Error(`flattenParams: tensor "${name}" has ${tensor.size} values, the layout expects ${layout.sizes[i]}`);
        return tf.reshape<tf.Rank.R1>(tensor, [-1]);
      }),
    ),
  );
}

/** Splits a flat vector back into named tensors; differentiable, so usable inside gradient functions. */
export function unflattenParams(flat: tf.Tensor1D, layout: FlatLayout): Map<string, tf.Tensor> {
  if (flat.shape[0] !== layout.total) throw new Error(`unflattenParams: expected a vector of length ${layout.total}, found ${flat.shape[0]}`);
  const parts = tf.split(flat, [...layout.sizes]);
  return new Map(
    layout.names.map((name, i) => {
      const part = parts[i] as tf.Tensor;
      const shaped = tf.reshape(part, [...(layout.shapes[i] as number[])]);
      part.dispose();
      return [name, shaped];
    }),
  );
}
