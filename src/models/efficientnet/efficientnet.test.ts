/**
 * EfficientNet-B0 against PyTorch (scripts/fixtures/make-efficientnet-fixtures.py: pytorch-cifar's
 * module at k = 0.1, trained a few steps) and against the cpu backend; its permutation spec,
 * stages and deterministic dropout.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../backend/init-backend.js';
import { maxRelativeError, useTestBackend } from '../../../test/helpers.js';
import {
  exportMismatches,
  expectLeakFreeTrainingAndEvaluation,
  fixtureErrors,
  gradientsAgainstCpu,
  importFixture,
  llpfStageOrder,
  permutedFreshLogitsError,
  readJson,
  type FamilyExpected,
  readInput,
} from '../../../test/architecture-checks.js';
import { countSpecScalars } from '../model-spec.js';
import { disposeTensors } from '../tensor-map.js';
import { efficientNetB0, efficientNetBlocks } from './index.js';

let backend = '';
beforeAll(async () => {
  backend = await useTestBackend();
  await initBackend('cpu');
  await tf.setBackend(backend);
});

describe('efficientnet-b0', () => {
  it('has PyTorch’s parameter count at k = 1 (3,599,686) and at the fixture’s k = 0.1; pytorch-cifar’s block geometry', async () => {
    const expected = await readJson<FamilyExpected>('efficientnet-expected.json');
    expect(countSpecScalars(efficientNetB0.spec(efficientNetB0.parseConfig({})).params)).toBe(expected.parameterCountWidth1);
    expect(countSpecScalars(efficientNetB0.spec(efficientNetB0.parseConfig({ width: 0.1 })).params)).toBe(expected.parameterCount);
    const blocks = efficientNetBlocks(1);
    expect(blocks).toHaveLength(16);
    expect(blocks.map((b) => b.stride)).toEqual([1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1]);
    expect(blocks.filter((b) => b.skip).map((b) => b.prefix)).toEqual(['layers.2', 'layers.4', 'layers.6', 'layers.7', 'layers.9', 'layers.10', 'layers.12', 'layers.13', 'layers.14']);
    expect(blocks[1]).toMatchObject({ inChannels: 16, planes: 96, seChannels: 4, kernel: 3 });
    expect(() => efficientNetB0.parseConfig({ dropoutRate: 1 })).toThrow(/dropoutRate must be a number in \[0, 1\)/);
    expect(() => efficientNetB0.parseConfig({ depth: 3 })).toThrow(/unknown field\(s\) depth/);
  });

  it('a pytorch-cifar state dict (k = 0.1) imports with its config and reproduces PyTorch’s eval and train logits and batch statistics', async ({ annotate }) => {
    const expected = await readJson<FamilyExpected>('efficientnet-expected.json');
    const { model } = await importFixture('efficientnet-pytorch.safetensors');
    expect(model.architecture).toBe('efficientnet-b0');
    expect(model.config).toEqual({ ...efficientNetB0.defaultConfig, width: 0.1 });
    const x = await readInput('efficientnet-input.safetensors');
    // PyTorch's train-mode logits were recorded with dropout off.
    const errors = fixtureErrors(model, x, expected, { ...(model.config as object), dropoutRate: 0 });
    await annotate(`efficientnet-b0 k=0.1 vs PyTorch: max rel error eval ${errors.eval.toExponential(2)}, train ${errors.train.toExponential(2)}, batch stats ${errors.stats.toExponential(2)}`);
    expect(errors.eval).toBeLessThan(1e-4);
    expect(errors.train).toBeLessThan(1e-4);
    expect(errors.stats).toBeLessThan(1e-4);
    expect(errors.trainEvalGap).toBeGreaterThan(1e-2);
    disposeTensors(model);
    x.dispose();
  });

  it('exports back to the file’s names, shapes and values (num_batches_tracked included)', async () => {
    const { model, file } = await importFixture('efficientnet-pytorch.safetensors');
    expect(await exportMismatches(model, file)).toEqual({ missing: [], extra: [], differing: [] });
    disposeTensors(model);
  });

  it('dropout in training is deterministic in the batch and dropSeed; evaluation has none', () => {
    const config = efficientNetB0.parseConfig({ width: 0.1, inputSize: 16, dropoutRate: 0.5, dropConnectRate: 0.5 });
    const state = efficientNetB0.init(config, 3);
    const x = tf.randomNormal<tf.Rank.R4>([2, 16, 16, 3], 0, 1, 'float32', 4);
    const logits = (c: typeof config, training: boolean) => {
      const r = efficientNetB0.apply(c, state, x, { training });
      disposeTensors(r.batchStats);
      const values = Array.from(r.logits.dataSync());
      r.logits.dispose();
      return values;
    };
    const noDrop = { ...config, dropoutRate: 0, dropConnectRate: 0 };
    expect(logits(config, true)).toEqual(logits(config, true));
    expect(logits(config, true)).not.toEqual(logits(noDrop, true));
    expect(logits({ ...config, dropSeed: 1 }, true)).not.toEqual(logits(config, true));
    expect(logits(config, false)).toEqual(logits(noDrop, false));
    disposeTensors(state);
    x.dispose();
  });

  it('the ops EfficientNet adds to ResNet (swish, sigmoid gate, SE pooling, depthwise 3×3/5×5 at stride 1 and 2 with PyTorch padding) have the gradients of cpu on the test backend, to 1e-4', async () => {
    // One MBConv-like chain: x → depthwise k/s → swish → SE gate σ(swish(mean·W1 + b1)·W2 + b2) → product.
    const chain = (x: tf.Tensor4D, dw: tf.Tensor4D, w1: tf.Tensor2D, b1: tf.Tensor1D, w2: tf.Tensor2D, b2: tf.Tensor1D, k: number, stride: 1 | 2) => {
      const z = tf.depthwiseConv2d(x, dw, stride, stride === 1 ? 'same' : (k - 1) / 2);
      const h = tf.mul(z, tf.sigmoid(z));
      const s = tf.mean<tf.Tensor2D>(h, [1, 2]);
      const e = tf.add(tf.matMul(s, w1), b1);
      const gate = tf.sigmoid(tf.add(tf.matMul(tf.mul(e, tf.sigmoid(e)), w2), b2));
      return tf.mul(h, tf.reshape(gate, [x.shape[0], 1, 1, dw.shape[2]]));
    };
    let worst = 0;
    for (const [k, stride] of [[3, 1], [3, 2], [5, 1], [5, 2]] as const) {
      const grads: Record<string, Float32Array[]> = {};
      for (const b of ['cpu', backend]) {
        await tf.setBackend(b);
        const inputs = [
          tf.randomNormal<tf.Rank.R4>([3, 7, 7, 6], 0, 1, 'float32', 1),
          tf.randomNormal<tf.Rank.R4>([k, k, 6, 1], 0, 0.3, 'float32', 2),
          tf.randomNormal<tf.Rank.R2>([6, 2], 0, 0.5, 'float32', 3),
          tf.randomNormal<tf.Rank.R1>([2], 0, 0.5, 'float32', 4),
          tf.randomNormal<tf.Rank.R2>([2, 6], 0, 0.5, 'float32', 5),
          tf.randomNormal<tf.Rank.R1>([6], 0, 0.5, 'float32', 6),
        ] as const;
        const weights = tf.randomNormal<tf.Rank.R4>([3, stride === 1 ? 7 : 4, stride === 1 ? 7 : 4, 6], 0, 1, 'float32', 7);
        const g = tf.grads((...a: tf.Tensor[]) => {
          const [x, dw, w1, b1, w2, b2] = a as [tf.Tensor4D, tf.Tensor4D, tf.Tensor2D, tf.Tensor1D, tf.Tensor2D, tf.Tensor1D];
          return tf.sum(tf.mul(chain(x, dw, w1, b1, w2, b2, k, stride), weights));
        })([...inputs]);
        grads[b] = g.map((t) => Float32Array.from(t.dataSync()));
        tf.dispose([...inputs, weights, ...g]);
      }
      grads['cpu']!.forEach((c, i) => {
        const scale = Math.max(...Array.from(c, Math.abs));
        worst = Math.max(worst, maxRelativeError(Array.from(grads[backend]![i]!, (v) => v / scale), Array.from(c, (v) => v / scale)));
      });
    }
    await tf.setBackend(backend);
    expect(worst).toBeLessThan(1e-4);
  });

  it(`whole-model gradients in training mode on the test backend equal cpu's to 5e-4 of the largest; only the unused conv1/bn1 of layers.0 get zero`, async ({ annotate }) => {
    // Normwise, not per tensor: EfficientNet-B0 at k = 0.1 on 16×16 inputs is ill-conditioned (its
    // last blocks normalize 8 values per channel; scaling x by 1 + 1e-6 moves cpu's own gradients by
    // up to 6e-3 of a tensor's largest), so per-tensor errors measure rounding, not kernels.
    const result = await gradientsAgainstCpu(backend, 'efficientnet-b0', { width: 0.1, inputSize: 16, classes: 4 }, 8, 5);
    await tf.setBackend(backend);
    await annotate(`efficientnet-b0 gradients ${backend} vs cpu: largest error ${result.global.toExponential(2)} of the largest gradient; worst per tensor ${result.worst.toExponential(2)} (${result.worstName})`);
    expect(result.global).toBeLessThan(5e-4);
    expect(result.zero.sort()).toEqual(['layers.0.bn1.bias', 'layers.0.bn1.weight', 'layers.0.conv1.weight']);
  });

  it('repeated training steps and evaluations leak no tensors', async () => {
    await expectLeakFreeTrainingAndEvaluation(efficientNetB0, efficientNetB0.parseConfig({ width: 0.1, inputSize: 16 }), 2);
  });

  it('permuting a model by random permutations of its spec leaves eval and train logits unchanged', () => {
    // Without dropout: a fixed mask over the pooled features does not permute with them.
    const result = permutedFreshLogitsError('efficientnet-b0', { width: 0.15, inputSize: 16, dropoutRate: 0 }, 11);
    expect(result.eval).toBeLessThan(1e-4);
    expect(result.train).toBeLessThan(1e-4);
    // 16 blocks × (planes + SE) minus layers.0's planes, plus the streams: the stem's and one per block without identity shortcut (7).
    expect(result.groups).toBe(16 * 2 - 1 + 8);
    // Most kernels change (size-1 SE bottlenecks and unlucky identities do not): the check is not vacuous.
    expect(result.moved).toBeGreaterThan(result.kernels * 0.8);
  });

  it('LLPF stages run stem, the seven cfg stages, linear in spec order; blocks are the MBConv blocks', () => {
    const { stages, blocks } = llpfStageOrder('efficientnet-b0', { width: 0.1 });
    expect(stages[0]).toBe(0);
    expect(stages.at(-1)).toBe(8);
    expect(stages.every((s, i) => i === 0 || s >= (stages[i - 1] as number))).toBe(true);
    expect(new Set(stages)).toEqual(new Set([0, 1, 2, 3, 4, 5, 6, 7, 8]));
    expect(blocks).toEqual(['conv1', ...Array.from({ length: 16 }, (_, i) => `layers.${i}`), 'linear']);
  });
});
