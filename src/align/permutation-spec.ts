/**
 * Permutation symmetries of an architecture (Ainsworth, Hayase, Srinivasa 2023, "Git Re-Basin:
 * Merging Models modulo Permutation Symmetries"): permuting the hidden units of a layer — the
 * output axis of its weight, its bias and the normalization after it — and the input axis of every
 * consumer with the same permutation leaves the function unchanged.
 *
 * A `PermutationGroup` P_l lists every tensor axis P_l acts on. An axis may hold P_l in blocks:
 * with `stride` s the axis index is i = o·(n·s) + p·s + r and P_l acts on p (n = group size). LeNet5's
 * fc1 input is the NHWC flatten of 5×5×16, i = (h·5 + w)·16 + c, so conv2's permutation acts on c
 * with stride 1 in each of the 25 spatial blocks.
 *
 * Convention everywhere: permuting by σ gives T′[…, i, …] = T[…, σ(i), …].
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelSpec, ModelState, TensorMap } from '../models/types.js';

/** One axis of one tensor that a permutation acts on. */
export interface PermutedAxis {
  readonly tensor: string;
  readonly axis: number;
  /** Length of the innermost block (default 1): index = o·(size·stride) + p·stride + r, P acts on p. */
  readonly stride?: number;
}

/** A permutation P_l of `size` units and every tensor axis it acts on. */
export interface PermutationGroup {
  readonly name: string;
  readonly size: number;
  readonly axes: readonly PermutedAxis[];
}

export interface PermutationSpec {
  readonly groups: readonly PermutationGroup[];
}

/** Permutations by group name; each an Int32Array σ with T′[i] = T[σ(i)]. */
export type Permutations = ReadonlyMap<string, Int32Array>;

function shapeOf(spec: ModelSpec, name: string): readonly number[] {
  const t = spec.params.find((p) => p.name === name) ?? spec.buffers.find((p) => p.name === name);
  if (t === undefined) throw new Error(`permutation spec: the model has no tensor "${name}"`);
  return t.shape;
}

/** Output channels of a layer and, with BN, its affine parameters and running statistics. */
function unitsOf(spec: ModelSpec, weight: string, extras: readonly string[]): PermutedAxis[] {
  const rank = shapeOf(spec, weight).length;
  return [{ tensor: weight, axis: rank - 1 }, ...extras.filter((n) => hasTensor(spec, n)).map((tensor) => ({ tensor, axis: 0 }))];
}

function hasTensor(spec: ModelSpec, name: string): boolean {
  return spec.params.some((p) => p.name === name) || spec.buffers.some((p) => p.name === name);
}

function bnNames(bn: string): string[] {
  return [`${bn}.weight`, `${bn}.bias`, `${bn}.running_mean`, `${bn}.running_var`];
}

/**
 * LeNet5: conv1 out ↔ conv2 in; conv2 out ↔ fc1 in (channel index of each spatial block of the NHWC
 * flatten); fc1 out ↔ fc2 in; fc2 out ↔ fc3 in. The logits are not permuted.
 */
export function lenet5PermutationSpec(spec: ModelSpec): PermutationSpec {
  const size = (name: string): number => shapeOf(spec, name).at(-1) as number;
  const fc1In = shapeOf(spec, 'fc1.weight')[0] as number;
  const c2 = size('conv2.weight');
  if (fc1In % c2 !== 0) throw new Error(`lenet5 permutation spec: fc1.weight has ${fc1In} inputs, not a multiple of conv2's ${c2} channels`);
  return {
    groups: [
      { name: 'conv1', size: size('conv1.weight'), axes: [...unitsOf(spec, 'conv1.weight', ['conv1.bias']), { tensor: 'conv2.weight', axis: 2 }] },
      { name: 'conv2', size: c2, axes: [...unitsOf(spec, 'conv2.weight', ['conv2.bias']), { tensor: 'fc1.weight', axis: 0, stride: 1 }] },
      { name: 'fc1', size: size('fc1.weight'), axes: [...unitsOf(spec, 'fc1.weight', ['fc1.bias']), { tensor: 'fc2.weight', axis: 0 }] },
      { name: 'fc2', size: size('fc2.weight'), axes: [...unitsOf(spec, 'fc2.weight', ['fc2.bias']), { tensor: 'fc3.weight', axis: 0 }] },
    ],
  };
}

/**
 * ResNet18 (torchvision names): one permutation per residual stream — the stem and layer1 share one,
 * and each stage whose first block has a downsample shortcut starts a new one (the downsample conv
 * ties its output to the stream) — plus one per block for the hidden units between conv1 and
 * conv2. BatchNorm affine parameters and running statistics permute with their conv.
 */
export function resnet18PermutationSpec(spec: ModelSpec): PermutationSpec {
  const blocks = spec.params
    .map((p) => /^(layer\d+\.\d+)\.conv1\.weight$/.exec(p.name)?.[1])
    .filter((p): p is string => p !== undefined);
  const groups: PermutationGroup[] = [];
  const channels = (name: string): number => shapeOf(spec, name).at(-1) as number;
  let streams = 0;
  let stream: { name: string; size: number; axes: PermutedAxis[] } = {
    name: 'stream0',
    size: channels('conv1.weight'),
    axes: unitsOf(spec, 'conv1.weight', bnNames('bn1')),
  };
  for (const p of blocks) {
    // The block reads the current stream.
    stream.axes.push({ tensor: `${p}.conv1.weight`, axis: 2 });
    const downsample = hasTensor(spec, `${p}.downsample.0.weight`);
    if (downsample) {
      stream.axes.push({ tensor: `${p}.downsample.0.weight`, axis: 2 });
      groups.push(stream);
      streams += 1;
      stream = {
        name: `stream${streams}`,
        size: channels(`${p}.downsample.0.weight`),
        axes: unitsOf(spec, `${p}.downsample.0.weight`, bnNames(`${p}.downsample.1`)),
      };
    }
    groups.push({
      name: `${p}.hidden`,
      size: channels(`${p}.conv1.weight`),
      axes: [...unitsOf(spec, `${p}.conv1.weight`, bnNames(`${p}.bn1`)), { tensor: `${p}.conv2.weight`, axis: 2 }],
    });
    // The block writes the stream (its residual sum).
    stream.axes.push(...unitsOf(spec, `${p}.conv2.weight`, bnNames(`${p}.bn2`)));
  }
  stream.axes.push({ tensor: 'fc.weight', axis: 0 });
  groups.push(stream);
  return { groups };
}

/** The permutation spec of a known architecture. */
export function permutationSpecFor(architecture: string, spec: ModelSpec): PermutationSpec {
  if (architecture === 'lenet5') return lenet5PermutationSpec(spec);
  if (architecture === 'resnet18') return resnet18PermutationSpec(spec);
  throw new Error(`permutation spec: not defined for architecture "${architecture}" (known: lenet5, resnet18)`);
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
