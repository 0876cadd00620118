import { describe, expect, it } from 'vitest';
import { decodeCheckpointMetadata, encodeCheckpointMetadata, isNativeCheckpointMetadata, type CheckpointMetadata } from './metadata.js';

const full: CheckpointMetadata = {
  architecture: 'resnet18',
  config: { width: 0.5, inputChannels: 3, inputSize: 32, classes: 10 },
  dataset: 'cifar10',
  preprocessing: { kind: 'standardize', mean: [0.5, 0.5, 0.5] },
  seed: 42,
  epoch: 200,
  metrics: { testLoss: 0.3, diverged: NaN, upper: Infinity, lower: -Infinity },
  createdAt: '2026-11-22T10:00:00.000Z',
  extra: { runId: 'abc', tags: ['a', 'b'] },
};

describe('checkpoint metadata', () => {
  it('encodes every value as a string and decodes back to the same metadata (NaN and ±Inf metrics included)', () => {
    const onDisk = encodeCheckpointMetadata(full);
    for (const value of Object.values(onDisk)) expect(typeof value).toBe('string');
    expect(onDisk).toMatchObject({ format: 'mode-connectivity', format_version: '1', architecture: 'resnet18', seed: '42', epoch: '200', created_at: '2026-11-22T10:00:00.000Z' });
    expect(onDisk.metrics).toBe('{"testLoss":0.3,"diverged":"NaN","upper":"Infinity","lower":"-Infinity"}');
    const back = decodeCheckpointMetadata(onDisk as unknown as Record<string, string>, 'x.safetensors');
    expect(back).toEqual(full);
    expect(isNativeCheckpointMetadata(onDisk as unknown as Record<string, string>)).toBe(true);
    expect(isNativeCheckpointMetadata({ format: 'pt' })).toBe(false);
  });

  it('leaves optional keys out and fills createdAt', () => {
    const onDisk = encodeCheckpointMetadata({ architecture: 'lenet5', config: {} });
    expect(Object.keys(onDisk).sort()).toEqual(['architecture', 'config', 'created_at', 'format', 'format_version']);
    expect(Number.isNaN(Date.parse(onDisk.created_at))).toBe(false);
  });

  it('errors name the file and the key', () => {
    const good = encodeCheckpointMetadata(full) as unknown as Record<string, string>;
    const decode = (patch: Record<string, string>) => () => decodeCheckpointMetadata({ ...good, ...patch }, 'ck.safetensors');
    expect(decode({ architecture: 'alexnet' })).toThrow(/checkpoint ck\.safetensors: metadata "architecture" is "alexnet", expected one of lenet5, resnet18, cct/);
    expect(decode({ config: '{oops' })).toThrow(/metadata "config" is not valid JSON/);
    expect(decode({ seed: '4.5' })).toThrow(/metadata "seed" is "4.5", expected an integer/);
    expect(decode({ metrics: '{"loss":"low"}' })).toThrow(/metric "loss" is "low", expected a number/);
    expect(decode({ format_version: 'x' })).toThrow(/"format_version" is "x", expected a positive integer/);
    expect(() => encodeCheckpointMetadata({ ...full, epoch: 1.5 })).toThrow(/epoch must be an integer, found 1.5/);
  });
});
