import { describe, expect, it } from 'vitest';
import { getArchitecture } from '../../src/models/registry.js';
import { ARCHITECTURES, architectureEntry, entryConfig } from './architecture-entries.js';

describe('the comparison figure\'s architecture entries', () => {
  it('cover every family of issue 14, once each, in the table\'s order', () => {
    expect(ARCHITECTURES.map((e) => e.name)).toEqual([
      'resnet18', 'cct', 'vgg16', 'vgg11', 'mobilenetv2', 'mobilenetv2-dfl', 'shufflenetv2', 'shufflenet',
      'regnetx200mf', 'regnety400mf', 'efficientnet-b0', 'dla', 'simpledla',
    ]);
  });

  it('each config is one its registered architecture parses to the same fields (no field ignored or renamed)', () => {
    for (const entry of ARCHITECTURES) {
      const parsed = getArchitecture(entry.architecture).parseConfig(entry.config) as Record<string, unknown>;
      // CCT's `preset` is shorthand that parses into its fields (embeddingDim, layers, …), not a field.
      for (const [field, value] of Object.entries(entry.config)) if (field !== 'preset') expect(parsed[field], `${entry.name}.${field}`).toBe(value);
    }
  });

  it('entryConfig: --width replaces the width, --width-scale multiplies it, a preset without a width is left alone', () => {
    const vgg16 = architectureEntry('vgg16');
    expect(entryConfig(vgg16)).toBe(vgg16.config);
    expect(entryConfig(vgg16, { widthScale: 4 })).toEqual({ depth: 16, width: 1 });
    expect(entryConfig(vgg16, { width: 0.125, widthScale: 4 })).toEqual({ depth: 16, width: 0.125 });
    expect(entryConfig(architectureEntry('shufflenetv2'), { widthScale: 2 })).toEqual({ netSize: 0.5, width: 1 });
    expect(entryConfig(architectureEntry('cct'), { width: 0.5, widthScale: 2 })).toEqual({ preset: 'cct_2_3x2_32' });
    expect(vgg16.config).toEqual({ depth: 16, width: 0.25 });
  });

  it('architectureEntry names the known entries when the name is unknown', () => {
    expect(() => architectureEntry('vgg19')).toThrow(/expected one of resnet18, cct, vgg16, .*simpledla, found "vgg19"/);
  });
});
