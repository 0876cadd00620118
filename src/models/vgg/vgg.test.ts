/**
 * VGG against PyTorch (test/fixtures/vgg*-cifar.safetensors, made by
 * scripts/fixtures/make-vgg-fixtures.py with a module written after pytorch-cifar's): import,
 * eval and train logits and batch statistics, export back to the same names; parameter counts
 * against PyTorch's and the closed form; wasm gradients against cpu; no leaks across train steps;
 * permutation invariance; LLPF stages.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { exportPyTorchStateDict, importPyTorchStateDict } from '../../checkpoint/pytorch.js';
import { readSafetensors } from '../../checkpoint/safetensors.js';
import { batchStatsError, compareGradients, expectLeakFreeTrainSteps, fixturePath, llpfStageList, permutedLogitsError, readInput, readJson, relativeToMax, runBothModes, stagesAreOrdered, type PyTorchExpected } from '../../../test/architecture-checks.js';
import { useTestBackend } from '../../../test/helpers.js';
import { countSpecScalars } from '../model-spec.js';
import { disposeTensors } from '../tensor-map.js';
import { vgg, vggConvs, VGG_DEPTHS, type VggConfig } from './index.js';

beforeAll(async () => {
  await useTestBackend();
});

/** Closed form: Σ (9·c_in·c_out + c_out + 2·c_out) over the convs (conv bias, BN γ and β) + (C + 1)·classes. */
function closedFormCount(depth: 11 | 16, width = 1, classes = 10): number {
  const convs = vggConvs({ depth, width, inputChannels: 3 });
  const last = convs.at(-1)!.outChannels;
  return convs.reduce((s, c) => s + 9 * c.inChannels * c.outChannels + 3 * c.outChannels, 0) + (last + 1) * classes;
}

describe('vgg', () => {
  it('parameter counts at k = 1 equal PyTorch\'s and the closed form (VGG-16 14,728,266; VGG-11 9,231,114)', async () => {
    const expected = await readJson<Record<'vgg16' | 'vgg11', PyTorchExpected>>('vgg-expected.json');
    for (const [depth, key] of [[16, 'vgg16'], [11, 'vgg11']] as const) {
      const spec = vgg.spec(vgg.parseConfig({ depth }));
      expect(countSpecScalars(spec.params)).toBe(expected[key].parameterCountWidth1);
      expect(countSpecScalars(spec.params)).toBe(closedFormCount(depth));
      expect(countSpecScalars(spec.buffers)).toBe(expected[key].bufferCountWidth1);
    }
    expect(vggConvs({ depth: 16, width: 1, inputChannels: 3 }).map((c) => c.index)).toEqual([0, 3, 7, 10, 14, 17, 20, 24, 27, 30, 34, 37, 40]);
  });

  it('config: depth is 11, 13, 16 or 19, width must leave channels, inputSize 32–63', () => {
    expect(vgg.parseConfig({ depth: 11, width: 0.25 })).toEqual({ depth: 11, width: 0.25, inputChannels: 3, inputSize: 32, classes: 10 });
    expect(() => vgg.parseConfig({ depth: 12 })).toThrow(/vgg config: depth must be one of 11, 13, 16, 19, found 12/);
    expect(() => vgg.parseConfig({ width: 0.001 })).toThrow(/0 channels/);
    expect(() => vgg.parseConfig({ inputSize: 28 })).toThrow(/inputSize must be 32 to 63/);
  });

  for (const [file, key, depth] of [['vgg16-cifar.safetensors', 'vgg16', 16], ['vgg11-cifar.safetensors', 'vgg11', 11]] as const) {
    it(`PyTorch ${key} k = 1/16 (${file}): import detects it, eval and train logits and batch statistics match to 1e-4, export gives back the names and bits`, async ({ annotate }) => {
      const expected = (await readJson<Record<string, PyTorchExpected>>('vgg-expected.json'))[key]!;
      const { tensors } = await readSafetensors(fixturePath(file));
      const model = importPyTorchStateDict(tensors);
      expect(model.architecture).toBe('vgg');
      expect(model.config).toEqual({ depth, width: 0.0625, inputChannels: 3, inputSize: 32, classes: 10 });
      const x = await readInput('vgg-input.safetensors');
      const got = runBothModes(vgg, model.config as VggConfig, model, x);
      const evalErr = relativeToMax(got.eval, expected.evalLogits.flat());
      const trainErr = relativeToMax(got.train, expected.trainLogits.flat());
      const statsErr = batchStatsError(got.stats, expected.batchStats);
      await annotate(`${key}: logit error relative to max |logit|: eval ${evalErr.toExponential(2)}, train ${trainErr.toExponential(2)}, batch stats ${statsErr.toExponential(2)}`);
      expect(evalErr).toBeLessThan(1e-4);
      expect(trainErr).toBeLessThan(1e-4);
      expect(statsErr).toBeLessThan(1e-4);
      expect(relativeToMax(got.eval, got.train)).toBeGreaterThan(1e-2);

      const exported = await exportPyTorchStateDict(model);
      const fileNames = [...tensors.keys()].map((n) => n.replace(/^module\./, ''));
      expect([...exported.keys()].sort()).toEqual(fileNames.sort());
      for (const [name, t] of tensors) {
        const e = exported.get(name.replace(/^module\./, ''))!;
        expect(e.shape, name).toEqual(t.shape);
        if (!name.endsWith('num_batches_tracked')) expect(Array.from(e.data).every((v, i) => Object.is(v, t.data[i])), name).toBe(true);
      }
      disposeTensors(model);
      x.dispose();
    });
  }

  const small = vgg.parseConfig({ depth: 11, width: 1 / 16, classes: 3 });

  it('gradients in training mode on wasm equal cpu\'s to 1e-4 (relative to the largest entry); conv biases before BN get none', async ({ annotate }) => {
    const state = vgg.init(small, 2);
    const x = tf.randomNormal<tf.Rank.R4>([4, 32, 32, 3], 0, 1, 'float32', 3);
    const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 0], 'int32'), 3) as tf.Tensor2D;
    // A conv bias before a training-mode BN is cancelled by the batch mean: its gradient is 0 in
    // exact arithmetic and float32 rounding noise on either backend, so it is checked apart.
    const convBias = (n: string) => /^features\.\d+\.bias$/.test(n) && vgg.spec(small).params.find((p) => p.name === n)?.kind === 'bias';
    const { worst, worstName, scale } = await compareGradients(vgg, small, state, x, labels, (n) => !convBias(n));
    await annotate(`vgg11 k=1/16: worst wasm-vs-cpu gradient error ${worst.toExponential(2)} (${worstName})`);
    expect(worst).toBeLessThan(1e-4);
    const largest = Math.max(...scale.values());
    for (const [name, s] of scale) {
      if (convBias(name)) expect(s, name).toBeLessThan(1e-5 * largest);
      else expect(s, name).toBeGreaterThan(0);
    }
    disposeTensors(state);
    tf.dispose([x, labels]);
  });

  it('repeated SGD train steps leak no tensors', async () => {
    await expectLeakFreeTrainSteps(vgg, small, 4);
  });

  it('permuting every conv by a random permutation leaves eval and train logits unchanged', async ({ annotate }) => {
    const config = vgg.parseConfig({ depth: 16, width: 1 / 16 });
    const { tensors } = await readSafetensors(fixturePath('vgg16-cifar.safetensors'));
    const model = importPyTorchStateDict(tensors);
    const x = await readInput('vgg-input.safetensors');
    const { error, groups, moved } = permutedLogitsError(vgg, config, model, x, 7);
    await annotate(`vgg16: ${groups} permutation groups, logit change relative to max ${error.toExponential(2)}`);
    expect(groups).toBe(13);
    expect(moved).toBe(model.params.size - 1); // all but classifier.bias
    expect(error).toBeLessThan(1e-5);
    disposeTensors(model);
    x.dispose();
  });

  it('LLPF stages: the five pooling stages then the classifier, in spec order, for every depth', () => {
    for (const depth of VGG_DEPTHS) {
      const config = vgg.parseConfig({ depth, width: 1 / 16 });
      const list = llpfStageList(vgg, config);
      expect(stagesAreOrdered(list), `depth ${depth}`).toBe(true);
      expect(list.at(-1)).toEqual({ group: 'classifier', stage: 5 });
      const convs = vggConvs(config);
      expect(list.slice(0, -1).map((s) => s.stage)).toEqual(convs.map((c) => c.stage));
    }
    expect(llpfStageList(vgg, vgg.parseConfig({ depth: 16 })).filter((s) => s.stage === 2).map((s) => s.group)).toEqual(['features.14', 'features.17', 'features.20']);
  });
});
