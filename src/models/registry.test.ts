import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestBackend } from '../../test/helpers.js';
import { ARCHITECTURES, createModel, getArchitecture } from './registry.js';
import { countSpecScalars } from './model-spec.js';
import { countScalars, disposeTensors } from './tensor-map.js';

beforeAll(async () => {
  await useTestBackend();
});

describe('registry', () => {
  it('getArchitecture finds architectures by name and lists the known names otherwise', () => {
    expect(getArchitecture('lenet5').name).toBe('lenet5');
    expect(getArchitecture('resnet18').name).toBe('resnet18');
    expect(getArchitecture('cct').name).toBe('cct');
    expect(Object.keys(ARCHITECTURES)).toEqual(['lenet5', 'resnet18', 'cct']);
    expect(() => getArchitecture('vgg16')).toThrow('unknown architecture "vgg16"; known architectures: lenet5, resnet18, cct');
    for (const [name, arch] of Object.entries(ARCHITECTURES)) expect(arch.name).toBe(name);
    expect(() => getArchitecture('toString')).toThrow(/unknown architecture "toString"/);
  });

  it('createModel validates the config, fills defaults and initializes from the seed', () => {
    const live = tf.memory().numTensors;
    const model = createModel('lenet5', { classes: 5 }, 3);
    expect(model.architecture).toBe('lenet5');
    expect(model.config).toEqual({ inputChannels: 1, inputSize: 28, classes: 5 });
    expect(countScalars(model.params)).toBe(61706 - 5 * 85);
    expect(() => createModel('lenet5', { classes: -1 }, 3)).toThrow(/classes/);
    disposeTensors(model);
    for (const [name, raw] of [['resnet18', { width: 1 / 16, inputSize: 8 }], ['cct', { preset: 'cct_tiny', inputSize: 8 }]] as const) {
      const m = createModel(name, raw, 1, { scheme: 'xavier' });
      const arch = getArchitecture(name);
      expect(countScalars(m.params), name).toBe(countSpecScalars(arch.spec(m.config).params));
      expect([...m.buffers.keys()], name).toEqual(arch.spec(m.config).buffers.map((b) => b.name));
      disposeTensors(m);
    }
    expect(tf.memory().numTensors).toBe(live);
  });
});
