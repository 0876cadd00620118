/**
 * Stages: the blocks that layer groups belong to, for layer-wise schedules that act block by block
 * (e.g. progressive freezing or layer-wise interpolation over a network's depth).
 *
 * Each architecture says which block a group belongs to (`Architecture.blockOf`, in its own folder:
 * e.g. ResNet18's BasicBlocks `layer{s}.{b}`, CCT's encoder layers `classifier.blocks.{j}`); a
 * group outside every block, or of an architecture without `blockOf` (LeNet5), is its own stage.
 */
import { getArchitecture } from './registry.js';
import type { Architecture, ModelSpec } from './types.js';

function architectureOf(architecture: string | Architecture<unknown>): Architecture<unknown> {
  return typeof architecture === 'string' ? getArchitecture(architecture) : architecture;
}

/** The stage a layer group belongs to (the group's own name when it is not part of a block). */
export function layerStage(architecture: string | Architecture<unknown>, group: string): string {
  return architectureOf(architecture).blockOf?.(group) ?? group;
}

/** A stage and its layer groups, input side first. */
export interface Stage {
  readonly name: string;
  readonly layers: readonly string[];
}

/** The stages of a spec in order, each with its layer groups. */
export function layerStages(architecture: string | Architecture<unknown>, spec: ModelSpec): Stage[] {
  const arch = architectureOf(architecture);
  const stages: { name: string; layers: string[] }[] = [];
  for (const layer of spec.layers) {
    const name = layerStage(arch, layer.name);
    const last = stages.at(-1);
    if (last !== undefined && last.name === name) last.layers.push(layer.name);
    else if (stages.some((s) => s.name === name)) throw new Error(`layerStages: the groups of stage "${name}" are not contiguous in the ${arch.name} spec`);
    else stages.push({ name, layers: [layer.name] });
  }
  return stages;
}
