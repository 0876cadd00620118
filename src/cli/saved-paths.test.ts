import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestBackend } from '../../test/helpers.js';
import { writeSafetensors } from '../checkpoint/safetensors.js';
import { disposeTensors } from '../models/tensor-map.js';
import type { NebChain } from '../paths/autoneb.js';
import { createCurve, disposeCurve } from '../paths/curve.js';
import { saveCurve } from '../paths/curve-checkpoint.js';
import { flatLayout, flattenParams } from '../paths/flat-params.js';
import { saveNebChain } from '../paths/neb-checkpoint.js';
import { toyMlp, xorModels } from '../../test/fixtures/toy-mlp.js';
import { registerArchitecture } from '../models/registry.js';
import { loadSavedPath } from './saved-paths.js';

let dir: string;
beforeAll(async () => {
  await useTestBackend();
  registerArchitecture(toyMlp);
  dir = await mkdtemp(join(tmpdir(), 'modeconn-saved-paths-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const escape = (path: string): string => path.replace(/[.\\/]/g, '\\$&');

/** The chain A → midpoint + 1 → B as a NebChain (new tensors). */
function threePivotChain(a: ReturnType<typeof xorModels>['a'], b: ReturnType<typeof xorModels>['b'], architecture: NebChain['architecture'] = 'toy-mlp'): NebChain {
  const layout = flatLayout(a.params);
  const start = flattenParams(a.params, layout);
  const end = flattenParams(b.params, layout);
  const middle = tf.tidy(() => tf.add<tf.Tensor1D>(tf.mul(tf.add(start, end), 0.5), 1));
  return { architecture, config: a.config, layout, pivots: [start, middle, end], endpointBuffers: [new Map(), new Map()] };
}

describe('loadSavedPath', () => {
  it('dispatches on the file’s metadata format: a curve file gives a curve, an AutoNEB chain file its piecewise-linear path', async () => {
    const { a, b } = xorModels();
    const curveFile = join(dir, 'curve.safetensors');
    const curve = createCurve(a, b);
    await saveCurve(curveFile, curve);
    disposeCurve(curve);
    const chainFile = join(dir, 'chain.safetensors');
    const chain = threePivotChain(a, b);
    await saveNebChain(chainFile, chain);
    tf.dispose([...chain.pivots]);

    const before = tf.memory().numTensors;
    const curvePath = await loadSavedPath(curveFile, a);
    expect(curvePath.kind).toBe('bezier');
    curvePath.dispose();
    const nebPath = await loadSavedPath(chainFile, a);
    expect(nebPath.kind).toBe('autoneb');
    // The middle pivot sits halfway along the chain (both segments have the same length).
    const middle = nebPath.pointAt(0.5);
    const expected = tf.tidy(() => tf.add(tf.mul(tf.add(a.params.get('fc1.weight')!, b.params.get('fc1.weight')!), 0.5), 1));
    const difference = tf.tidy(() => tf.max(tf.abs(tf.sub(middle.params.get('fc1.weight')!, expected))).dataSync()[0]!);
    expect(difference).toBeLessThan(1e-5);
    disposeTensors(middle);
    expected.dispose();
    nebPath.dispose();
    expect(tf.memory().numTensors).toBe(before);
    disposeTensors(a, b);
  });

  it('names the file and lists the known formats for an unknown or missing format, and checks a chain against the checkpoint', async () => {
    const { a, b } = xorModels();
    const other = join(dir, 'other.safetensors');
    await writeSafetensors(other, new Map([['w', { shape: [1], data: [1] }]]), { format: 'modeconn-checkpoint' });
    await expect(loadSavedPath(other, a)).rejects.toThrow(new RegExp(`${escape(other)} is not a saved path \\(metadata format is "modeconn-checkpoint"; expected one of modeconn-curve, modeconn-neb`));
    await writeSafetensors(other, new Map([['w', { shape: [1], data: [1] }]]));
    await expect(loadSavedPath(other, a)).rejects.toThrow(/metadata format is missing; expected one of modeconn-curve, modeconn-neb/);
    const json = join(dir, 'rows.json');
    await writeFile(json, '{"rows": []}\n');
    await expect(loadSavedPath(json, a)).rejects.toThrow(new RegExp(`${escape(json)}: header length`));
    await expect(loadSavedPath(join(dir, 'absent.safetensors'), a)).rejects.toThrow(/--path: .*absent\.safetensors does not exist/);

    const before = tf.memory().numTensors;
    const resnetChain = threePivotChain(a, b, 'resnet18');
    const resnetFile = join(dir, 'resnet-chain.safetensors');
    await saveNebChain(resnetFile, resnetChain);
    tf.dispose([...resnetChain.pivots]);
    await expect(loadSavedPath(resnetFile, a)).rejects.toThrow(new RegExp(`${escape(resnetFile)} is a resnet18 AutoNEB chain but toy-mlp checkpoints were given`));
    const wider = xorModels(4, 10);
    const narrowChain = threePivotChain(a, b);
    const narrowFile = join(dir, 'narrow-chain.safetensors');
    await saveNebChain(narrowFile, narrowChain);
    tf.dispose([...narrowChain.pivots]);
    await expect(loadSavedPath(narrowFile, wider.a)).rejects.toThrow(/holds "fc1\.weight" with shape \[2, 8\] but the checkpoint has \[2, 10\]/);
    disposeTensors(wider.a, wider.b);
    expect(tf.memory().numTensors).toBe(before);
    disposeTensors(a, b);
  });
});
