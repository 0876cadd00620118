/**
 * Communication graphs of a decentralized learning run, as sorted adjacency lists of an undirected
 * simple graph on nodes 0‥n−1.
 *
 * | spec          | graph                                                                          |
 * |---------------|--------------------------------------------------------------------------------|
 * | `ring`        | i ↔ i ± 1 (mod n)                                                              |
 * | `regular:k`   | uniform-ish random k-regular graph (Steger & Wormald 1999 pairing), connected   |
 * | `er:p`        | Erdős–Rényi G(n, p) (Erdős & Rényi 1959): each pair an edge with probability p  |
 * | `ba:m`        | Barabási–Albert (1999): clique on m+1 nodes, then each new node links to m      |
 * |               | distinct earlier nodes with probability ∝ degree                               |
 * | `star`        | node 0 ↔ every other node (the server of federated averaging)                  |
 * | `file:PATH`   | edge list, one `u v` pair per line (0-based; `#` starts a comment)              |
 *
 * Random graphs are deterministic in the seed. `regular:k` and (by default) `er:p` are redrawn
 * until connected, so a gossip run never splits into islands that cannot agree.
 *
 * The pairing model of Bollobás (1980) succeeds with probability ≈ exp(−(k²−1)/4) (1e-7 for k = 8),
 * so `regular:k` uses Steger–Wormald: points are paired one random *suitable* pair at a time (no
 * loop, no double edge), restarting only in the rare dead end.
 */
import { readFileSync } from 'node:fs';
import { createRandom, type Random } from '../util/random.js';

/** An undirected simple graph: `neighbors[i]` lists i's neighbours in ascending order. */
export interface Topology {
  /** The spec it was built from, e.g. `regular:8`. */
  readonly name: string;
  readonly nodes: number;
  readonly neighbors: readonly (readonly number[])[];
}

/** Number of edges. */
export function edgeCount(topology: Topology): number {
  return topology.neighbors.reduce((s, list) => s + list.length, 0) / 2;
}

/** Degree of every node. */
export function degrees(topology: Topology): number[] {
  return topology.neighbors.map((list) => list.length);
}

/** Whether every node can reach every other (breadth-first search from node 0). */
export function isConnected(topology: Topology): boolean {
  const n = topology.nodes;
  if (n <= 1) return true;
  const seen = new Uint8Array(n);
  const queue = [0];
  seen[0] = 1;
  let reached = 1;
  for (let head = 0; head < queue.length; head++) {
    for (const v of topology.neighbors[queue[head] as number] ?? []) {
      if (seen[v] === 0) {
        seen[v] = 1;
        reached += 1;
        queue.push(v);
      }
    }
  }
  return reached === n;
}

/** Builds a topology from an edge list; errors name `where` and the offending edge. */
export function topologyFromEdges(name: string, nodes: number, edges: Iterable<readonly [number, number]>, where = name): Topology {
  const sets = Array.from({ length: nodes }, () => new Set<number>());
  for (const [u, v] of edges) {
    for (const x of [u, v]) {
      if (!Number.isInteger(x) || x < 0 || x >= nodes) throw new Error(`${where}: node ${x} of edge (${u}, ${v}) is outside 0‥${nodes - 1}`);
    }
    if (u === v) throw new Error(`${where}: self-loop at node ${u}`);
    sets[u]?.add(v);
    sets[v]?.add(u);
  }
  return { name, nodes, neighbors: sets.map((s) => [...s].sort((a, b) => a - b)) };
}

function checkNodes(nodes: number, min: number, what: string): void {
  if (!Number.isInteger(nodes) || nodes < min) throw new Error(`${what}: needs an integer number of nodes ≥ ${min}, found ${nodes}`);
}

/** The cycle 0 – 1 – … – n−1 – 0 (n ≥ 3). */
export function ringTopology(nodes: number): Topology {
  checkNodes(nodes, 3, 'ring');
  return topologyFromEdges('ring', nodes, Array.from({ length: nodes }, (_, i) => [i, (i + 1) % nodes] as const));
}

/** Node 0 linked to every other node (n ≥ 2). */
export function starTopology(nodes: number): Topology {
  checkNodes(nodes, 2, 'star');
  return topologyFromEdges('star', nodes, Array.from({ length: nodes - 1 }, (_, i) => [0, i + 1] as const));
}

/** One attempt of the Steger–Wormald pairing; undefined at a dead end. */
function pairPoints(nodes: number, degree: number, random: Random): [number, number][] | undefined {
  const points: number[] = [];
  for (let v = 0; v < nodes; v++) for (let j = 0; j < degree; j++) points.push(v);
  const adjacent = Array.from({ length: nodes }, () => new Set<number>());
  const edges: [number, number][] = [];
  const suitable = (a: number, b: number) => a !== b && !(adjacent[a] as Set<number>).has(b);
  while (points.length > 0) {
    let found = -1;
    let foundJ = -1;
    // Random tries first; an exhaustive scan only decides whether this is a dead end.
    for (let attempt = 0; attempt < 50 && found < 0; attempt++) {
      const i = random.int(points.length);
      const j = random.int(points.length);
      if (i !== j && suitable(points[i] as number, points[j] as number)) [found, foundJ] = [i, j];
    }
    if (found < 0) {
      const pairs: [number, number][] = [];
      for (let i = 0; i < points.length; i++) for (let j = i + 1; j < points.length; j++) if (suitable(points[i] as number, points[j] as number)) pairs.push([i, j]);
      if (pairs.length === 0) return undefined;
      [found, foundJ] = pairs[random.int(pairs.length)] as [number, number];
    }
    const a = points[found] as number;
    const b = points[foundJ] as number;
    adjacent[a]?.add(b);
    adjacent[b]?.add(a);
    edges.push([a, b]);
    for (const index of [found, foundJ].sort((x, y) => y - x)) {
      points[index] = points[points.length - 1] as number;
      points.pop();
    }
  }
  return edges;
}

/** A connected random k-regular graph (1 ≤ k < n, n·k even), deterministic in `seed`. */
export function randomRegularTopology(nodes: number, degree: number, seed: number): Topology {
  checkNodes(nodes, 2, `regular:${degree}`);
  if (!Number.isInteger(degree) || degree < 1 || degree >= nodes) throw new Error(`regular:${degree}: degree must be an integer in 1‥${nodes - 1} for ${nodes} nodes`);
  if ((nodes * degree) % 2 !== 0) throw new Error(`regular:${degree}: nodes × degree must be even, found ${nodes} × ${degree}`);
  if (degree === 1 && nodes > 2) throw new Error(`regular:1: a 1-regular graph on ${nodes} nodes cannot be connected`);
  const random = createRandom(seed).fork('regular');
  for (let attempt = 0; attempt < 1000; attempt++) {
    const edges = pairPoints(nodes, degree, random);
    if (edges === undefined) continue;
    const topology = topologyFromEdges(`regular:${degree}`, nodes, edges);
    if (isConnected(topology)) return topology;
  }
  throw new Error(`regular:${degree}: no connected ${degree}-regular graph on ${nodes} nodes found in 1000 attempts`);
}

export interface ErdosRenyiOptions {
  /** Redraw until connected (default true); gives up after 1000 draws with an error. */
  readonly connected?: boolean;
}

/** G(n, p): each of the n(n−1)/2 pairs is an edge with probability p. */
export function erdosRenyiTopology(nodes: number, p: number, seed: number, options: ErdosRenyiOptions = {}): Topology {
  checkNodes(nodes, 1, `er:${p}`);
  if (!(p >= 0 && p <= 1)) throw new Error(`er:${p}: p must be in [0, 1]`);
  const random = createRandom(seed).fork('erdos-renyi');
  const requireConnected = options.connected ?? true;
  for (let attempt = 0; attempt < 1000; attempt++) {
    const edges: [number, number][] = [];
    for (let u = 0; u < nodes; u++) for (let v = u + 1; v < nodes; v++) if (random.next() < p) edges.push([u, v]);
    const topology = topologyFromEdges(`er:${p}`, nodes, edges);
    if (!requireConnected || isConnected(topology)) return topology;
  }
  throw new Error(`er:${p}: no connected G(${nodes}, ${p}) in 1000 draws; raise p (connectivity needs p ≳ ln(n)/n = ${(Math.log(nodes) / nodes).toFixed(3)})`);
}

/** Barabási–Albert preferential attachment with m links per new node (n > m ≥ 1); always connected. */
export function barabasiAlbertTopology(nodes: number, m: number, seed: number): Topology {
  if (!Number.isInteger(m) || m < 1) throw new Error(`ba:${m}: m must be a positive integer`);
  checkNodes(nodes, m + 1, `ba:${m}`);
  const random = createRandom(seed).fork('barabasi-albert');
  const edges: [number, number][] = [];
  // Every edge end once: sampling a uniform entry is sampling a node ∝ degree.
  const ends: number[] = [];
  for (let u = 0; u <= m; u++) {
    for (let v = u + 1; v <= m; v++) {
      edges.push([u, v]);
      ends.push(u, v);
    }
  }
  for (let v = m + 1; v < nodes; v++) {
    const targets = new Set<number>();
    while (targets.size < m) targets.add(ends[random.int(ends.length)] as number);
    for (const u of targets) {
      edges.push([u, v]);
      ends.push(u, v);
    }
  }
  return topologyFromEdges(`ba:${m}`, nodes, edges);
}

/**
 * Parses an edge-list text: one `u v` pair per line, 0-based node ids, `#` comments, blank lines
 * ignored. Nodes = `nodes` when given (ids must be below it), else the largest id + 1.
 * Errors name `source` and the line.
 */
export function parseEdgeList(text: string, source: string, nodes?: number): Topology {
  const edges: [number, number][] = [];
  let largest = -1;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') return;
    const parts = line.split(/[\s,]+/);
    const ids = parts.map(Number);
    if (parts.length !== 2 || !ids.every((x) => Number.isInteger(x) && x >= 0)) {
      throw new Error(`${source}:${i + 1}: expected two non-negative integer node ids "u v", found "${raw.trim()}"`);
    }
    const [u, v] = ids as [number, number];
    if (u === v) throw new Error(`${source}:${i + 1}: self-loop at node ${u}`);
    if (nodes !== undefined && Math.max(u, v) >= nodes) throw new Error(`${source}:${i + 1}: node ${Math.max(u, v)} is outside 0‥${nodes - 1} (${nodes} nodes)`);
    largest = Math.max(largest, u, v);
    edges.push([u, v]);
  });
  const n = nodes ?? largest + 1;
  if (n < 1) throw new Error(`${source}: no edges found`);
  return topologyFromEdges(`file:${source}`, n, edges, source);
}

/** Reads an edge-list file (see `parseEdgeList`). */
export function readEdgeList(path: string, nodes?: number): Topology {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`topology file ${path}: ${(error as Error).message}`, { cause: error });
  }
  return parseEdgeList(text, path, nodes);
}

/** The topology spec names, for messages. */
export const TOPOLOGY_SPECS = 'ring | regular:K | er:P | ba:M | star | file:PATH';

/**
 * Builds the topology described by `spec` (see the module table) on `nodes` nodes.
 * @example createTopology('regular:8', 50, 1)
 */
export function createTopology(spec: string, nodes: number, seed: number): Topology {
  const [kind = '', arg] = spec.split(/:(.*)/s);
  const number = (what: string): number => {
    const n = Number(arg);
    if (arg === undefined || arg.trim() === '' || !Number.isFinite(n)) throw new Error(`topology "${spec}": expected ${kind}:${what}, e.g. ${kind}:${kind === 'er' ? '0.2' : '4'}`);
    return n;
  };
  switch (kind) {
    case 'ring':
      return ringTopology(nodes);
    case 'star':
      return starTopology(nodes);
    case 'regular':
      return randomRegularTopology(nodes, number('K'), seed);
    case 'er':
      return erdosRenyiTopology(nodes, number('P'), seed);
    case 'ba':
      return barabasiAlbertTopology(nodes, number('M'), seed);
    case 'file': {
      if (arg === undefined || arg === '') throw new Error(`topology "${spec}": expected file:PATH`);
      const topology = readEdgeList(arg, nodes);
      return topology;
    }
    default:
      throw new Error(`topology "${spec}": unknown kind "${kind}"; expected ${TOPOLOGY_SPECS}`);
  }
}
