import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestBackend } from '../../test/helpers.js';
import { writeSafetensors } from '../checkpoint/safetensors.js';
import { disposeTensors } from '../models/tensor-map.js';
import type { TensorMap } from '../models/types.js';
import { createCurve, disposeCurve } from './curve.js';
import { loadCurve, saveCurve } from './curve-checkpoint.js';
import { toyMlp, xorModels } from '../../test/fixtures/toy-mlp.js';
import { registerArchitecture } from '../models/registry.js';

let dir: string;
beforeAll(async () => {
  await useTestBackend();
  registerArchitecture(toyMlp);
  dir = await mkdtemp(join(tmpdir(), 'modeconn-curve-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const values = (m: TensorMap): [string, number[], number[]][] => [...m].map(([n, t]) => [n, t.shape, Array.from(t.dataSync())]);

describe('saveCurve / loadCurve', () => {
  it('round-trips bends, flags, metadata, buffers and the training state exactly', async () => {
    const { a, b } = xorModels();
    const withBuffers = { ...a, buffers: new Map([['bn.running_mean', tf.tensor1d([0.5, -1])]]) };
    const withBuffersB = { ...b, buffers: new Map([['bn.running_mean', tf.tensor1d([2, 3])]]) };
    const curve = createCurve(withBuffers, withBuffersB, { kind: 'polychain', bends: 4, trainEnd: true });
    const slots = new Map([['bend1.fc1.bias.momentum', tf.fill([8], 0.25)]]);
    const file = join(dir, 'curve.safetensors');
    await saveCurve(file, curve, { step: 17, slots });
    expect((await readdir(dir)).filter((f) => f.includes('.tmp'))).toEqual([]);
    const loaded = await loadCurve(file);
    expect(loaded.curve.kind).toBe('polychain');
    expect(loaded.curve.architecture).toBe('toy-mlp');
    expect(loaded.curve.config).toEqual({ hidden: 8 });
    expect(loaded.curve.trainable).toEqual([false, true, true, true]);
    expect(loaded.curve.bends.length).toBe(4);
    for (let i = 0; i < 4; i++) expect(values(loaded.curve.bends[i]!)).toEqual(values(curve.bends[i]!));
    expect(values(loaded.curve.endpointBuffers[1])).toEqual([['bn.running_mean', [2], [2, 3]]]);
    expect(loaded.training?.step).toBe(17);
    expect(values(loaded.training!.slots)).toEqual(values(slots));
    disposeCurve(curve);
    disposeCurve(loaded.curve);
    disposeTensors(slots, loaded.training!.slots, withBuffers, withBuffersB);
  });

  it('without a training state, loads none', async () => {
    const { a, b } = xorModels();
    const curve = createCurve(a, b);
    const file = join(dir, 'plain.safetensors');
    await saveCurve(file, curve);
    const before = tf.memory().numTensors;
    const loaded = await loadCurve(file);
    expect(loaded.training).toBeUndefined();
    disposeCurve(loaded.curve);
    expect(tf.memory().numTensors).toBe(before);
    disposeCurve(curve);
    disposeTensors(a, b);
  });

  it('refuses a file that is not a curve, and names a missing tensor without leaking', async () => {
    const other = join(dir, 'other.safetensors');
    await writeSafetensors(other, new Map([['w', { shape: [1], data: [1] }]]), { format: 'something-else' });
    await expect(loadCurve(other)).rejects.toThrow(/not a curve checkpoint.*something-else/);
    const broken = join(dir, 'broken.safetensors');
    const metadata = { format: 'modeconn-curve', version: '1', kind: 'bezier', bends: '3', trainable: '[false,true,false]', architecture: 'lenet5', config: '{}', params: '["w"]', buffers: '[]' };
    await writeSafetensors(broken, new Map([['bend0.w', { shape: [1], data: [1] }], ['bend1.w', { shape: [1], data: [2] }]]), metadata);
    const before = tf.memory().numTensors;
    await expect(loadCurve(broken)).rejects.toThrow(/tensor "bend2\.w" is missing/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
