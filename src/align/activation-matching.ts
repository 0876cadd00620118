/**
 * Git Re-Basin activation matching (Ainsworth et al. 2023, §3.1): for each hidden layer, permute
 * B's units to maximize the summed correlation with A's units over data,
 *
 *   C[i, j] = cov(a_i, b_j) / (σ(a_i)·σ(b_j)),   π_l = argmax_σ Σ_i C[i, σ(i)]
 *
 * on post-ReLU activations (conv layers: every spatial position counts as a sample). Each layer's
 * activations of B do not depend on the other layers' permutations, so one pass over the data
 * solves every layer. Needs the architecture's activation hooks (`Architecture.activations`, e.g.
 * src/models/lenet5/activations.ts); architectures without them use weight matching.
 */
import * as tf from '@tensorflow/tfjs-core';
import { missingCapability } from '../models/capabilities.js';
import { getArchitecture, listArchitectures } from '../models/registry.js';
import type { Architecture, ModelState } from '../models/types.js';
import { linearSumAssignment } from './lsap.js';

interface Sums {
  count: number;
  sa: Float64Array;
  sb: Float64Array;
  saa: Float64Array;
  sbb: Float64Array;
  sab: Float64Array;
}

/**
 * Permutations (by the names of the architecture's hidden layers, which are its permutation
 * groups) aligning B's hidden units to A's; apply with
 * `applyPermutation(b, permutationSpecFor(architecture, spec), perms)`.
 */
export function activationMatching(architecture: string | Architecture<unknown>, a: ModelState, b: ModelState, batches: readonly { readonly x: tf.Tensor4D }[]): Map<string, Int32Array> {
  const arch = typeof architecture === 'string' ? getArchitecture(architecture) : architecture;
  const hooks = arch.activations;
  if (hooks === undefined) {
    const defined = listArchitectures().filter((name) => getArchitecture(name).activations !== undefined);
    throw missingCapability(arch.name, 'activation hooks (activations)', 'activationMatching', `defined for ${defined.join(', ')}${defined.length === 1 ? ' only' : ''}; use weightMatching`);
  }
  if (batches.length === 0) throw new Error('activationMatching: no batches given');
  const sums = new Map<string, Sums>();
  for (const batch of batches) {
    const ra = hooks.preActivations(a, batch.x);
    const rb = hooks.preActivations(b, batch.x);
    for (const { name } of hooks.hidden) {
      const za = ra.hidden.get(name);
      const zb = rb.hidden.get(name);
      if (za === undefined || zb === undefined) throw new Error(`activationMatching: ${arch.name} activation hooks gave no pre-activations for hidden layer "${name}"`);
      const c = za.shape[1];
      const [sa, sb, saa, sbb, sab] = tf.tidy((): tf.Tensor[] => {
        const pa = tf.relu(za);
        const pb = tf.relu(zb);
        return [tf.sum(pa, 0), tf.sum(pb, 0), tf.sum(tf.square(pa), 0), tf.sum(tf.square(pb), 0), tf.matMul(pa, pb, true, false)];
      });
      const s = sums.get(name) ?? { count: 0, sa: new Float64Array(c), sb: new Float64Array(c), saa: new Float64Array(c), sbb: new Float64Array(c), sab: new Float64Array(c * c) };
      s.count += za.shape[0];
      const add = (acc: Float64Array, t: tf.Tensor): void => {
        const v = t.dataSync();
        for (let i = 0; i < acc.length; i++) acc[i] = (acc[i] as number) + (v[i] as number);
      };
      add(s.sa, sa as tf.Tensor);
      add(s.sb, sb as tf.Tensor);
      add(s.saa, saa as tf.Tensor);
      add(s.sbb, sbb as tf.Tensor);
      add(s.sab, sab as tf.Tensor);
      sums.set(name, s);
      tf.dispose([sa, sb, saa, sbb, sab] as tf.Tensor[]);
    }
    tf.dispose([ra.logits, rb.logits, ...ra.hidden.values(), ...rb.hidden.values()]);
  }
  const perms = new Map<string, Int32Array>();
  for (const [name, s] of sums) {
    const c = s.sa.length;
    const n = s.count;
    const corr = new Float64Array(c * c);
    for (let i = 0; i < c; i++) {
      const ma = (s.sa[i] as number) / n;
      const va = Math.max(0, (s.saa[i] as number) / n - ma * ma);
      for (let j = 0; j < c; j++) {
        const mb = (s.sb[j] as number) / n;
        const vb = Math.max(0, (s.sbb[j] as number) / n - mb * mb);
        const cov = (s.sab[i * c + j] as number) / n - ma * mb;
        // Dead units (σ = 0) correlate with nothing; any partner is as good.
        corr[i * c + j] = va > 0 && vb > 0 ? cov / Math.sqrt(va * vb) : 0;
      }
    }
    perms.set(name, linearSumAssignment(corr, c));
  }
  return perms;
}
