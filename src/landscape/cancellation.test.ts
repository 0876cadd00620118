/**
 * `options.signal` in every landscape grid (the plane through three models, a curve's plane,
 * filter-normalized random directions) with the contract of test/grid-cancellation.ts, and in
 * compareModels (checked before each batch). LeNet5 from the registry on random images.
 */
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { itStopsOnAbort } from '../../test/grid-cancellation.js';
import { disposeImages, randomImages } from '../../test/fixtures/landscape-data.js';
import { useTestBackend } from '../../test/helpers.js';
import type { EvaluationData } from '../evaluate/evaluate.js';
import { createModel, getArchitecture } from '../models/registry.js';
import { disposeTensors } from '../models/tensor-map.js';
import type { Architecture, Model } from '../models/types.js';
import type { Curve } from '../paths/curve.js';
import { compareModels } from './compare-models.js';
import { evaluateCurvePlane, evaluatePlane } from './evaluate-plane.js';
import { evaluateRandomDirections } from './random-directions.js';

const arch = getArchitecture('lenet5');
let a: Model, b: Model, c: Model, data: EvaluationData;
beforeAll(async () => {
  await useTestBackend();
  [a, b, c] = [1, 2, 3].map((s) => createModel('lenet5', {}, s)) as [Model, Model, Model];
  data = randomImages(16, 5);
});
afterAll(() => {
  disposeTensors(a, b, c);
  disposeImages(data);
});

describe('landscape grids stop on options.signal', () => {
  itStopsOnAbort('evaluatePlane', (options) => evaluatePlane(arch, a.config, [a, b, c], data, { ...options, grid: 3 }), /^evaluatePlane: aborted/);
  itStopsOnAbort('evaluateCurvePlane', (options) => {
    const curve: Curve = { kind: 'bezier', architecture: 'lenet5', config: a.config, bends: [a.params, c.params, b.params], trainable: [false, true, false], endpointBuffers: [a.buffers, b.buffers] };
    return evaluateCurvePlane(arch, curve, data, { ...options, grid: 3, points: 5 });
  }, /^evaluateCurvePlane: aborted/);
  itStopsOnAbort('evaluateRandomDirections', (options) => evaluateRandomDirections(arch, a, data, { ...options, dimensions: 1, points: 5 }), /^evaluateRandomDirections: aborted/);
});

describe('compareModels stops on options.signal', () => {
  it('aborted before the call or after the first batch, throws an AbortError and leaks nothing', async () => {
    const batches = [0, 1, 2].map((s) => randomImages(4, 10 + s));
    const threeBatches: EvaluationData = { test: batches.map((d) => d.test![0]!), bnBatches: [] };
    const before = tf.memory().numTensors;
    const aborted = new AbortController();
    aborted.abort(new Error('stop'));
    await expect(compareModels(arch, a, b, threeBatches, { signal: aborted.signal })).rejects.toThrow(/^compareModels: aborted: stop$/);

    // The architecture aborts while the first batch is predicted (two forward passes per batch).
    const controller = new AbortController();
    let forwards = 0;
    const counting: Architecture<unknown> = {
      ...arch,
      apply: (...args) => {
        forwards += 1;
        controller.abort();
        return arch.apply(...args);
      },
    };
    await expect(compareModels(counting, a, b, threeBatches, { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(forwards).toBe(2);
    expect(tf.memory().numTensors).toBe(before);
    batches.forEach(disposeImages);
  });
});
