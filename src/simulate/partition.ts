/**
 * How a training set is split among the nodes of a decentralized run. Every partition assigns each
 * example to at most one node, and is deterministic in the seed.
 *
 * | spec           | rule                                                                            |
 * |----------------|---------------------------------------------------------------------------------|
 * | `iid`          | a seeded permutation cut into N equal parts                                     |
 * | `dirichlet:α`  | node i draws label proportions q_i ~ Dir(α·1_C) and fills its ⌊count/N⌋ slots   |
 * |                | one at a time with class c ∝ q_i[c] among classes that still have examples       |
 * |                | (the label-distribution skew of Hsu, Qi & Brown 2019, as Tian et al. 2024 use)   |
 * | `shards:s`     | node i gets s distinct classes (round-robin over a seeded class order); each class |
 * |                | is split evenly among the nodes that hold it (McMahan et al. 2017 pathological)   |
 *
 * Closed forms (used by the tests): for q ~ Dir(α·1_C), E[q_c] = 1/C and E[Σ_c q_c²] = (α+1)/(Cα+1),
 * which is 1/C (IID proportions) as α → ∞ and 1 (one class per node) as α → 0.
 *
 * Gamma variates by Marsaglia & Tsang (2000), "A simple method for generating gamma variables",
 * with the boost G(α) = G(α+1)·U^{1/α} for α < 1.
 */
import { createRandom, permutation, type Random } from '../util/random.js';

/** The partition spec names, for messages. */
export const PARTITION_SPECS = 'iid | dirichlet:ALPHA | shards:CLASSES';

export type PartitionSpec =
  | { readonly kind: 'iid' }
  | { readonly kind: 'dirichlet'; readonly alpha: number }
  | { readonly kind: 'shards'; readonly classesPerNode: number };

/** Parses `iid`, `dirichlet:0.5`, `shards:2`; errors name the spec. */
export function parsePartitionSpec(spec: string): PartitionSpec {
  const [kind = '', arg] = spec.split(/:(.*)/s);
  const n = Number(arg);
  if (kind === 'iid' && arg === undefined) return { kind };
  if (kind === 'dirichlet' && arg !== undefined && arg.trim() !== '' && n > 0 && Number.isFinite(n)) return { kind, alpha: n };
  if (kind === 'shards' && arg !== undefined && Number.isInteger(n) && n >= 1) return { kind, classesPerNode: n };
  throw new Error(`partition "${spec}": expected ${PARTITION_SPECS} (α > 0, CLASSES a positive integer)`);
}

/** One Gamma(shape, 1) variate (Marsaglia–Tsang). */
export function sampleGamma(shape: number, random: Random): number {
  if (!(shape > 0)) throw new Error(`sampleGamma: shape must be > 0, found ${shape}`);
  if (shape < 1) {
    let u = random.next();
    while (u === 0) u = random.next();
    return sampleGamma(shape + 1, random) * u ** (1 / shape);
  }
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = random.normal();
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = random.next();
    if (u < 1 - 0.0331 * x ** 4) return d * v;
    if (u > 0 && Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** One Dir(α·1_k) sample (k proportions summing to 1). */
export function sampleDirichlet(alpha: number, k: number, random: Random): number[] {
  const g = Array.from({ length: k }, () => sampleGamma(alpha, random));
  const total = g.reduce((a, b) => a + b, 0);
  // For tiny α every Gamma can underflow to 0: the limit is all mass on one class.
  if (!(total > 0)) {
    const out = new Array<number>(k).fill(0);
    out[random.int(k)] = 1;
    return out;
  }
  return g.map((x) => x / total);
}

export interface PartitionOptions {
  /** Examples per node (default ⌊count/nodes⌋; never more). */
  readonly perNode?: number;
}

/** Indices into `labels` for every node; no index appears twice. */
export function partitionIndices(labels: ArrayLike<number>, classes: number, nodes: number, spec: PartitionSpec, seed: number, options: PartitionOptions = {}): Int32Array[] {
  const count = labels.length;
  if (!Number.isInteger(nodes) || nodes < 1) throw new Error(`partition: nodes must be a positive integer, found ${nodes}`);
  const maxPerNode = Math.floor(count / nodes);
  const perNode = options.perNode ?? maxPerNode;
  if (!Number.isInteger(perNode) || perNode < 1 || perNode > maxPerNode) {
    throw new Error(`partition: perNode must be an integer in 1‥${maxPerNode} (${count} examples for ${nodes} nodes), found ${perNode}`);
  }
  const random = createRandom(seed).fork(`partition:${spec.kind}`);
  if (spec.kind === 'iid') {
    const order = permutation(count, random);
    return Array.from({ length: nodes }, (_, i) => order.slice(i * perNode, (i + 1) * perNode).sort());
  }
  // Class pools in seeded random order; nodes take from the end.
  const pools: number[][] = Array.from({ length: classes }, () => []);
  const order = permutation(count, random.fork('order'));
  for (const i of order) {
    const label = labels[i] as number;
    if (!(label >= 0 && label < classes)) throw new Error(`partition: label ${label} of example ${i} is outside 0‥${classes - 1}`);
    pools[label]?.push(i);
  }
  if (spec.kind === 'shards') return shardPartition(pools, nodes, perNode, spec.classesPerNode, random);
  return Array.from({ length: nodes }, (_, node) => {
    const r = random.fork(node);
    const q = sampleDirichlet(spec.alpha, classes, r);
    const out = new Int32Array(perNode);
    for (let slot = 0; slot < perNode; slot++) {
      let mass = 0;
      for (let c = 0; c < classes; c++) if ((pools[c] as number[]).length > 0) mass += q[c] as number;
      let chosen = -1;
      if (mass > 0) {
        let u = r.next() * mass;
        for (let c = 0; c < classes && chosen < 0; c++) {
          if ((pools[c] as number[]).length === 0) continue;
          u -= q[c] as number;
          if (u < 0) chosen = c;
        }
      }
      // Rounding, or every class of q exhausted: the largest remaining pool.
      if (chosen < 0) chosen = pools.reduce((best, pool, c) => (pool.length > (pools[best] as number[]).length ? c : best), 0);
      out[slot] = (pools[chosen] as number[]).pop() as number;
    }
    return out.sort();
  });
}

function shardPartition(pools: number[][], nodes: number, perNode: number, s: number, random: Random): Int32Array[] {
  const classes = pools.length;
  if (s > classes) throw new Error(`partition shards:${s}: at most ${classes} classes per node`);
  const classOrder = permutation(classes, random.fork('classes'));
  const held = Array.from({ length: nodes }, (_, i) => Array.from({ length: s }, (_, j) => classOrder[(i * s + j) % classes] as number));
  const holders = new Array<number>(classes).fill(0);
  for (const list of held) for (const c of list) holders[c] = (holders[c] as number) + 1;
  const share = held.map((list) => list.map((c) => Math.min(Math.floor(perNode / s), Math.floor((pools[c] as number[]).length / (holders[c] as number)))));
  return held.map((list, i) => {
    const out: number[] = [];
    list.forEach((c, j) => {
      for (let k = 0; k < (share[i]?.[j] as number); k++) out.push((pools[c] as number[]).pop() as number);
    });
    return Int32Array.from(out).sort();
  });
}

/**
 * Partitions `labels` among `nodes` by a spec string (see the module table).
 * @example createPartition(train.labels, 10, 50, 'dirichlet:0.5', 1)
 */
export function createPartition(labels: ArrayLike<number>, classes: number, nodes: number, spec: string, seed: number, options: PartitionOptions = {}): Int32Array[] {
  return partitionIndices(labels, classes, nodes, parsePartitionSpec(spec), seed, options);
}
