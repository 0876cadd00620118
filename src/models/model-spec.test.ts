import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestBackend } from '../../test/helpers.js';
import { batchNormEval, batchNormTrain } from './batch-norm.js';
import { initFromSpec } from './init.js';
import { affineLayer, applyForward, buildModelSpec, convBnLayer, denseForward, tensorOf, type ForwardPass } from './model-spec.js';
import type { ApplyOptions, ModelState } from './types.js';

let state: ModelState;
let x: tf.Tensor4D;
beforeAll(async () => {
  await useTestBackend();
  state = initFromSpec(spec)(undefined, 5);
  x = tf.randomNormal<tf.Rank.R4>([32, 16, 16, 2], 0, 1, 'float32', 3);
});

/** Six conv–BN–ReLU layers of 16 channels on 16×16 inputs, then a classifier. */
const DEPTH = 6;
const spec = () =>
  buildModelSpec(
    [...Array.from({ length: DEPTH }, (_, i) => convBnLayer(`l${i}`, `l${i}.conv`, `l${i}.bn`, [3, 3, i === 0 ? 2 : 16, 16])), affineLayer('fc', [16, 3])],
    [16, 16, 2],
    3,
  );

function layer(pass: ForwardPass, h: tf.Tensor4D, i: number): tf.Tensor4D {
  const z = tf.conv2d(h, tensorOf<tf.Rank.R4>(pass.params, `l${i}.conv.weight`), 1, 'same');
  const [gamma, beta] = [tensorOf<tf.Rank.R1>(pass.params, `l${i}.bn.weight`), tensorOf<tf.Rank.R1>(pass.params, `l${i}.bn.bias`)];
  if (pass.stats === undefined) {
    const [mean, variance] = [tensorOf<tf.Rank.R1>(pass.buffers, `l${i}.bn.running_mean`), tensorOf<tf.Rank.R1>(pass.buffers, `l${i}.bn.running_var`)];
    return tf.relu(batchNormEval(z, gamma, beta, mean, variance));
  }
  const r = batchNormTrain(z, gamma, beta, `l${i}.bn`);
  pass.stats[`l${i}.bn.running_mean`] = r.mean;
  pass.stats[`l${i}.bn.running_var`] = r.variance;
  return tf.relu(r.y);
}

/** The test network's apply, its layers a `sequence` (each in its own tidy) or all in the one tidy. */
function apply(state: ModelState, x: tf.Tensor4D, options: ApplyOptions, blocks: boolean) {
  return applyForward(spec(), 'test-net', state, x, options, (pass) => {
    const layers = Array.from({ length: DEPTH }, (_, i) => i);
    const h = blocks ? pass.sequence(x, layers, (input, i) => layer(pass, input, i)) : layers.reduce((input, i) => layer(pass, input, i), x);
    return denseForward(tf.mean<tf.Tensor2D>(h, [1, 2]), pass.params, 'fc');
  });
}

describe('applyForward sequence', () => {
  it('frees each unit’s intermediates and its input as the pass goes: the same logits and batch statistics, a fraction of the peak memory, nothing left behind', async () => {
    for (const training of [false, true]) {
      const run = async (blocks: boolean) => {
        const before = tf.memory().numTensors;
        let out: ReturnType<typeof apply> | undefined;
        const profile = await tf.profile(() => {
          out = apply(state, x, { training }, blocks);
        });
        const result = out as ReturnType<typeof apply>;
        expect(tf.memory().numTensors - before).toBe(1 + result.batchStats.size);
        const logits = Array.from(await result.logits.data());
        const stats = await Promise.all([...result.batchStats].map(async ([name, t]) => [name, Array.from(await t.data())] as const));
        tf.dispose([result.logits, ...result.batchStats.values()]);
        return { peak: profile.peakBytes, logits, stats };
      };
      const whole = await run(false);
      const blocked = await run(true);
      expect(blocked.logits).toEqual(whole.logits);
      expect(blocked.stats).toEqual(whole.stats);
      expect(blocked.stats.length).toBe(training ? 2 * DEPTH : 0);
      // One activation is 32·16·16·16·4 B = 0.5 MiB; a whole pass keeps ≥ 3 per layer (conv, BN, ReLU).
      expect(blocked.peak, `training ${training}`).toBeLessThan(whole.peak / 2);
    }
    expect(x.isDisposed).toBe(false);
  });

  it('leaves gradients unchanged (tfjs keeps what a kernel saves for the backward pass)', async () => {
    const names = [...state.params.keys()];
    const gradients = (blocks: boolean) =>
      tf.grads((...ps: tf.Tensor[]) => {
        const params = new Map(names.map((n, i) => [n, ps[i] as tf.Tensor]));
        return tf.sum(apply({ params, buffers: state.buffers }, x, { training: true }, blocks).logits);
      })(names.map((n) => state.params.get(n) as tf.Tensor));
    const before = tf.memory().numTensors;
    const [whole, blocked] = [gradients(false), gradients(true)];
    for (let i = 0; i < names.length; i++) expect(Array.from(await blocked[i]!.data()), names[i]).toEqual(Array.from(await whole[i]!.data()));
    tf.dispose([...whole, ...blocked]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
