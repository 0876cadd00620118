/**
 * DLA and SimpleDLA against PyTorch (scripts/fixtures/make-dla-fixtures.py: pytorch-cifar's modules
 * at k = 1/16 and k = 0.05, trained a few steps) and against the cpu backend; their permutation
 * specs (roots concatenate channels) and stages.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../backend/init-backend.js';
import { useTestBackend } from '../../../test/helpers.js';
import {
  exportMismatches,
  expectLeakFreeTrainSteps,
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
import { dla } from './index.js';

let backend = '';
beforeAll(async () => {
  backend = await useTestBackend();
  await initBackend('cpu');
  await tf.setBackend(backend);
});

const FIXTURES = [
  { variant: 'dla', file: 'dla-pytorch.safetensors', expected: 'dla-expected.json', width: 0.0625 },
  { variant: 'simple', file: 'simpledla-pytorch.safetensors', expected: 'simpledla-expected.json', width: 0.05 },
] as const;

describe('dla', () => {
  for (const f of FIXTURES) {
    it(`${f.variant}: PyTorch's parameter count at k = 1 and at the fixture's k = ${f.width}`, async () => {
      const expected = await readJson<FamilyExpected>(f.expected);
      expect(countSpecScalars(dla.spec(dla.parseConfig({ variant: f.variant })).params)).toBe(expected.parameterCountWidth1);
      expect(countSpecScalars(dla.spec(dla.parseConfig({ variant: f.variant, width: f.width })).params)).toBe(expected.parameterCount);
    });

    it(`${f.variant}: a pytorch-cifar state dict imports with its variant and width and reproduces PyTorch's eval and train logits and batch statistics`, async ({ annotate }) => {
      const expected = await readJson<FamilyExpected>(f.expected);
      const { model } = await importFixture(f.file);
      expect(model.architecture).toBe('dla');
      expect(model.config).toEqual({ ...dla.defaultConfig, variant: f.variant, width: f.width });
      const x = await readInput('dla-input.safetensors');
      const errors = fixtureErrors(model, x, expected, model.config);
      await annotate(`${f.variant} k=${f.width} vs PyTorch: max rel error eval ${errors.eval.toExponential(2)}, train ${errors.train.toExponential(2)}, batch stats ${errors.stats.toExponential(2)}`);
      expect(errors.eval).toBeLessThan(1e-4);
      expect(errors.train).toBeLessThan(1e-4);
      expect(errors.stats).toBeLessThan(1e-4);
      expect(errors.trainEvalGap).toBeGreaterThan(1e-2);
      disposeTensors(model);
      x.dispose();
    });

    it(`${f.variant}: exports back to the file's names, shapes and values`, async () => {
      const { model, file } = await importFixture(f.file);
      expect(await exportMismatches(model, file)).toEqual({ missing: [], extra: [], differing: [] });
      disposeTensors(model);
    });

    it(`${f.variant}: permuting a model by random permutations of its spec (roots' inputs tied) leaves eval and train logits unchanged`, () => {
      const result = permutedFreshLogitsError('dla', { variant: f.variant, width: 0.125, inputSize: 16 }, 21);
      expect(result.eval).toBeLessThan(1e-4);
      expect(result.train).toBeLessThan(1e-4);
      expect(result.moved).toBeGreaterThan(result.kernels * 0.8);
    });

    it(`${f.variant}: LLPF stages base, layer1 … layer6, linear in spec order; blocks are the BasicBlocks`, () => {
      const { stages, blocks } = llpfStageOrder('dla', { variant: f.variant, width: 0.125 });
      expect(stages[0]).toBe(0);
      expect(stages.every((s, i) => i === 0 || s >= (stages[i - 1] as number))).toBe(true);
      expect(new Set(stages)).toEqual(new Set([0, 1, 2, 3, 4, 5, 6, 7]));
      expect(blocks.slice(0, 4)).toEqual(['base', 'layer1', 'layer2', f.variant === 'dla' ? 'layer3.left_node' : 'layer3.left_tree']);
      expect(blocks.at(-1)).toBe('linear');
      expect(blocks).toContain(f.variant === 'dla' ? 'layer4.level_1.right_node' : 'layer4.right_tree.left_tree');
    });
  }

  it('the permutation specs tie the inputs of each root: DLA layer4 has one permutation for prev_root, level_1 and its nodes', () => {
    const spec = dla.spec(dla.parseConfig({ width: 0.125 }));
    const groups = dla.permutationSpec!(spec).groups;
    const groupOf = (tensor: string, axis: number) => groups.find((g) => g.axes.some((a) => a.tensor === tensor && a.axis === axis))?.name;
    const tied = groupOf('layer4.root.conv.weight', 2);
    expect(tied).toBeDefined();
    expect(groupOf('layer4.prev_root.conv2.weight', 3)).toBe(tied);
    expect(groupOf('layer4.level_1.root.conv.weight', 3)).toBe(tied);
    expect(groupOf('layer4.right_node.conv2.weight', 3)).toBe(tied);
    // Every tensor axis is in at most one group.
    const seen = new Set<string>();
    for (const g of groups) for (const a of g.axes) {
      const key = `${a.tensor}:${a.axis}`;
      expect(seen.has(key), key).toBe(false);
      seen.add(key);
    }
  });

  it('config errors name the field', () => {
    expect(() => dla.parseConfig({ variant: 'dla34' })).toThrow(/variant must be one of dla, simple, found "dla34"/);
    expect(() => dla.parseConfig({ width: 0 })).toThrow(/width must be a positive number/);
  });

  it(`DLA's gradients in training mode (concat, 1×1 roots, prev_root) on the test backend equal cpu's to 1e-4 of the largest, 1e-3 per tensor; none zero`, async ({ annotate }) => {
    // Normwise first: at k = 1/8 on 8×8 inputs the last trees normalize 8 values per channel and
    // ReLUs near 0 make per-tensor errors of small gradients rounding noise (measured ~6e-5 per
    // tensor, ~3e-5 normwise). SimpleDLA uses the same ops and is not repeated, to keep the test short.
    const result = await gradientsAgainstCpu(backend, 'dla', { variant: 'dla', width: 0.125, inputSize: 8, classes: 4 }, 8, 5);
    await tf.setBackend(backend);
    await annotate(`dla gradients ${backend} vs cpu: largest error ${result.global.toExponential(2)} of the largest gradient; worst per tensor ${result.worst.toExponential(2)} (${result.worstName})`);
    expect(result.global).toBeLessThan(1e-4);
    expect(result.worst).toBeLessThan(1e-3);
    expect(result.zero).toEqual([]);
  });

  it('repeated training steps leak no tensors', async () => {
    await expectLeakFreeTrainSteps(dla, dla.parseConfig({ variant: 'dla', width: 0.0625, inputSize: 8 }), 2);
  });
});
