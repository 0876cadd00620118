import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestBackend } from '../../test/helpers.js';
import { toyMlp, trainXorModel, xorData } from '../../test/fixtures/toy-mlp.js';
import { registerArchitecture } from '../models/registry.js';
import { disposeTensors } from '../models/tensor-map.js';
import type { Model, ModelState } from '../models/types.js';
import type { ProgressEvent } from '../progress.js';
import { findAutoNebPath, parseNebCycles } from './autoneb.js';
import { tensorBatchSource } from './batch-source.js';
import { createCurve } from './curve.js';
import { saveCurve } from './curve-checkpoint.js';
import { evaluatePath, findLinearPath, linearPath } from './linear-path.js';
import { findLlpfPath } from './llpf.js';
import type { ParameterPath, PathResult } from './path.js';
import { loadPath, savePath } from './saved-path.js';
import { findCurve } from './train-curve.js';
import { writeSafetensors } from '../checkpoint/safetensors.js';

let dir: string;
let data: { x: tf.Tensor4D; y: tf.Tensor1D };
let a: Model<{ hidden: number }>;
let b: Model<{ hidden: number }>;

beforeAll(async () => {
  await useTestBackend();
  registerArchitecture(toyMlp);
  dir = await mkdtemp(join(tmpdir(), 'path-methods-'));
  data = xorData(128);
  a = trainXorModel(1, data);
  b = trainXorModel(2, data);
});
afterAll(async () => {
  disposeTensors(a, b);
  tf.dispose([data.x, data.y]);
  await rm(dir, { recursive: true, force: true });
});

const values = (state: ModelState): number[][] => [...state.params.values(), ...state.buffers.values()].map((t) => Array.from(t.dataSync()));
const source = () => tensorBatchSource(data.x, data.y, { batchSize: 32, seed: 3 });

/** Every path method, in the one shape, on the XOR modes (small settings: this is about the contract). */
const METHODS: Record<string, (options: { progress?: (e: ProgressEvent) => void; signal?: AbortSignal }) => Promise<PathResult<object>>> = {
  linear: (options) => findLinearPath(toyMlp, [a, b], undefined, options),
  curve: (options) => findCurve(toyMlp, [a, b], source(), { kind: 'bezier', bends: 3, epochs: 3, lr: 0.1, ...options }),
  autoneb: (options) => findAutoNebPath(toyMlp, [a, b], { train: source(), evaluation: [data] }, { cycles: parseNebCycles('2x10@0.1'), densePoints: 2, ...options }),
  llpf: (options) =>
    findLlpfPath(toyMlp, { start: a, target: { kind: 'model', state: b } }, { train: source() }, { ticks: 6, recordEvery: 2, stepAdaptive: 0.3, training: { lr: 0.05, minIterations: 1, maxIterations: 2, lossThreshold: 10 }, ...options }),
};

describe('path methods share one shape and one ownership rule', () => {
  for (const [method, find] of Object.entries(METHODS)) {
    it(`${method}: create → pointAt → dispose leaves tf.memory().numTensors where it was; the endpoints stay the caller's`, async () => {
      const before = tf.memory().numTensors;
      const events: ProgressEvent[] = [];
      const { path, completed } = await find({ progress: (e) => events.push(e) });
      expect(completed).toBe(true);
      if (method !== 'linear') {
        expect(events.length).toBeGreaterThan(0);
        const last = events.at(-1) as ProgressEvent;
        expect(last.step).toBe(last.total);
        expect(events.every((e) => e.task === method || (method === 'curve' && e.task === 'curve'))).toBe(true);
      }
      for (const t of [0, 0.3, 1]) {
        const point = path.pointAt(t);
        expect([...point.params.keys()]).toEqual([...a.params.keys()]);
        disposeTensors(point);
      }
      const start = path.pointAt(0);
      expect(values(start)).toEqual(values(a));
      disposeTensors(start);
      path.dispose();
      path.dispose(); // a second dispose does nothing
      expect(() => path.pointAt(0.5)).toThrow(/after dispose/);
      expect(tf.memory().numTensors).toBe(before);
      expect(a.params.get('fc1.weight')?.isDisposed).toBe(false);
    });

    it(`${method}: savePath → loadPath gives the same points (bit for bit) and the method's kind`, async () => {
      const { path, info } = await find({});
      const file = join(dir, `${method}.safetensors`);
      await savePath(file, path, { info });
      const loaded = await loadPath(file);
      expect(loaded.path.kind).toBe(path.kind);
      expect(loaded.path.architecture).toBe(path.architecture);
      expect(loaded.path.config).toEqual(path.config);
      expect(JSON.parse(JSON.stringify(loaded.info))).toEqual(JSON.parse(JSON.stringify(info)));
      for (const t of [0, 0.25, 0.5, 0.9, 1]) {
        const [p, q] = [path.pointAt(t), loaded.path.pointAt(t)];
        expect(values(q), `t = ${t}`).toEqual(values(p));
        disposeTensors(p, q);
      }
      const before = tf.memory().numTensors;
      path.dispose();
      loaded.path.dispose();
      expect(tf.memory().numTensors).toBeLessThan(before);
    });
  }

  it('options.signal stops curve, AutoNEB and LLPF between steps with completed: false and a usable path', async () => {
    for (const [method, find] of Object.entries(METHODS).filter(([m]) => m !== 'linear')) {
      const before = tf.memory().numTensors;
      const controller = new AbortController();
      const steps: number[] = [];
      const { path, completed } = await find({
        signal: controller.signal,
        progress: (e) => {
          steps.push(e.step);
          if (e.step === 2) controller.abort();
        },
      });
      expect(completed, method).toBe(false);
      expect(steps.at(-1), method).toBe(2);
      const start = path.pointAt(0);
      expect(values(start)).toEqual(values(a));
      disposeTensors(start);
      path.dispose();
      expect(tf.memory().numTensors, method).toBe(before);
    }
  });

  it('evaluatePath with an aborted signal starts no point, throws an AbortError and leaks nothing', async () => {
    const path = linearPath(a, b);
    const before = tf.memory().numTensors;
    const controller = new AbortController();
    let evaluated = 0;
    const run = evaluatePath(path, { test: [data], bnBatches: [] }, {
      points: 5,
      architecture: toyMlp,
      signal: controller.signal,
      progress: () => {
        evaluated += 1;
        controller.abort();
      },
    });
    await expect(run).rejects.toThrow(/evaluatePath \(linear\): aborted/);
    expect(evaluated).toBe(1);
    expect(tf.memory().numTensors).toBe(before);
    path.dispose();
  });
});

describe('loadPath', () => {
  it('keeps BatchNorm buffers of the endpoints (linear path with buffers)', async () => {
    const withBuffers = (m: Model<{ hidden: number }>, v: number): Model<{ hidden: number }> => ({ ...m, buffers: new Map([['bn.mean', tf.fill([2], v)]]) });
    const [p, q] = [withBuffers(a, 1), withBuffers(b, 3)];
    const path = linearPath(p, q);
    const file = join(dir, 'linear-buffers.safetensors');
    await savePath(file, path);
    const loaded = await loadPath(file);
    const mid = loaded.path.pointAt(0.5);
    expect(Array.from(mid.buffers.get('bn.mean')!.dataSync())).toEqual([2, 2]);
    disposeTensors(mid);
    loaded.path.dispose();
    path.dispose();
    tf.dispose([p.buffers.get('bn.mean')!, q.buffers.get('bn.mean')!]);
  });

  it('reads a legacy modeconn-curve version 1 file (migration) as the same curve', async () => {
    const curve = createCurve(a, b, { kind: 'polychain', bends: 4 });
    const file = join(dir, 'legacy-curve.safetensors');
    await saveCurve(file, curve);
    const loaded = await loadPath(file);
    expect(loaded.path.kind).toBe('polychain');
    const point = loaded.path.pointAt(1);
    expect(values(point)).toEqual(values(b));
    disposeTensors(point);
    loaded.path.dispose();
    for (const bend of curve.bends) disposeTensors(bend);
  });

  it('names the format and version of a file it does not read, and the field of a bad header', async () => {
    const tensors = new Map([['x', { shape: [1], data: new Float32Array([1]) }]]);
    const other = join(dir, 'other.safetensors');
    await writeSafetensors(other, tensors, { format: 'modeconn-curve', version: '7' });
    await expect(loadPath(other)).rejects.toThrow(/format "modeconn-curve", version "7"/);
    const newer = join(dir, 'newer.safetensors');
    await writeSafetensors(newer, tensors, { format: 'modeconn-path', version: '2' });
    await expect(loadPath(newer)).rejects.toThrow(/format "modeconn-path", version "2".*expected format "modeconn-path" version 1/);
    const path = linearPath(a, b);
    const good = join(dir, 'good.safetensors');
    await savePath(good, path);
    path.dispose();
    const { readSafetensors } = await import('../checkpoint/safetensors.js');
    const contents = await readSafetensors(good);
    const bad = join(dir, 'bad.safetensors');
    await writeSafetensors(bad, contents.tensors, { ...contents.metadata, method: 'spline' });
    await expect(loadPath(bad)).rejects.toThrow(/metadata field "method" must be equal to one of the allowed values/);
    const missing = join(dir, 'missing.safetensors');
    await writeSafetensors(missing, new Map([...contents.tensors].filter(([k]) => k !== 'end/params/fc2.bias')), contents.metadata);
    const before = tf.memory().numTensors;
    await expect(loadPath(missing)).rejects.toThrow(/tensor "end\/params\/fc2.bias" is missing/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('savePath refuses a path without content()', async () => {
    const bare: ParameterPath = { kind: 'custom', architecture: 'lenet5', config: {}, pointAt: () => ({ params: new Map(), buffers: new Map() }), dispose: () => undefined };
    await expect(savePath(join(dir, 'x.safetensors'), bare)).rejects.toThrow(/custom path has no content/);
  });
});
