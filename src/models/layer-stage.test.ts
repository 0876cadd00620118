import { describe, expect, it } from 'vitest';
import { cct } from './cct/index.js';
import { layerStage, layerStages } from './layer-stage.js';
import { lenet5 } from './lenet5/index.js';
import { resnet18 } from './resnet18/index.js';

describe('layer stages', () => {
  it('resnet18: the groups of a BasicBlock form one stage; stem and fc are their own', () => {
    expect(layerStage('resnet18', 'layer2.0.downsample')).toBe('layer2.0');
    expect(layerStage('resnet18', 'layer4.1.conv2')).toBe('layer4.1');
    expect(layerStage('resnet18', 'conv1')).toBe('conv1');
    const stages = layerStages('resnet18', resnet18.spec(resnet18.parseConfig({})));
    expect(stages.map((s) => s.name)).toEqual(['conv1', 'layer1.0', 'layer1.1', 'layer2.0', 'layer2.1', 'layer3.0', 'layer3.1', 'layer4.0', 'layer4.1', 'fc']);
    expect(stages[3]!.layers).toEqual(['layer2.0.conv1', 'layer2.0.conv2', 'layer2.0.downsample']);
  });

  it('cct: an encoder layer is one stage; tokenizer, embedding and head groups are their own', () => {
    const stages = layerStages('cct', cct.spec(cct.parseConfig({ preset: 'cct_2_3x2_32' })));
    expect(stages.map((s) => s.name)).toEqual([
      'tokenizer.conv_layers.0', 'tokenizer.conv_layers.1', 'classifier.positional_emb',
      'classifier.blocks.0', 'classifier.blocks.1', 'classifier.norm', 'classifier.attention_pool', 'classifier.fc',
    ]);
    expect(stages[3]!.layers).toEqual(['classifier.blocks.0.self_attn', 'classifier.blocks.0.norm1', 'classifier.blocks.0.mlp']);
    // "classifier.blocks.10" must not be confused with block 1
    expect(layerStage('cct', 'classifier.blocks.10.mlp')).toBe('classifier.blocks.10');
  });

  it('lenet5: one stage per layer group', () => {
    expect(layerStages('lenet5', lenet5.spec(lenet5.parseConfig({}))).map((s) => s.layers)).toEqual([['conv1'], ['conv2'], ['fc1'], ['fc2'], ['fc3']]);
  });
});
