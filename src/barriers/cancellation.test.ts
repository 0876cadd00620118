/**
 * `options.signal` in every barrier grid (layer-wise, per epoch, cumulative, robustness,
 * subspace), with the contract of test/grid-cancellation.ts: LeNet5 from the registry (worker
 * threads can load it) on 16 random images.
 */
import { afterAll, beforeAll, describe } from 'vitest';
import { itStopsOnAbort } from '../../test/grid-cancellation.js';
import { disposeImages, randomImages } from '../../test/fixtures/landscape-data.js';
import { useTestBackend } from '../../test/helpers.js';
import type { EvaluationData } from '../evaluate/evaluate.js';
import { createModel } from '../models/registry.js';
import { disposeTensors } from '../models/tensor-map.js';
import type { Model } from '../models/types.js';
import { cumulativeBarriers, layerwiseBarriers, layerwiseBarriersByEpoch } from './layerwise.js';
import { layerRobustness } from './robustness.js';
import { subspacePerturbations } from './subspace.js';

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

describe('barrier grids stop on options.signal', () => {
  itStopsOnAbort('layerwiseBarriers', (options) => layerwiseBarriers(a, b, data, { ...options, points: 3, layers: ['conv1', 'fc1'] }), /^layerwiseBarriers: aborted/);
  itStopsOnAbort('layerwiseBarriersByEpoch', (options) => layerwiseBarriersByEpoch([a, c], [b, b], data, { ...options, points: 3, layers: ['conv1'], epochs: [4, 5] }), /^layerwiseBarriers \(epoch 4\): aborted/);
  itStopsOnAbort('cumulativeBarriers', (options) => cumulativeBarriers(a, b, data, { ...options, orders: ['shallow'] }), /^cumulativeBarriers: aborted/);
  itStopsOnAbort('layerRobustness', (options) => layerRobustness(a, b, data, { ...options, points: 3, samples: 2, layers: ['conv1'] }), /^layerRobustness: aborted/);
  itStopsOnAbort('subspacePerturbations', (options) => subspacePerturbations(a, b, [c], data, { ...options, samples: 1, magnitudes: [0, 0.5, 1] }), /^subspacePerturbations: aborted/);
});
