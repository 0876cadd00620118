/**
 * Stages: the blocks that layer groups belong to, for layer-wise schedules that act block by block
 * (e.g. progressive freezing or layer-wise interpolation over a network's depth).
 *
 * - resnet18: `layer{s}.{b}.conv1`, `.conv2`, `.downsample` → stage `layer{s}.{b}` (a BasicBlock);
 *   the stem `conv1` and `fc` are stages of their own.
 * - cct: `classifier.blocks.{j}.self_attn`, `.norm1`, `.mlp` → stage `classifier.blocks.{j}` (an
 *   encoder layer); each tokenizer conv, the positional embedding, `classifier.norm`,
 *   `classifier.attention_pool` and `classifier.fc` are stages of their own.
 * - lenet5: every layer group is its own stage.
 */
import type { ArchitectureName, ModelSpec } from './types.js';

const BLOCK_PATTERNS: Readonly<Record<ArchitectureName, RegExp | undefined>> = {
  lenet5: undefined,
  resnet18: /^(layer\d+\.\d+)\./,
  cct: /^(classifier\.blocks\.\d+)\./,
};

/** The stage a layer group belongs to (the group's own name when it is not part of a block). */
export function layerStage(architecture: ArchitectureName, group: string): string {
  const match = BLOCK_PATTERNS[architecture]?.exec(group);
  return match?.[1] ?? group;
}

/** A stage and its layer groups, input side first. */
export interface Stage {
  readonly name: string;
  readonly layers: readonly string[];
}

/** The stages of a spec in order, each with its layer groups. */
export function layerStages(architecture: ArchitectureName, spec: ModelSpec): Stage[] {
  const stages: { name: string; layers: string[] }[] = [];
  for (const layer of spec.layers) {
    const name = layerStage(architecture, layer.name);
    const last = stages.at(-1);
    if (last !== undefined && last.name === name) last.layers.push(layer.name);
    else if (stages.some((s) => s.name === name)) throw new Error(`layerStages: the groups of stage "${name}" are not contiguous in the ${architecture} spec`);
    else stages.push({ name, layers: [layer.name] });
  }
  return stages;
}
