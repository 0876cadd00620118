/**
 * Both MobileNetV2 ports against PyTorch (test/fixtures/mobilenetv2-*.safetensors, made by
 * scripts/fixtures/make-mobilenetv2-fixtures.py with modules written after pytorch-cifar's and
 * DFL_torch's): import, eval and train logits and batch statistics, export back to the same names;
 * parameter counts against PyTorch's; wasm gradients (depthwise at stride 1 and 2, ReLU6) against
 * cpu; no leaks across train steps; permutation invariance; LLPF stages and blocks.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { exportPyTorchStateDict, importPyTorchStateDict } from '../../checkpoint/pytorch.js';
import { readSafetensors } from '../../checkpoint/safetensors.js';
import { batchStatsError, compareGradients, expectLeakFreeTrainSteps, fixturePath, llpfStageList, permutedLogitsError, readInput, readJson, relativeToMax, runBothModes, stagesAreOrdered, type PyTorchExpected } from '../../../test/architecture-checks.js';
import { useTestBackend } from '../../../test/helpers.js';
import { layerStages } from '../layer-stage.js';
import { countSpecScalars } from '../model-spec.js';
import { disposeTensors } from '../tensor-map.js';
import { inferWidth, invertedResiduals, mobilenetv2, mobilenetv2Dfl, type MobileNetV2Config } from './index.js';
import { DFL_VARIANT, PYTORCH_CIFAR_VARIANT } from './mobilenetv2.js';

beforeAll(async () => {
  await useTestBackend();
});

const PORTS = [
  { arch: mobilenetv2, variant: PYTORCH_CIFAR_VARIANT, file: 'mobilenetv2-cifar.safetensors', prefix: 'layers', stem: 'conv1', fc: 'linear' },
  { arch: mobilenetv2Dfl, variant: DFL_VARIANT, file: 'mobilenetv2-dfl.safetensors', prefix: 'bottlenecks', stem: 'conv0', fc: 'fc' },
] as const;

describe('mobilenetv2 and mobilenetv2-dfl', () => {
  it('block tables: pytorch-cifar downsamples at rows 2, 3, 5 and has conv shortcuts; DFL_torch at the first 64 and 160 blocks, identity shortcuts only', () => {
    const cifar = invertedResiduals(PYTORCH_CIFAR_VARIANT, 1);
    expect(cifar).toHaveLength(17);
    expect(cifar.filter((b) => b.stride === 2).map((b) => b.prefix)).toEqual(['layers.3', 'layers.6', 'layers.13']);
    expect(cifar.filter((b) => b.shortcut === 'conv').map((b) => b.prefix)).toEqual(['layers.0', 'layers.1', 'layers.10', 'layers.16']);
    const dfl = invertedResiduals(DFL_VARIANT, 1);
    expect(dfl.filter((b) => b.stride === 2).map((b) => b.prefix)).toEqual(['bottlenecks.6', 'bottlenecks.13']);
    expect(dfl.some((b) => b.shortcut === 'conv')).toBe(false);
    expect(dfl.filter((b) => b.shortcut === 'identity')).toHaveLength(10);
    expect(dfl[1]).toMatchObject({ inChannels: 16, planes: 96, outChannels: 24 });
    expect(inferWidth([[32, 4], [1280, 160], [16, 2]])).toBe(0.125);
    expect(inferWidth([[32, 10], [1280, 384]])).toBe(0.3);
  });

  for (const port of PORTS) {
    const name = port.arch.name;
    it(`${name}: parameter and buffer counts at k = 1 equal PyTorch's`, async () => {
      const expected = (await readJson<Record<string, PyTorchExpected>>('mobilenetv2-expected.json'))[name]!;
      const spec = port.arch.spec(port.arch.parseConfig({}));
      expect(countSpecScalars(spec.params)).toBe(expected.parameterCountWidth1);
      expect(countSpecScalars(spec.buffers)).toBe(expected.bufferCountWidth1);
    });

    it(`${name}: PyTorch k = 1/8 (${port.file}) is detected, reproduces eval and train logits and batch statistics to 1e-4, and exports back bit for bit`, async ({ annotate }) => {
      const expected = (await readJson<Record<string, PyTorchExpected>>('mobilenetv2-expected.json'))[name]!;
      const { tensors } = await readSafetensors(fixturePath(port.file));
      const model = importPyTorchStateDict(tensors);
      expect(model.architecture).toBe(name);
      expect(model.config).toEqual({ width: 0.125, inputChannels: 3, inputSize: 32, classes: 10 });
      const x = await readInput('mobilenetv2-input.safetensors');
      const got = runBothModes(port.arch, model.config as MobileNetV2Config, model, x);
      const evalErr = relativeToMax(got.eval, expected.evalLogits.flat());
      const trainErr = relativeToMax(got.train, expected.trainLogits.flat());
      const statsErr = batchStatsError(got.stats, expected.batchStats);
      await annotate(`${name}: logit error relative to max |logit|: eval ${evalErr.toExponential(2)}, train ${trainErr.toExponential(2)}, batch stats ${statsErr.toExponential(2)}`);
      expect(evalErr).toBeLessThan(1e-4);
      expect(trainErr).toBeLessThan(1e-4);
      expect(statsErr).toBeLessThan(1e-4);
      expect(relativeToMax(got.eval, got.train)).toBeGreaterThan(1e-2);

      const exported = await exportPyTorchStateDict(model);
      const fileNames = [...tensors.keys()].map((n) => n.replace(/^module\./, ''));
      expect([...exported.keys()].sort()).toEqual(fileNames.sort());
      for (const [n, t] of tensors) {
        const e = exported.get(n.replace(/^module\./, ''))!;
        expect(e.shape, n).toEqual(t.shape);
        if (!n.endsWith('num_batches_tracked')) expect(Array.from(e.data).every((v, i) => Object.is(v, t.data[i])), n).toBe(true);
      }
      disposeTensors(model);
      x.dispose();
    });

    // k = 1/8: at 1/16 some 1×1 convs read one channel, and BN(w·x) does not depend on w, so their gradient is noise.
    const small = port.arch.parseConfig({ width: 1 / 8, inputSize: 16, classes: 3 });

    it(`${name}: training-mode gradients on wasm equal cpu's to 1e-4 (relative to each tensor's largest entry) at init; the structurally zero ones are ≈ 0`, async ({ annotate }) => {
      // At init (β = 0), where the gradient is well conditioned. Two kinds of tensors have a zero
      // gradient in exact arithmetic, rounding noise on either backend:
      // - the shift β of bn3 (and of a conv shortcut's BN) adds a per-channel constant to the
      //   stream, which only 1×1 convs read, each followed by a training-mode BN;
      // - with β₁ = 0, act(γ₁·x̂) = γ₁·act(x̂) (ReLU; ReLU6 below 6) is scaled per channel, the
      //   depthwise conv keeps the scale per channel and BN₂ removes it: γ₁ has no effect.
      // After training (random γ, β) the whole-network gradient of this deep, tiny-batch net is
      // ill conditioned: cpu's own gradient moves by 0.5–4% when x gets 1e-6 noise, so no 1e-4
      // comparison is meaningful there; the ops themselves are compared in src/backend.
      const state = port.arch.init(small, 2);
      const x = tf.randomNormal<tf.Rank.R4>([4, 16, 16, 3], 0, 1, 'float32', 3);
      const labels = tf.oneHot(tf.tensor1d([0, 1, 2, 0], 'int32'), 3) as tf.Tensor2D;
      const structurallyZero = (n: string) => /\.(bn3|shortcut\.1)\.bias$|\.bn1\.weight$/.test(n) && n.includes('.');
      const { worst, worstName, scale } = await compareGradients(port.arch, small, state, x, labels, (n) => !structurallyZero(n));
      await annotate(`${name} k=1/8: worst wasm-vs-cpu gradient error ${worst.toExponential(2)} (${worstName})`);
      // DFL_torch's port (ReLU6, no conv shortcuts) measures 1.1e-4 here; pytorch-cifar's < 1e-4.
      expect(worst).toBeLessThan(port.arch === mobilenetv2 ? 1e-4 : 2e-4);
      const largest = Math.max(...scale.values());
      for (const [n, s] of scale) {
        if (structurallyZero(n)) expect(s, n).toBeLessThan(1e-3 * largest);
        else expect(s, n).toBeGreaterThan(0);
      }
      disposeTensors(state);
      tf.dispose([x, labels]);
    });

    it(`${name}: repeated SGD train steps leak no tensors`, async () => {
      await expectLeakFreeTrainSteps(port.arch, small, 4);
    });

    it(`${name}: permuting expansion channels, residual streams and head by random permutations leaves the logits unchanged`, async ({ annotate }) => {
      const { tensors } = await readSafetensors(fixturePath(port.file));
      const model = importPyTorchStateDict(tensors);
      const x = await readInput('mobilenetv2-input.safetensors');
      const { error, groups, moved } = permutedLogitsError(port.arch, model.config as MobileNetV2Config, model, x, 11);
      await annotate(`${name}: ${groups} permutation groups, logit change relative to max ${error.toExponential(2)}`);
      // 17 expansion groups + the head + the streams (pytorch-cifar: stem and 7 new streams; DFL_torch: stem and 7)
      expect(groups).toBe(17 + 1 + 8);
      expect(moved).toBe(model.params.size - 1); // all but the classifier bias
      expect(error).toBeLessThan(1e-5);
      disposeTensors(model);
      x.dispose();
    });

    it(`${name}: LLPF stages are the stem, the seven block rows, the head conv and the classifier in spec order; blocks group each residual`, () => {
      const config = port.arch.parseConfig({ width: 1 / 8 });
      const list = llpfStageList(port.arch, config);
      expect(stagesAreOrdered(list)).toBe(true);
      expect(list[0]).toEqual({ group: port.stem, stage: 0 });
      expect(list.at(-1)).toEqual({ group: port.fc, stage: 9 });
      expect(new Set(list.map((s) => s.stage)).size).toBe(10);
      const stages = layerStages(port.arch, port.arch.spec(config));
      expect(stages).toHaveLength(1 + 17 + 2);
      expect(stages[4]?.name).toBe(`${port.prefix}.3`);
    });
  }
});
