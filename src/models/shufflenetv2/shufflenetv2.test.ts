import { beforeAll, describe, expect, it } from 'vitest';
import { expectLeakFreeTrainingAndEvaluation, expectPyTorchFixtureReproduced, expectStagesInOrder, gradientErrorAgainstCpu, permutationError, readJson, type FamilyFixture } from '../../../test/architecture-checks.js';
import { useTestBackend } from '../../../test/helpers.js';
import { countSpecScalars } from '../model-spec.js';
import { inferShuffleNetV2Size, shufflenetv2, shuffleNetV2Widths, SHUFFLENETV2_NET_SIZES } from './index.js';

interface Expected {
  /** PyTorch's parameter count of pytorch-cifar's ShuffleNetV2(net_size) at k = 1. */
  readonly fullSizeParamCounts: Readonly<Record<string, number>>;
  readonly fixtures: Readonly<Record<string, FamilyFixture>>;
}

let expected: Expected;
beforeAll(async () => {
  await useTestBackend();
  expected = await readJson<Expected>('shufflenetv2-expected.json');
});

/** Small enough for CPU tests: widths 3 | 6, 12, 24 | 128. */
const small = shufflenetv2.parseConfig({ netSize: 0.5, width: 0.125, inputSize: 16, classes: 5 });

describe('shufflenetv2', () => {
  it('every net size at k = 1 has the parameter count PyTorch gives pytorch-cifar’s model (spec only)', () => {
    for (const netSize of SHUFFLENETV2_NET_SIZES) {
      const spec = shufflenetv2.spec(shufflenetv2.parseConfig({ netSize }));
      expect(countSpecScalars(spec.params), `netSize ${netSize}`).toBe(expected.fullSizeParamCounts[String(netSize)]);
    }
    const spec = shufflenetv2.spec(shufflenetv2.parseConfig({}));
    // 1 stem + 3 DownBlocks × 5 + 13 BasicBlocks × 3 + head conv: 56 BatchNorms, 2 buffers each
    expect(spec.buffers.length).toBe(2 * 56);
    expect(spec.layers.map((l) => l.name).slice(0, 7)).toEqual(['conv1', 'layer1.0.conv1', 'layer1.0.conv2', 'layer1.0.conv3', 'layer1.0.conv4', 'layer1.0.conv5', 'layer1.1.conv1']);
    expect(spec.params.find((p) => p.name === 'layer2.0.conv4.weight')).toEqual({ name: 'layer2.0.conv4.weight', shape: [3, 3, 1, 116], kind: 'weight', layer: 'layer2.0.conv4' });
    expect(spec.params.find((p) => p.name === 'layer3.3.conv1.weight')!.shape).toEqual([1, 1, 232, 232]);
    expect(spec.params.at(-2)).toEqual({ name: 'linear.weight', shape: [1024, 10], kind: 'weight', layer: 'linear' });
  });

  it('width multiplier: even stage widths, config errors name the field', () => {
    expect(shuffleNetV2Widths(1, 1)).toEqual([24, 116, 232, 464, 1024]);
    expect(shuffleNetV2Widths(0.5, 0.125)).toEqual([3, 6, 12, 24, 128]);
    expect(shuffleNetV2Widths(2, 0.0625)).toEqual([2, 14, 30, 62, 128]);
    expect(shufflenetv2.parseConfig({ netSize: 2 })).toEqual({ netSize: 2, width: 1, inputChannels: 3, inputSize: 32, classes: 10 });
    expect(() => shufflenetv2.parseConfig({ netSize: 3 })).toThrow(/netSize must be one of 0\.5, 1, 1\.5, 2 \(pytorch-cifar's net_size\), found 3/);
    expect(() => shufflenetv2.parseConfig({ width: 0.01 })).toThrow(/gives a layer of 0 channels/);
    expect(() => shufflenetv2.parseConfig({ depth: 3 })).toThrow(/unknown field\(s\) depth/);
  });

  it('net size and width are read back from the widths', () => {
    for (const netSize of SHUFFLENETV2_NET_SIZES) {
      for (const width of [1, 0.5, 0.25, 0.125]) expect(inferShuffleNetV2Size(shuffleNetV2Widths(netSize, width)), `${netSize} ${width}`).toEqual({ netSize, width });
    }
  });

  for (const file of ['shufflenetv2-s0.5-k0.25', 'shufflenetv2-s2-k0.0625']) {
    it(`${file}: PyTorch's eval and train logits and batch statistics to 1e-4, export gives the file back`, async ({ annotate }) => {
      await expectPyTorchFixtureReproduced(shufflenetv2, file, 'shufflenetv2-input.safetensors', expected.fixtures[file]!, annotate);
    });
  }

  it('training-mode gradients on the test backend equal cpu’s to 1e-4 (relative to each tensor’s largest)', async ({ annotate }) => {
    // β of the BNs without ReLU (after the depthwise convs) feed a 1×1 conv and a BN: zero gradient.
    const zero = (name: string) => /^layer\d+\.0\.bn[14]\.bias$|^layer\d+\.[1-9]\d*\.bn2\.bias$/.test(name);
    // Measured 8.9e-5 at batch 4 (5e-5 typical per tensor): float32 sums in other orders through
    // ~50 conv + BN layers, BN training mode amplifying them; single kernels agree to ~1e-6.
    const error = await gradientErrorAgainstCpu(shufflenetv2, small, 4, 1, zero);
    await annotate(`shufflenetv2 gradient error vs cpu: ${error.toExponential(2)}`);
    expect(error).toBeLessThan(1e-4);
  });

  it('repeated train steps and evaluations leak no tensors', async () => {
    await expectLeakFreeTrainingAndEvaluation(shufflenetv2, small, 4);
  });

  it('a random permutation of every group of the spec leaves eval and train logits unchanged', () => {
    expect(permutationError(shufflenetv2, small, 3, 7)).toBeLessThan(1e-5);
    const groups = shufflenetv2.permutationSpec!(shufflenetv2.spec(small)).groups.map((g) => g.name);
    expect(groups.slice(0, 3)).toEqual(['conv1', 'layer1.0.right', 'layer1.1.hidden']);
    expect(groups.at(-1)).toBe('conv2');
    expect(groups.length).toBe(1 + 16 + 1);
  });

  it('LLPF stages: stem 0, layer s at s, head conv 4, linear 5, in spec order; blocks are layer{s}.{b}', () => {
    const stages = expectStagesInOrder(shufflenetv2, small);
    expect(new Set(stages)).toEqual(new Set([0, 1, 2, 3, 4, 5]));
    expect(shufflenetv2.blockOf!('layer2.0.conv4')).toBe('layer2.0');
    expect(shufflenetv2.blockOf!('conv2')).toBeUndefined();
  });
});
