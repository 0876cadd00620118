/**
 * Permutation symmetries of an architecture (Ainsworth, Hayase, Srinivasa 2023, "Git Re-Basin:
 * Merging Models modulo Permutation Symmetries"): permuting the hidden units of a layer — the
 * output axis of its weight, its bias and the normalization after it — and the input axis of every
 * consumer with the same permutation leaves the function unchanged.
 *
 * A `PermutationGroup` P_l lists every tensor axis P_l acts on. An axis may hold P_l in blocks:
 * with `stride` s the axis index is i = o·(n·s) + p·s + r and P_l acts on p (n = group size), e.g.
 * a dense layer reading an NHWC flatten. Each architecture defines its spec in its own folder
 * (`Architecture.permutationSpec`, e.g. src/models/lenet5/permutation-spec.ts).
 *
 * Convention everywhere: permuting by σ gives T′[…, i, …] = T[…, σ(i), …].
 */
import * as tf from '@tensorflow/tfjs-core';
import { missingCapability, type PermutationGroup, type PermutationSpec, type PermutedAxis } from '../models/capabilities.js';
import { getArchitecture, listArchitectures } from '../models/registry.js';
import type { Architecture, ModelSpec, ModelState, TensorMap } from '../models/types.js';

export type { PermutedAxis, PermutationGroup, PermutationSpec } from '../models/capabilities.js';

/** Permutations by group name; each an Int32Array σ with T′[i] = T[σ(i)]. */
export type Permutations = ReadonlyMap<string, Int32Array>;

/**
 * The permutation spec of a registered architecture (its `permutationSpec`, defined in its own
 * folder); the error names the architecture and the ones that define a spec.
 */
export function permutationSpecFor(architecture: string | Architecture<unknown>, spec: ModelSpec): PermutationSpec {
  const arch = typeof architecture === 'string' ? getArchitecture(architecture) : architecture;
  if (arch.permutationSpec === undefined) {
    const defined = listArchitectures().filter((name) => getArchitecture(name).permutationSpec !== undefined);
    throw missingCapability(arch.name, 'a permutation spec (permutationSpec)', 'permutation spec', `weight matching needs one; defined for ${defined.join(', ')}`);
  }
  return arch.permutationSpec(spec);
}

/** Checks that every axis of the spec exists in `tensors` and is a multiple of size·stride. */
export function checkPermutationSpec(spec: PermutationSpec, tensors: TensorMap): void {
  for (const g of spec.groups) {
    for (const a of g.axes) {
      const t = tensors.get(a.tensor);
      if (t === undefined) throw new Error(`permutation "${g.name}": tensor "${a.tensor}" is not in the model`);
      const length = t.shape[a.axis];
      const block = g.size * (a.stride ?? 1);
      if (length === undefined || length % block !== 0) {
        throw new Error(`permutation "${g.name}": axis ${a.axis} of "${a.tensor}" [${t.shape.join(', ')}] is not a multiple of ${g.size}×${a.stride ?? 1}`);
      }
    }
  }
}

/** σ⁻¹ with σ⁻¹[σ[i]] = i. */
export function invertPermutation(perm: Int32Array): Int32Array {
  const out = new Int32Array(perm.length);
  for (let i = 0; i < perm.length; i++) out[perm[i] as number] = i;
  return out;
}

/** T′ with axis `axis` (in blocks of `stride`) permuted by σ: T′[…, i, …] = T[…, σ(i), …]. */
export function permuteAxis(tensor: tf.Tensor, axis: number, perm: Int32Array, stride = 1): tf.Tensor {
  return tf.tidy(() => {
    const shape = tensor.shape;
    const length = shape[axis] as number;
    const n = perm.length;
    const pre = shape.slice(0, axis).reduce((a, b) => a * b, 1);
    const post = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
    const outer = length / (n * stride);
    const indices = tf.tensor1d(perm, 'int32');
    const reshaped = tf.reshape(tensor, [pre, outer, n, stride, post]);
    // The final ×1 gives the result storage of its own shape: on the wasm backend a gather or
    // reshape output shares storage recorded with another rank, and the fused conv kernel reads
    // that rank and rejects such a tensor as a bias ("only supports rank-1 bias"). ×1 is exact.
    return tf.mul(tf.reshape(tf.gather(reshaped, indices, 2), shape), 1);
  });
}

/** Permutation entries acting on each tensor: tensor → [(group, axis)]. */
export function axesByTensor(spec: PermutationSpec): Map<string, { group: PermutationGroup; axis: PermutedAxis }[]> {
  const out = new Map<string, { group: PermutationGroup; axis: PermutedAxis }[]>();
  for (const group of spec.groups) {
    for (const axis of group.axes) {
      const list = out.get(axis.tensor) ?? [];
      list.push({ group, axis });
      out.set(axis.tensor, list);
    }
  }
  return out;
}

/** One tensor with every permutation of the spec that acts on it applied, except group `except`. */
export function permuteTensor(
  tensor: tf.Tensor,
  entries: readonly { group: PermutationGroup; axis: PermutedAxis }[],
  perms: Permutations,
  except?: string,
): tf.Tensor {
  let current = tensor;
  for (const { group, axis } of entries) {
    if (group.name === except) continue;
    const perm = perms.get(group.name);
    if (perm === undefined) continue;
    const next = permuteAxis(current, axis.axis, perm, axis.stride ?? 1);
    if (current !== tensor) current.dispose();
    current = next;
  }
  return current === tensor ? tensor.clone() : current;
}

/**
 * The model with every permutation applied to parameters and BatchNorm buffers alike. Groups
 * missing from `perms` are the identity. The result computes the same function as `state`.
 */
export function applyPermutation(state: ModelState, spec: PermutationSpec, perms: Permutations): ModelState {
  for (const g of spec.groups) {
    const p = perms.get(g.name);
    if (p === undefined) continue;
    if (p.length !== g.size) throw new Error(`applyPermutation: permutation "${g.name}" has ${p.length} entries, the group has ${g.size} units`);
    const seen = new Uint8Array(g.size);
    for (const v of p) {
      if (!(v >= 0 && v < g.size) || seen[v] === 1) throw new Error(`applyPermutation: "${g.name}" is not a permutation of 0..${g.size - 1}`);
      seen[v] = 1;
    }
  }
  checkPermutationSpec(spec, new Map([...state.params, ...state.buffers]));
  const entries = axesByTensor(spec);
  const apply = (map: TensorMap): Map<string, tf.Tensor> => {
    const out = new Map<string, tf.Tensor>();
    for (const [name, t] of map) out.set(name, permuteTensor(t, entries.get(name) ?? [], perms));
    return out;
  };
  return { params: apply(state.params), buffers: apply(state.buffers) };
}
