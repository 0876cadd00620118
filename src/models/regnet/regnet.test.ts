import { beforeAll, describe, expect, it } from 'vitest';
import { expectLeakFreeTrainingAndEvaluation, expectPyTorchFixtureReproduced, expectStagesInOrder, gradientErrors, permutationError, readJson, type FamilyFixture } from '../../../test/architecture-checks.js';
import { useTestBackend } from '../../../test/helpers.js';
import { countSpecScalars } from '../model-spec.js';
import { inferRegNetWidth, regnet, regNetWidths, REGNET_VARIANTS, roundHalfEven } from './index.js';

interface Expected {
  /** PyTorch's parameter count of pytorch-cifar's RegNetX_200MF() and RegNetY_400MF(). */
  readonly fullSizeParamCounts: Readonly<Record<string, number>>;
  readonly fixtures: Readonly<Record<string, FamilyFixture>>;
}

let expected: Expected;
beforeAll(async () => {
  await useTestBackend();
  expected = await readJson<Expected>('regnet-expected.json');
});

/** Small CPU configs with grouped conv2 (group width 2 and 4) and, for y400mf, SE. */
const smallX = regnet.parseConfig({ variant: 'x200mf', width: 0.25, inputSize: 8, classes: 5 });
const smallY = regnet.parseConfig({ variant: 'y400mf', width: 0.1, inputSize: 8, classes: 5 });

describe('regnet', () => {
  it('both variants at k = 1 have the parameter count PyTorch gives pytorch-cifar’s models (spec only)', () => {
    for (const variant of REGNET_VARIANTS) {
      const spec = regnet.spec(regnet.parseConfig({ variant }));
      expect(countSpecScalars(spec.params), variant).toBe(expected.fullSizeParamCounts[variant]);
    }
    const spec = regnet.spec(regnet.parseConfig({ variant: 'y400mf' }));
    expect(spec.params.find((p) => p.name === 'layer3.2.conv2.weight')).toEqual({ name: 'layer3.2.conv2.weight', shape: [3, 3, 16, 160], kind: 'weight', layer: 'layer3.2.conv2' });
    expect(spec.params.find((p) => p.name === 'layer3.2.se.se1.weight')!.shape).toEqual([1, 1, 160, 40]);
    expect(spec.params.find((p) => p.name === 'layer3.0.se.se1.weight')!.shape).toEqual([1, 1, 160, 16]);
    expect(spec.layers.map((l) => l.name).slice(0, 7)).toEqual(['conv1', 'layer1.0.conv1', 'layer1.0.conv2', 'layer1.0.se.se1', 'layer1.0.se.se2', 'layer1.0.conv3', 'layer1.0.shortcut']);
    expect(regnet.spec(regnet.parseConfig({})).params.some((p) => p.name.includes('.se.'))).toBe(false);
  });

  it('width multiplier, Python rounding of the SE width, config errors name the field', () => {
    expect(regNetWidths('x200mf', 1)).toEqual({ stem: 64, groupWidth: 8, stages: [24, 56, 152, 368] });
    expect(regNetWidths('x200mf', 0.25)).toEqual({ stem: 16, groupWidth: 2, stages: [6, 14, 38, 92] });
    expect(regNetWidths('y400mf', 0.1)).toEqual({ stem: 6, groupWidth: 2, stages: [4, 6, 16, 38] });
    expect([0.5, 1.5, 2.5, 9.5, 10.5, 3.2].map(roundHalfEven)).toEqual([0, 2, 2, 10, 10, 3]);
    expect(() => regnet.parseConfig({ variant: 'x400mf' })).toThrow(/variant must be one of x200mf, y400mf/);
    expect(() => regnet.parseConfig({ width: 0.001 })).toThrow(/0 channels/);
    expect(() => regnet.parseConfig({ variant: 'y400mf', width: 0.02 })).toThrow(/SE layer of 0 channels/);
  });

  it('the width multiplier is read back from the widths', () => {
    for (const variant of REGNET_VARIANTS) {
      for (const k of [1, 0.5, 0.25, 0.125]) {
        const w = regNetWidths(variant, k);
        expect(inferRegNetWidth(variant, w.stem, w.groupWidth, w.stages), `${variant} ${k}`).toBe(k);
      }
    }
  });

  for (const file of ['regnet-x200mf-k0.125', 'regnet-y400mf-k0.094']) {
    it(`${file}: PyTorch's eval and train logits and batch statistics to 1e-4, export gives the file back`, async ({ annotate }) => {
      await expectPyTorchFixtureReproduced(regnet, file, 'regnet-input.safetensors', expected.fixtures[file]!, annotate);
    });
  }

  for (const [name, config] of [['x200mf', smallX], ['y400mf', smallY]] as const) {
    it(`${name}: training-mode gradients on the test backend equal cpu’s to 1e-4, or to cpu’s own sensitivity where that is larger`, async ({ annotate }) => {
      // ReLU units near 0 switch under rounding-sized input changes and train-mode BN spreads the
      // switch over the batch: cpu's own gradient at inputs perturbed by 1e-6 (relative) moves
      // by 1e-3 to 1e-1 at these tiny widths. The backend's error must stay below 1e-4 or within
      // 3× that sensitivity; a wrong kernel gives O(1) errors everywhere.
      const { backend, sensitivity } = await gradientErrors(regnet, config, 4, 1, { perturbation: 1e-6 });
      await annotate(`regnet ${name} gradient error vs cpu ${backend.toExponential(2)}; cpu vs cpu at inputs ×(1 + 1e-6·sin i): ${sensitivity.toExponential(2)}`);
      expect(backend).toBeLessThan(Math.max(1e-4, 3 * sensitivity));
    });

    it(`${name}: a random permutation of every group of the spec (tied groups of conv2) leaves eval and train logits unchanged`, () => {
      expect(permutationError(regnet, config, 3, 7)).toBeLessThan(1e-4);
    });
  }

  it('repeated train steps and evaluations leak no tensors', async () => {
    await expectLeakFreeTrainingAndEvaluation(regnet, smallY, 4);
  });

  it('permutation spec: streams per stage, grouped conv2 as groups × within-group permutations', () => {
    const groups = regnet.permutationSpec!(regnet.spec(smallX)).groups;
    const names = groups.map((g) => g.name);
    expect(names.filter((n) => n.startsWith('stream'))).toEqual(['stream0', 'stream1', 'stream2', 'stream3', 'stream4']);
    const block = groups.filter((g) => g.name.startsWith('layer3.1.'));
    expect(block.map((g) => [g.name, g.size])).toEqual([['layer3.1.groups', 19], ['layer3.1.in', 2], ['layer3.1.out', 2]]);
    expect(block[0]!.axes.find((a) => a.tensor === 'layer3.1.conv2.weight')).toEqual({ tensor: 'layer3.1.conv2.weight', axis: 3, stride: 2 });
  });

  it('LLPF stages: stem 0, layer s at s, linear 5, in spec order; blocks are layer{s}.{b}', () => {
    const stages = expectStagesInOrder(regnet, smallY);
    expect(new Set(stages)).toEqual(new Set([0, 1, 2, 3, 4, 5]));
    expect(regnet.blockOf!('layer2.1.se.se1')).toBe('layer2.1');
  });
});
