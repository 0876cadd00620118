/**
 * REPAIR (Jordan, Sedghi, Saukh, Entezari, Neyshabur 2023, "REPAIR: REnormalizing Permuted
 * Activations for Interpolation Repair"): after interpolating two (aligned) networks,
 * θ(t) = (1 − t)·θ_A + t·θ_B, the hidden activations collapse in variance. REPAIR sets, for every
 * hidden channel c, the statistics of the interpolated network's pre-activations to
 *
 *   μ_goal = (1 − t)·μ_A + t·μ_B,   σ_goal = (1 − t)·σ_A + t·σ_B
 *
 * (as in KellerJordan/REPAIR: a BatchNorm-like layer is inserted after each conv/linear, with its
 * statistics reset on data and affine parameters set to the goal, then fused back). What we
 * implement for networks without BatchNorm (those whose architecture defines activation hooks,
 * `Architecture.activations`, e.g. LeNet5): per hidden layer, input side first, measure
 * μ_c and σ_c (population std over all examples and positions) of the pre-activation
 * z_c = W_c·x + b_c of the current, already partly corrected network, then fuse the affine
 * correction into the layer:
 *
 *   W_c ← W_c·σ_goal/σ_c,   b_c ← (b_c − μ_c)·σ_goal/σ_c + μ_goal
 *
 * This is an exact per-channel affine map of z (before the ReLU), so after it z has exactly the
 * goal mean and std on the same data; no homogeneity of the ReLU is needed. Layers are corrected in
 * order so each sees the corrected layers before it. The logits layer is not corrected. Channels
 * with σ_c < 1e-8 (dead on the data) are left unchanged.
 *
 * For networks with BatchNorm the equivalent step is a BN reset (re-estimating the running
 * statistics on data at θ(t)); that is the barrier module's `reestimateBatchNorm`, used as is.
 */
import * as tf from '@tensorflow/tfjs-core';
import { reestimateBatchNorm } from '../evaluate/bn-reset.js';
import { missingCapability, type ActivationHooks } from '../models/capabilities.js';
import type { Architecture, ModelState } from '../models/types.js';

/** Per-channel mean and population std of one layer's pre-activations. */
export interface ChannelStats {
  readonly mean: Float64Array;
  readonly std: Float64Array;
}

/** Per-channel pre-activation statistics of the hidden layers over `batches` (float64 sums). */
export function channelStats(activations: ActivationHooks, state: ModelState, batches: readonly { readonly x: tf.Tensor4D }[]): Map<string, ChannelStats> {
  const acc = new Map<string, { n: number; s: Float64Array; ss: Float64Array }>();
  for (const batch of batches) {
    const { hidden, logits } = activations.preActivations(state, batch.x);
    for (const [name, z] of hidden) {
      const [s, ss] = tf.tidy((): tf.Tensor[] => [tf.sum(z, 0), tf.sum(tf.square(z), 0)]);
      const a = acc.get(name) ?? { n: 0, s: new Float64Array(z.shape[1]), ss: new Float64Array(z.shape[1]) };
      a.n += z.shape[0];
      const sv = (s as tf.Tensor).dataSync();
      const ssv = (ss as tf.Tensor).dataSync();
      for (let i = 0; i < a.s.length; i++) {
        a.s[i] = (a.s[i] as number) + (sv[i] as number);
        a.ss[i] = (a.ss[i] as number) + (ssv[i] as number);
      }
      acc.set(name, a);
      tf.dispose([s, ss] as tf.Tensor[]);
    }
    tf.dispose([logits, ...hidden.values()]);
  }
  const out = new Map<string, ChannelStats>();
  for (const [name, a] of acc) {
    const mean = a.s.map((v) => v / a.n);
    const std = a.ss.map((v, i) => Math.sqrt(Math.max(0, v / a.n - (mean[i] as number) ** 2)));
    out.set(name, { mean, std });
  }
  return out;
}

export interface RepairInput {
  /** The interpolated network θ(t) (not modified). */
  readonly interpolated: ModelState;
  /** Endpoint A (t = 0). */
  readonly a: ModelState;
  /** Endpoint B (t = 1), already aligned to A if it was permuted. */
  readonly b: ModelState;
  readonly t: number;
}

/**
 * The REPAIRed network (new tensors; the caller owns them): BN reset for models with BatchNorm,
 * the per-channel statistics correction for models without (through the architecture's
 * activation hooks). `batches` are training images.
 */
export function repairInterpolated<Config>(
  arch: Architecture<Config>,
  config: Config,
  input: RepairInput,
  batches: readonly { readonly x: tf.Tensor4D }[],
): ModelState {
  if (batches.length === 0) throw new Error('repairInterpolated: no batches given');
  if (!(input.t >= 0 && input.t <= 1)) throw new Error(`repairInterpolated: t must be in [0, 1], found ${input.t}`);
  const spec = arch.spec(config);
  if (spec.buffers.length > 0) {
    const buffers = reestimateBatchNorm(arch, config, input.interpolated, batches);
    return { params: new Map([...input.interpolated.params].map(([n, p]) => [n, p.clone()])), buffers };
  }
  const hooks = arch.activations;
  if (hooks === undefined) {
    throw missingCapability(arch.name, 'activation hooks (activations)', 'repairInterpolated', 'a model without BatchNorm needs them for the statistics correction');
  }
  const statsA = channelStats(hooks, input.a, batches);
  const statsB = channelStats(hooks, input.b, batches);
  const t = input.t;
  let params = new Map([...input.interpolated.params].map(([n, p]) => [n, p.clone()]));
  for (const { name: layer, weight, bias: biasName } of hooks.hidden) {
    const stats = (all: Map<string, ChannelStats>, which: string): ChannelStats => {
      const found = all.get(layer);
      if (found === undefined) throw new Error(`repairInterpolated: ${arch.name} activation hooks gave no pre-activations for hidden layer "${layer}" (${which})`);
      return found;
    };
    const current = stats(channelStats(hooks, { params, buffers: input.interpolated.buffers }, batches), 'interpolated');
    const sa = stats(statsA, 'A');
    const sb = stats(statsB, 'B');
    const c = current.mean.length;
    const scale = new Float32Array(c);
    const shift = new Float32Array(c);
    for (let i = 0; i < c; i++) {
      const std = current.std[i] as number;
      const goalMean = (1 - t) * (sa.mean[i] as number) + t * (sb.mean[i] as number);
      const goalStd = (1 - t) * (sa.std[i] as number) + t * (sb.std[i] as number);
      if (std < 1e-8) {
        scale[i] = 1;
        shift[i] = 0;
      } else {
        scale[i] = goalStd / std;
        shift[i] = goalMean - (current.mean[i] as number) * (goalStd / std);
      }
    }
    const w = params.get(weight);
    const bias = params.get(biasName);
    if (w === undefined || bias === undefined) throw new Error(`repairInterpolated: hidden layer "${layer}" of ${arch.name}: parameter "${w === undefined ? weight : biasName}" is missing`);
    // z′ = scale·z + shift = (scale·W)x + (scale·b + shift); the output channel is W's last axis.
    const next = new Map(params);
    next.set(weight, tf.tidy(() => tf.mul(w, tf.tensor1d(scale))));
    next.set(biasName, tf.tidy(() => tf.add(tf.mul(bias, tf.tensor1d(scale)), tf.tensor1d(shift))));
    tf.dispose([w, bias]);
    params = next;
  }
  return { params, buffers: new Map([...input.interpolated.buffers].map(([n, p]) => [n, p.clone()])) };
}
