/**
 * DLA's permutation symmetries (Ainsworth et al. 2023, "Git Re-Basin"; pytorch-cifar names), for
 * both variants. Channel spaces are followed through the network: every conv output opens one, a
 * BasicBlock's output is its input's space when the shortcut is the identity (else a new one
 * shared by conv2 and the shortcut conv), and the hidden units between a block's conv1 and conv2
 * are a space of their own. A root concatenates its inputs along channels, and the one 1×1 conv
 * reading the concatenation must see each segment permuted: the spec ties all of a root's input
 * spaces into one permutation applied to every segment (they all have the root's width), a
 * subgroup of the full symmetry — weight matching searches fewer permutations than exist, every
 * one it applies leaves the function unchanged. BatchNorm parameters and statistics permute with
 * their conv.
 */
import type { PermutationGroup, PermutationSpec, PermutedAxis } from '../capabilities.js';
import { batchNormTensors, outputUnits, specShape } from '../permutation-axes.js';
import type { ModelSpec } from '../types.js';
import { dlaStructure, type DlaBlock, type DlaNode, type DlaVariant } from './dla.js';

/** Channel spaces with union-find: each root collects the axes of the spaces merged into it. */
class Spaces {
  private readonly parent: number[] = [];
  private readonly axes: PermutedAxis[][] = [];
  private readonly names: string[] = [];
  private readonly sizes: number[] = [];

  open(name: string, size: number, axes: readonly PermutedAxis[]): number {
    this.parent.push(this.parent.length);
    this.axes.push([...axes]);
    this.names.push(name);
    this.sizes.push(size);
    return this.parent.length - 1;
  }

  find(id: number): number {
    let r = id;
    while (this.parent[r] !== r) r = this.parent[r] as number;
    return r;
  }

  add(id: number, ...axes: PermutedAxis[]): void {
    this.axes[this.find(id)]?.push(...axes);
  }

  union(a: number, b: number): number {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra === rb) return ra;
    if (this.sizes[ra] !== this.sizes[rb]) throw new Error(`dla permutation spec: cannot tie ${this.names[ra]} (${this.sizes[ra]}) and ${this.names[rb]} (${this.sizes[rb]})`);
    this.parent[rb] = ra;
    this.axes[ra]?.push(...(this.axes[rb] ?? []));
    this.axes[rb] = [];
    return ra;
  }

  groups(): PermutationGroup[] {
    return this.parent.flatMap((p, i) => (p === i ? [{ name: this.names[i] as string, size: this.sizes[i] as number, axes: this.axes[i] ?? [] }] : []));
  }
}

export function dlaPermutationSpec(spec: ModelSpec): PermutationSpec {
  const variant: DlaVariant = spec.params.some((p) => p.name.includes('.left_tree.')) ? 'simple' : 'dla';
  const spaces = new Spaces();
  const channels = (name: string): number => specShape(spec, name).at(-1) as number;
  const has = (name: string): boolean => spec.params.some((p) => p.name === name);
  const conv = (name: string, bn: string, input: number): number => {
    spaces.add(input, { tensor: `${name}.weight`, axis: 2 });
    return spaces.open(name, channels(`${name}.weight`), outputUnits(spec, `${name}.weight`, batchNormTensors(bn)));
  };
  const block = (b: DlaBlock, input: number): number => {
    const p = b.prefix;
    const hidden = conv(`${p}.conv1`, `${p}.bn1`, input);
    spaces.add(hidden, { tensor: `${p}.conv2.weight`, axis: 2 });
    const main = outputUnits(spec, `${p}.conv2.weight`, batchNormTensors(`${p}.bn2`));
    // Whether the shortcut is a conv depends on the widths, so the spec says, not the structure.
    if (!has(`${p}.shortcut.0.weight`)) {
      spaces.add(input, ...main);
      return input;
    }
    const out = conv(`${p}.shortcut.0`, `${p}.shortcut.1`, input);
    spaces.add(out, ...main);
    return out;
  };
  const node = (n: DlaNode, input: number): number => {
    if (n.kind === 'block') return block(n, input);
    const parts = n.prevRoot === undefined ? [] : [block(n.prevRoot, input)];
    let h = input;
    for (const c of n.children) {
      h = node(c, h);
      parts.push(h);
    }
    const tied = parts.reduce((a, b) => spaces.union(a, b));
    return conv(`${n.prefix}.root.conv`, `${n.prefix}.root.bn`, tied);
  };
  let h = spaces.open('base', channels('base.0.weight'), outputUnits(spec, 'base.0.weight', batchNormTensors('base.1')));
  h = conv('layer1.0', 'layer1.1', h);
  h = conv('layer2.0', 'layer2.1', h);
  // The names and nesting of the trees do not depend on the width.
  for (const t of dlaStructure(variant, 1).trees) h = node(t, h);
  spaces.add(h, { tensor: 'linear.weight', axis: 0 });
  return { groups: spaces.groups() };
}
