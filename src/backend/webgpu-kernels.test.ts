/**
 * Static kernel coverage, checkable without a GPU: every kernel that a training step and an
 * evaluation of our three models run (recorded on the cpu backend with tf.profile) is registered
 * for webgpu by @tensorflow/tfjs-backend-webgpu, whose import registers kernels without touching a
 * GPU. Whether those kernels compute the right numbers needs a GPU: test/backend-comparison.test.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './init-backend.js';
import { getArchitecture } from '../models/registry.js';
import { disposeTensors } from '../models/tensor-map.js';
import { createOptimizer } from '../train/optimizer.js';
import { trainStep } from '../train/step.js';
import { reportSkip } from '../../test/helpers.js';

const specifier = '@tensorflow/tfjs-backend-webgpu';
const installed = await import(specifier).then(
  () => undefined,
  (error: unknown) => (error as Error).message.split('\n')[0],
);
if (installed !== undefined) reportSkip('webgpu-kernels.test.ts', 'webgpu kernel coverage', `${specifier} does not load: ${installed}`);

const MODELS = [
  // LeNet5's and CCT's relu layers are fused under gradients too (src/models/fused-relu.ts).
  ['lenet5', {}, [4, 28, 28, 1], ['Conv2DBackpropFilter', 'FusedConv2D', '_FusedMatMul', 'Step']],
  ['resnet18', { width: 1 / 16, inputSize: 16 }, [4, 16, 16, 3], ['Conv2DBackpropFilter', 'Relu']],
  ['cct', { preset: 'cct_tiny', inputSize: 8, classes: 3 }, [4, 8, 8, 3], ['Conv2DBackpropFilter', 'FusedConv2D', 'Step']],
  ['efficientnet-b0', { width: 0.1, inputSize: 16 }, [4, 16, 16, 3], ['Conv2DBackpropFilter', 'Sigmoid', 'DepthwiseConv2dNativeBackpropFilter']],
  ['dla', { width: 1 / 16, inputSize: 8 }, [4, 8, 8, 3], ['Conv2DBackpropFilter', 'Relu', 'Concat']],
] as const;

describe.skipIf(installed !== undefined)('tfjs-backend-webgpu kernel coverage', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  for (const [name, rawConfig, shape, expected] of MODELS) {
    it(`registers every kernel of a ${name} training step and evaluation`, async () => {
      const arch = getArchitecture(name);
      const config = arch.parseConfig(rawConfig);
      const state = arch.init(config, 1);
      const x = tf.randomNormal<tf.Rank.R4>([...shape], 0, 1, 'float32', 2);
      const y = tf.tensor1d([0, 1, 2, 0], 'int32');
      const optimizer = createOptimizer({ kind: 'sgd', momentum: 0.9, weightDecay: 5e-4 });
      const profile = await tf.profile(() => {
        const result = trainStep(arch, config, state, { x, y }, optimizer, 0.01);
        tf.dispose([result.loss, result.correct]);
        disposeTensors(result.state);
        tf.tidy(() => arch.apply(config, state, x, { training: false }).logits.dataSync());
      });
      // Op scopes of custom gradients are recorded too (`fusedConv2d__op`, and `unnamed scope` for a
      // tf.customGrad such as BatchNorm's closed-form gradient); they are not kernels.
      const used = [...new Set(profile.kernels.map((k) => k.name))].filter((k) => !k.endsWith('__op') && k !== 'unnamed scope');
      expect(used).toEqual(expect.arrayContaining([...expected]));
      const registered = new Set(tf.getKernelsForBackend('webgpu').map((k) => k.kernelName));
      expect(used.filter((k) => !registered.has(k))).toEqual([]);
      disposeTensors(state);
      optimizer.dispose();
      tf.dispose([x, y]);
    });
  }
});
