import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestBackend } from '../../test/helpers.js';
import { createModel, getArchitecture, hasArchitecture, listArchitectures, registerArchitecture } from './registry.js';
import type { Architecture } from './types.js';
import { countSpecScalars } from './model-spec.js';
import { countScalars, disposeTensors } from './tensor-map.js';

beforeAll(async () => {
  await useTestBackend();
});

/** The built-ins in registration order (src/models/registry.ts's BUILT_IN). */
const BUILT_INS = ['lenet5', 'resnet18', 'cct', 'vgg', 'mobilenetv2', 'mobilenetv2-dfl', 'efficientnet-b0', 'dla', 'shufflenet', 'shufflenetv2', 'regnet'];

describe('registry', () => {
  it('getArchitecture finds architectures by name and lists the known names otherwise', () => {
    expect(getArchitecture('lenet5').name).toBe('lenet5');
    expect(getArchitecture('resnet18').name).toBe('resnet18');
    expect(getArchitecture('cct').name).toBe('cct');
    expect(listArchitectures()).toEqual(BUILT_INS);
    expect(() => getArchitecture('vgg16')).toThrow(`unknown architecture "vgg16"; known architectures: ${BUILT_INS.join(', ')}`);
    for (const name of listArchitectures()) expect(getArchitecture(name).name).toBe(name);
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

  it('registerArchitecture adds a user architecture that createModel and getArchitecture then find', () => {
    const arch = tiny('user-linear');
    expect(hasArchitecture('user-linear')).toBe(false);
    registerArchitecture(arch);
    expect(getArchitecture('user-linear')).toBe(arch);
    expect(listArchitectures()).toEqual([...BUILT_INS, 'user-linear']);
    registerArchitecture(arch); // the same object again: a no-op
    expect(listArchitectures()).toHaveLength(BUILT_INS.length + 1);
    expect(() => getArchitecture('vgg16')).toThrow(`unknown architecture "vgg16"; known architectures: ${BUILT_INS.join(', ')}, user-linear`);
    const model = createModel('user-linear', {}, 1);
    expect(model.architecture).toBe('user-linear');
    expect(model.params.get('w')?.shape).toEqual([3]);
    disposeTensors(model);
  });

  it('registerArchitecture refuses taken names, invalid names and objects that are not architectures', () => {
    expect(() => registerArchitecture(tiny('lenet5'))).toThrow('registerArchitecture: the name "lenet5" is taken by another architecture; choose another name');
    registerArchitecture(tiny('twice'));
    expect(() => registerArchitecture(tiny('twice'))).toThrow(/the name "twice" is taken/);
    for (const bad of ['', '1mlp', 'my mlp', 'a/b', 'x'.repeat(65)]) {
      expect(() => registerArchitecture(tiny(bad)), bad).toThrow(/registerArchitecture: invalid name/);
    }
    expect(() => registerArchitecture({ ...tiny('no-apply'), apply: undefined } as unknown as Architecture<unknown>)).toThrow('registerArchitecture(no-apply): apply must be a function, found undefined');
    expect(() => registerArchitecture({ ...tiny('bad-pytorch'), pytorch: { matches: () => true } } as unknown as Architecture<unknown>)).toThrow(
      'registerArchitecture(bad-pytorch): pytorch.inferConfig must be a function, found undefined',
    );
    expect(() => registerArchitecture({ ...tiny('bad-llpf'), llpfStages: { stageOf: () => 0, defaultStageTicks: -1 } })).toThrow(/llpfStages\.defaultStageTicks must be a non-negative integer, found -1/);
    expect(() => registerArchitecture(null as unknown as Architecture<unknown>)).toThrow('registerArchitecture: expected an architecture object, found null');
    expect(listArchitectures().filter((n) => n !== 'twice')).toEqual([...BUILT_INS, 'user-linear']);
  });
});

/** A one-tensor architecture (logits = x·0 + w broadcast), enough for registry tests. */
function tiny(name: string): Architecture<Record<string, never>> {
  return {
    name,
    defaultConfig: {},
    parseConfig: () => ({}),
    spec: () => ({ params: [{ name: 'w', shape: [3], kind: 'bias', layer: 'out' }], buffers: [], layers: [{ name: 'out', params: ['w'], buffers: [] }], inputShape: [1, 1, 1], classes: 3 }),
    init: () => ({ params: new Map([['w', tf.zeros([3])]]), buffers: new Map() }),
    apply: (_config, state, x) => ({ logits: tf.tidy(() => tf.add<tf.Tensor2D>(tf.zeros([x.shape[0], 3]), state.params.get('w') as tf.Tensor)), batchStats: new Map() }),
  };
}
