/**
 * A tiny CCT written by PyTorch (scripts/make-pytorch-fixtures.py, a replica of
 * SHI-Labs/Compact-Transformers with the same state-dict names): our importer + our CCT must
 * reproduce PyTorch's eval-mode logits.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { maxRelativeError, useTestBackend } from '../../test/helpers.js';
import { getArchitecture } from '../models/registry.js';
import { disposeTensors } from '../models/tensor-map.js';
import { exportPyTorchStateDict, importPyTorchStateDict } from './pytorch.js';
import { readSafetensors, type SafetensorsTensor } from './safetensors.js';

/** Index of the first element that differs (−2 when the lengths differ), −1 when equal bit for bit; fast on large arrays. */
function firstDifference(a: ArrayLike<number> | undefined, b: ArrayLike<number>): number {
  if (a === undefined || a.length !== b.length) return -2;
  for (let i = 0; i < b.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

const fixture = (name: string) => fileURLToPath(new URL(`../../test/fixtures/${name}`, import.meta.url));

interface Expected {
  readonly config: Readonly<Record<string, number>>;
  readonly evalLogits: number[][];
}

let expected: Expected;
let tensors: ReadonlyMap<string, SafetensorsTensor>;
beforeAll(async () => {
  await useTestBackend();
  expected = JSON.parse(await readFile(fixture('cct-expected.json'), 'utf8')) as Expected;
  tensors = (await readSafetensors(fixture('cct-pytorch.safetensors'))).tensors;
});

describe('PyTorch CCT import', () => {
  it('reproduces PyTorch\'s eval logits to 1e-4, with the config inferred except the heads', async ({ annotate }) => {
    const model = importPyTorchStateDict(tensors, { config: { heads: 2 } });
    expect(model.architecture).toBe('cct');
    expect(model.config).toEqual(expected.config);
    const input = (await readSafetensors(fixture('cct-input.safetensors'))).tensors.get('x') as SafetensorsTensor;
    const x = tf.tensor4d(input.data, input.shape as [number, number, number, number]);
    const { logits } = getArchitecture('cct').apply(model.config, model, x, { training: false });
    const ours = logits.dataSync();
    const theirs = expected.evalLogits.flat();
    let maxAbs = 0;
    for (let i = 0; i < theirs.length; i++) maxAbs = Math.max(maxAbs, Math.abs((ours[i] as number) - (theirs[i] as number)));
    const rel = maxRelativeError(ours, theirs);
    await annotate(`cct: max abs logit error ${maxAbs.toExponential(2)}, max rel ${rel.toExponential(2)}`);
    expect(rel).toBeLessThan(1e-4);
    logits.dispose();
    x.dispose();
    disposeTensors(model);
  });

  it('asks for the number of heads instead of guessing it (a wrong guess changes the logits)', async () => {
    expect(() => importPyTorchStateDict(tensors, { source: 'cct.safetensors' })).toThrow(/cct\.safetensors: the number of CCT attention heads cannot be read from the tensor shapes; give it in the config \(heads\)/);
    const wrong = importPyTorchStateDict(tensors, { config: { heads: 4 } });
    const input = (await readSafetensors(fixture('cct-input.safetensors'))).tensors.get('x') as SafetensorsTensor;
    const x = tf.tensor4d(input.data, input.shape as [number, number, number, number]);
    const { logits } = getArchitecture('cct').apply(wrong.config, wrong, x, { training: false });
    expect(maxRelativeError(logits.dataSync(), expected.evalLogits.flat())).toBeGreaterThan(1e-3);
    tf.dispose([logits, x]);
    disposeTensors(wrong);
  });

  it('export → import is the identity, and the layouts are PyTorch\'s', async () => {
    const model = importPyTorchStateDict(tensors, { config: { heads: 2 } });
    expect(model.params.get('classifier.blocks.0.self_attn.qkv.weight')?.shape).toEqual([32, 96]);
    expect(model.params.get('tokenizer.conv_layers.0.0.weight')?.shape).toEqual([3, 3, 3, 16]);
    const exported = await exportPyTorchStateDict(model);
    expect([...exported.keys()].sort()).toEqual([...tensors.keys()].sort());
    for (const [name, t] of tensors) {
      expect(exported.get(name)?.shape, name).toEqual(t.shape);
      expect(firstDifference(exported.get(name)?.data, t.data), name).toBe(-1);
    }
    disposeTensors(model);
  });
});
