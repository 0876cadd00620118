import { beforeAll, describe, expect, it } from 'vitest';
import { expectLeakFreeTrainingAndEvaluation, expectPyTorchFixtureReproduced, expectStagesInOrder, gradientErrorAgainstCpu, permutationError, readJson, type FamilyFixture } from '../../../test/architecture-checks.js';
import { useTestBackend } from '../../../test/helpers.js';
import { detectPyTorchArchitecture } from '../../checkpoint/pytorch.js';
import { countSpecScalars } from '../model-spec.js';
import { inferShuffleNetScaleFactor, shufflenet, shuffleNetWidths, SHUFFLENET_GROUPS } from './index.js';

interface Expected {
  /** PyTorch's parameter count of DFL_torch's ShuffleNet(10, 1, g) per g. */
  readonly fullSizeParamCounts: Readonly<Record<string, number>>;
  readonly fixtures: Readonly<Record<string, FamilyFixture>>;
}

let expected: Expected;
beforeAll(async () => {
  await useTestBackend();
  expected = await readJson<Expected>('shufflenet-expected.json');
});

/** Small enough for CPU tests: g = 2, stage widths 32, 64, 128 (bottlenecks 8, 16, 32), 8×8 inputs. */
const small = shufflenet.parseConfig({ groups: 2, scaleFactor: 0.16, inputSize: 8, classes: 5 });

describe('shufflenet', () => {
  it('every g at scale factor 1 has the parameter count PyTorch gives DFL_torch’s model (spec only)', () => {
    for (const groups of SHUFFLENET_GROUPS) {
      const spec = shufflenet.spec(shufflenet.parseConfig({ groups }));
      expect(countSpecScalars(spec.params), `g = ${groups}`).toBe(expected.fullSizeParamCounts[String(groups)]);
    }
    const spec = shufflenet.spec(shufflenet.parseConfig({}));
    // 1 stem + 16 units × 3 conv → BN layers: 49 BatchNorms, 2 buffers each
    expect(spec.buffers.length).toBe(2 * 49);
    expect(spec.layers.map((l) => l.name).slice(0, 5)).toEqual(['conv1', 'stage2.0.gconv1', 'stage2.0.dwconv', 'stage2.0.gconv2', 'stage2.1.gconv1']);
    expect(spec.layers.at(-1)?.name).toBe('fc');
    // stage2's pool unit: ungrouped gconv1 24 → 36, gconv2 writing 144 − 24 beside the stem
    const g3 = shufflenet.spec(shufflenet.parseConfig({ groups: 3 }));
    const shape = (name: string) => g3.params.find((p) => p.name === name)?.shape;
    expect(shape('stage2.0.gconv1.weight')).toEqual([1, 1, 24, 60]);
    expect(shape('stage2.0.gconv2.weight')).toEqual([1, 1, 20, 216]);
    expect(shape('stage3.0.gconv1.weight')).toEqual([1, 1, 80, 120]);
    expect(shape('stage3.0.dwconv.weight')).toEqual([3, 3, 1, 120]);
    expect(shape('stage4.3.gconv2.weight')).toEqual([1, 1, 80, 960]);
    expect(shape('fc.weight')).toEqual([960, 10]);
  });

  it('widths are DFL_torch’s int(k·w_g); configs the groups do not divide, or odd sizes, are refused naming the field', () => {
    expect(shuffleNetWidths(1, 1)).toEqual([144, 288, 576]);
    expect(shuffleNetWidths(8, 1)).toEqual([384, 768, 1536]);
    expect(shuffleNetWidths(1, 0.3)).toEqual([43, 86, 172]);
    expect(shufflenet.parseConfig({ groups: 3 })).toEqual({ groups: 3, scaleFactor: 1, inputChannels: 3, inputSize: 32, classes: 10 });
    expect(() => shufflenet.parseConfig({ groups: 5 })).toThrow(/groups must be one of 1, 2, 3, 4, 8 \(DFL_torch's g\), found 5/);
    // g = 2, k = 0.5: c₂ = 100, bottleneck ⌊200/4⌋ = 50 … ⌊100/4⌋ = 25 is odd
    expect(() => shufflenet.parseConfig({ groups: 2, scaleFactor: 0.5 })).toThrow(/stage widths 100, 200, 400 and bottlenecks 25, 50; groups 2 must divide 100, 25, 50/);
    expect(() => shufflenet.parseConfig({ scaleFactor: 0.1 })).toThrow(/stage widths 14, 28, 56; stage2 must be wider than the 24-channel stem/);
    expect(() => shufflenet.parseConfig({ inputSize: 30 })).toThrow(/inputSize 30 is not a multiple of 4/);
    expect(() => shufflenet.parseConfig({ width: 0.5 })).toThrow(/unknown field\(s\) width/);
  });

  it('the scale factor is read back from c₂ and g: the shortest decimal with the same widths', () => {
    for (const groups of SHUFFLENET_GROUPS) {
      for (const k of [1, 0.5, 0.3, 0.25, 0.29]) expect(inferShuffleNetScaleFactor(groups, shuffleNetWidths(groups, k)[0]), `g ${groups} k ${k}`).toBe(k);
    }
    // ⌊0.295·144⌋ = 42 = ⌊0.292·144⌋: the same network, read back as the shorter 0.292
    expect(inferShuffleNetScaleFactor(1, 42)).toBe(0.292);
  });

  for (const file of ['shufflenet-g1-s0.25', 'shufflenet-g3-s0.25']) {
    it(`${file}: PyTorch's eval and train logits and batch statistics to 1e-4, export gives the file back`, async ({ annotate }) => {
      await expectPyTorchFixtureReproduced(shufflenet, file, 'shufflenet-input.safetensors', expected.fixtures[file]!, annotate);
    });
  }

  it('a state dict of no family (DFL_torch names with gconv1 renamed) fails detection naming shufflenet as the closest family and the mismatching names', () => {
    // 247 names (49 BNs × 4, 49 convs, fc's 2), 16 of them renamed
    const spec = shufflenet.spec(shufflenet.parseConfig({}));
    const names = [...spec.params, ...spec.buffers].map((t) => t.name.replace('.gconv1.', '.conv_1.'));
    expect(() => detectPyTorchArchitecture(names)).toThrow(/cannot tell the architecture from the tensor names .*; closest: shufflenet \(231 of its 247 names at its default config\); names it does not have: "stage2\.0\.conv_1\.weight", .*its names the file lacks: "stage2\.0\.gconv1\.weight"/);
  });

  it('kuangliu/pytorch-cifar’s ShuffleNetG2 (another network) is named as such, not detected as a RegNet whose names it shares', () => {
    // ShuffleNetG2's state-dict names: a 1×1 stem, layer1–3 of 4/8/4 bottlenecks (conv1–3, bn1–3), linear.
    const bn = (p: string) => ['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked'].map((s) => `${p}.${s}`);
    const names = ['conv1.weight', ...bn('bn1')];
    [4, 8, 4].forEach((blocks, s) => {
      for (let b = 0; b < blocks; b++) for (const i of [1, 2, 3]) names.push(`layer${s + 1}.${b}.conv${i}.weight`, ...bn(`layer${s + 1}.${b}.bn${i}`));
    });
    names.push('linear.weight', 'linear.bias');
    expect(() => detectPyTorchArchitecture(names, 'g2.safetensors')).toThrow(/^g2\.safetensors: .*kuangliu\/pytorch-cifar's ShuffleNetG2\/G3, another network than shufflenet .*not implemented/);
    // A RegNet's names (four stages) still are a RegNet's.
    expect(detectPyTorchArchitecture([...names, 'layer4.0.conv3.weight'])).toBe('regnet');
  });

  it('training-mode gradients on the test backend equal cpu’s to 1e-4 (relative to each tensor’s largest)', async ({ annotate }) => {
    // β of the BN after each depthwise conv (no ReLU) feeds a 1×1 conv and a BN: zero gradient.
    const zero = (name: string) => /^stage\d+\.\d+\.bn\.bias$/.test(name);
    const error = await gradientErrorAgainstCpu(shufflenet, small, 4, 1, zero);
    await annotate(`shufflenet gradient error vs cpu: ${error.toExponential(2)}`);
    expect(error).toBeLessThan(1e-4);
  });

  it('repeated train steps and evaluations leak no tensors', async () => {
    await expectLeakFreeTrainingAndEvaluation(shufflenet, small, 4);
  });

  it('a random permutation of every bottleneck group leaves eval and train logits unchanged', () => {
    expect(permutationError(shufflenet, small, 3, 7)).toBeLessThan(1e-5);
    const groups = shufflenet.permutationSpec!(shufflenet.spec(small)).groups;
    // g = 2: bottlenecks 8, 16, 32 give groups of 8/4, 16/4, 32/4 channels, one per unit
    expect(groups.map((g) => g.name).slice(0, 2)).toEqual(['stage2.0.neck', 'stage2.1.neck']);
    expect(groups.map((g) => g.size)).toEqual([2, 2, 2, 2, 4, 4, 4, 4, 4, 4, 4, 4, 8, 8, 8, 8]);
    const g1 = shufflenet.parseConfig({ scaleFactor: 0.25, inputSize: 8, classes: 5 });
    expect(permutationError(shufflenet, g1, 3, 8)).toBeLessThan(1e-5);
    expect(shufflenet.permutationSpec!(shufflenet.spec(g1)).groups.map((g) => g.size).slice(0, 5)).toEqual([9, 9, 9, 9, 18]);
    // g = 3 at k = 0.25: bottlenecks 15, 30, 60, none divisible by 9
    expect(shufflenet.permutationSpec!(shufflenet.spec(shufflenet.parseConfig({ groups: 3, scaleFactor: 0.25 }))).groups).toEqual([]);
  });

  it('LLPF stages: stem 0, stage s at s − 1, fc 4, in spec order; units are stage{s}.{b}', () => {
    const stages = expectStagesInOrder(shufflenet, small);
    expect(new Set(stages)).toEqual(new Set([0, 1, 2, 3, 4]));
    expect(shufflenet.blockOf!('stage3.0.dwconv')).toBe('stage3.0');
    expect(shufflenet.blockOf!('fc')).toBeUndefined();
  });
});
