import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestBackend } from '../../test/helpers.js';
import { readSafetensors, writeSafetensors } from '../checkpoint/safetensors.js';
import { disposeTensors } from '../models/tensor-map.js';
import type { Model, TensorMap } from '../models/types.js';
import { connectAutoNeb, disposeNebChain, nebPath, parseNebCycles } from './autoneb.js';
import { tensorBatchSource } from './batch-source.js';
import { createCurve, disposeCurve } from './curve.js';
import { saveCurve } from './curve-checkpoint.js';
import { loadNebChain, saveNebChain } from './neb-checkpoint.js';
import { toyMlp, xorData, xorModels, type ToyMlpConfig } from '../../test/fixtures/toy-mlp.js';
import { registerArchitecture } from '../models/registry.js';

let dir: string;
beforeAll(async () => {
  await useTestBackend();
  registerArchitecture(toyMlp);
  dir = await mkdtemp(join(tmpdir(), 'modeconn-neb-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const values = (m: TensorMap): [string, number[], number[]][] => [...m].map(([n, t]) => [n, t.shape, Array.from(t.dataSync())]);
const escape = (path: string): string => path.replace(/[.\\/]/g, '\\$&');

/** Two XOR modes with (made-up) BatchNorm-style buffers, so the buffer tensors are exercised too. */
function endpoints(): [Model<ToyMlpConfig>, Model<ToyMlpConfig>] {
  const { a, b } = xorModels();
  return [
    { ...a, buffers: new Map([['bn.running_var', tf.tensor1d([0.5, 2, 1.25])]]) },
    { ...b, buffers: new Map([['bn.running_var', tf.tensor1d([3, 0.125, 1])]]) },
  ];
}

/** A real (short) AutoNEB chain between the endpoints, with its cycle rows. */
async function shortChain(a: Model<ToyMlpConfig>, b: Model<ToyMlpConfig>): Promise<Awaited<ReturnType<typeof connectAutoNeb<ToyMlpConfig>>>> {
  const data = xorData(64);
  const source = tensorBatchSource(data.x, data.y, { batchSize: 32, seed: 3 });
  const result = await connectAutoNeb(toyMlp, a, b, { train: source, evaluation: [data] }, { cycles: parseNebCycles('2x5@0.1'), densePoints: 2 });
  tf.dispose([data.x, data.y]);
  return result;
}

describe('saveNebChain / loadNebChain', () => {
  it('round-trips pivots and buffers bit for bit, with the layout, config and cycle rows, and nebPath agrees at every t', async () => {
    const [a, b] = endpoints();
    const { chain, rows } = await shortChain(a, b);
    expect(chain.pivots.length).toBeGreaterThan(2);
    const file = join(dir, 'chain.safetensors');
    await saveNebChain(file, chain, { cycles: rows });
    expect((await readdir(dir)).filter((f) => f.includes('.tmp'))).toEqual([]);
    const { metadata } = await readSafetensors(file);
    expect(metadata).toMatchObject({ format: 'modeconn-neb', version: '1', architecture: 'toy-mlp', pivots: String(chain.pivots.length) });

    const before = tf.memory().numTensors;
    const loaded = await loadNebChain(file);
    expect(loaded.architecture).toBe('toy-mlp');
    expect(loaded.config).toEqual({ hidden: 8 });
    expect(loaded.layout).toEqual(chain.layout);
    expect(loaded.info.cycles).toEqual(rows);
    expect(loaded.pivots.length).toBe(chain.pivots.length);
    for (const [i, pivot] of chain.pivots.entries()) expect(loaded.pivots[i]!.dataSync(), `pivot ${i}`).toEqual(pivot.dataSync());
    for (const k of [0, 1]) expect(values(loaded.endpointBuffers[k as 0 | 1])).toEqual(values(chain.endpointBuffers[k as 0 | 1]));

    const original = nebPath(chain);
    const reloaded = nebPath(loaded);
    for (const t of [0, 0.13, 0.5, 0.77, 1]) {
      const p = original.pointAt(t);
      const q = reloaded.pointAt(t);
      expect(values(q.params), `params at t = ${t}`).toEqual(values(p.params));
      expect(values(q.buffers), `buffers at t = ${t}`).toEqual(values(p.buffers));
      disposeTensors(p, q);
    }
    reloaded.dispose();
    expect(tf.memory().numTensors).toBe(before);
    original.dispose();
    disposeTensors(a, b);
  });

  it('a chain saved without cycle rows loads with none, and repeated round trips leak no tensors', async () => {
    const [a, b] = endpoints();
    const { chain } = await shortChain(a, b);
    const file = join(dir, 'plain.safetensors');
    await saveNebChain(file, chain);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      const loaded = await loadNebChain(file);
      expect(loaded.info).toEqual({});
      await saveNebChain(file, loaded);
      disposeNebChain(loaded);
      expect(tf.memory().numTensors, `round trip ${i + 1}`).toBe(before);
    }
    disposeNebChain(chain);
    disposeTensors(a, b);
  });

  it('refuses a missing, truncated or non-chain file, naming it, and a missing or misshapen tensor without leaking', async () => {
    const [a, b] = endpoints();
    const { chain } = await shortChain(a, b);
    const good = join(dir, 'good.safetensors');
    await saveNebChain(good, chain);
    const bytes = await readFile(good);
    const truncated = join(dir, 'truncated.safetensors');
    await writeFile(truncated, bytes.subarray(0, bytes.length - 10));
    await expect(loadNebChain(truncated)).rejects.toThrow(new RegExp(`${escape(truncated)}: is truncated`));
    await expect(loadNebChain(join(dir, 'absent.safetensors'))).rejects.toThrow(/absent\.safetensors/);

    const curveFile = join(dir, 'curve.safetensors');
    const curve = createCurve(a, b);
    await saveCurve(curveFile, curve);
    disposeCurve(curve);
    await expect(loadNebChain(curveFile)).rejects.toThrow(new RegExp(`${escape(curveFile)}: not an AutoNEB chain \\(metadata format is "modeconn-curve", expected "modeconn-neb"\\)`));

    const metadata = { format: 'modeconn-neb', version: '1', architecture: 'lenet5', config: '{}', params: '["w"]', shapes: '[[2]]', buffers: '[]', pivots: '3' };
    const broken = join(dir, 'broken.safetensors');
    await writeSafetensors(broken, new Map([['pivot0', { shape: [2], data: [1, 2] }], ['pivot1', { shape: [2], data: [3, 4] }]]), metadata);
    const before = tf.memory().numTensors;
    await expect(loadNebChain(broken)).rejects.toThrow(new RegExp(`${escape(broken)}: tensor "pivot2" is missing`));
    await writeSafetensors(broken, new Map([['pivot0', { shape: [2], data: [1, 2] }], ['pivot1', { shape: [3], data: [3, 4, 5] }], ['pivot2', { shape: [2], data: [1, 2] }]]), metadata);
    await expect(loadNebChain(broken)).rejects.toThrow(/tensor "pivot1" has shape \[3\], expected \[2\]/);
    expect(tf.memory().numTensors).toBe(before);
    const { shapes: _, ...withoutShapes } = metadata;
    await writeSafetensors(broken, new Map([['pivot0', { shape: [2], data: [1, 2] }]]), withoutShapes);
    await expect(loadNebChain(broken)).rejects.toThrow(new RegExp(`${escape(broken)}: metadata field "shapes" is missing`));
    disposeNebChain(chain);
    disposeTensors(a, b);
  });
});
