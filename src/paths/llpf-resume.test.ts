/**
 * Resume safety of runLlpf: a checkpoint folder continues only the run it holds (same start,
 * target and options); an unreadable state is an error naming the file and how to start over.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestBackend } from '../../test/helpers.js';
import { toyLinear, type ToyConfig } from '../../test/toy-architecture.js';
import { disposeTensors } from '../models/tensor-map.js';
import { createRandom, normalArray } from '../util/random.js';
import { resumeProblemOf } from '../util/resume-check.js';
import { tensorBatchSource } from './batch-source.js';
import { disposeLlpfRun, runLlpf, type LlpfOptions } from './llpf.js';

const config: ToyConfig = { size: 2, classes: 3 };
let x: tf.Tensor4D;
let y: tf.Tensor1D;
let dir: string;

beforeAll(async () => {
  await useTestBackend();
  const random = createRandom(1);
  x = tf.tensor4d(normalArray(64 * 4, 0, 1, random), [64, 2, 2, 1]);
  y = tf.tensor1d(Array.from({ length: 64 }, (_, i) => i % 3), 'int32');
  dir = await mkdtemp(join(tmpdir(), 'llpf-resume-'));
});
afterAll(async () => {
  tf.dispose([x, y]);
  await rm(dir, { recursive: true, force: true });
});

describe('runLlpf resume', () => {
  it('refuses a folder made from another start, target or options, naming what differs; more ticks continue the run', async () => {
    const a = toyLinear.init(config, 1);
    const b = toyLinear.init(config, 2);
    const c = toyLinear.init(config, 3);
    const train = tensorBatchSource(x, y, { batchSize: 16, seed: 3 });
    const folder = join(dir, 'mismatch');
    const options: LlpfOptions = { ticks: 4, recordEvery: 2, stepAdaptive: 0.05, training: { lr: 0.05, minIterations: 2, maxIterations: 3 }, checkpoint: { directory: folder, every: 1 } };
    const controller = new AbortController();
    const first = await runLlpf(toyLinear, config, a, { kind: 'model', state: b }, { train }, { ...options, signal: controller.signal, progress: (e) => e.step === 2 && controller.abort() });
    expect(first.completed).toBe(false);
    disposeLlpfRun(first);

    const resume = { ...options, resume: true };
    const attempt = async (start: typeof a, target: Parameters<typeof runLlpf>[3], changed: LlpfOptions): Promise<unknown> =>
      runLlpf(toyLinear, config, start, target, { train }, changed).then(
        (run) => {
          disposeLlpfRun(run);
          return undefined;
        },
        (e: unknown) => e,
      );
    const before = tf.memory().numTensors;
    const cases: [unknown, string | string[], RegExp][] = [
      [await attempt(c, { kind: 'model', state: b }, resume), 'start', /start: recorded "[0-9a-f]{16}", given "[0-9a-f]{16}"/],
      [await attempt(a, { kind: 'model', state: c }, resume), 'target', /target: recorded \{.*"kind":"model".*\}, given/],
      // (toward the origin the default projection is off, so that differs too)
      [await attempt(a, { kind: 'origin' }, resume), ['target', 'project'], /target: recorded .*, given \{"kind":"origin"\}/],
      [await attempt(a, { kind: 'model', state: b }, { ...resume, stepAdaptive: 0.1 }), 'stepAdaptive', /stepAdaptive: recorded 0\.05, given 0\.1/],
      [await attempt(a, { kind: 'model', state: b }, { ...resume, training: { lr: 0.01, minIterations: 2, maxIterations: 3 } }), 'training', /training: recorded \{.*"lr":0\.05.*\}, given \{.*"lr":0\.01/],
      [await attempt(a, { kind: 'model', state: b }, { ...resume, recipe: { batchSize: 32 } }), 'batchSize', /batchSize: recorded nothing, given 32/],
    ];
    for (const [error, field, message] of cases) {
      expect(String(error), String(field)).toMatch(message);
      expect(String(error)).toMatch(/llpf-state\.safetensors was written by a run with another recipe/);
      expect(String(error)).toMatch(/to start over, run without resume or delete .*mismatch/);
      expect(resumeProblemOf(error)?.differences.map((d) => d.field)).toEqual(Array.isArray(field) ? field : [field]);
    }
    expect(tf.memory().numTensors).toBe(before);
    // The same run with more ticks is a continuation (ticks decide where it stops, not its course).
    const longer = await runLlpf(toyLinear, config, a, { kind: 'model', state: b }, { train }, { ...resume, ticks: 6 });
    expect(longer.completed).toBe(true);
    expect(longer.tick).toBe(6);
    disposeLlpfRun(longer);
    disposeTensors(a, b, c);
  });

  it('an unreadable state file is an error naming it and how to start over', async () => {
    const a = toyLinear.init(config, 1);
    const folder = join(dir, 'corrupt');
    const options: LlpfOptions = { ticks: 2, stepAdaptive: 0.05, training: false, checkpoint: { directory: folder, every: 1 } };
    disposeLlpfRun(await runLlpf(toyLinear, config, a, { kind: 'origin' }, {}, options));
    await writeFile(join(folder, 'llpf-state.safetensors'), 'garbage');
    await expect(runLlpf(toyLinear, config, a, { kind: 'origin' }, {}, { ...options, resume: true })).rejects.toThrow(
      /llpf-state\.safetensors cannot be read \(.*\); to start over, run without resume or delete/,
    );
    disposeTensors(a);
  });
});
