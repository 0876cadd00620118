import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  barabasiAlbertTopology,
  createTopology,
  degrees,
  edgeCount,
  erdosRenyiTopology,
  isConnected,
  parseEdgeList,
  randomRegularTopology,
  ringTopology,
  starTopology,
  topologyFromEdges,
} from './topology.js';

describe('topologies', () => {
  it('ring and star have the degrees of their definition and are connected', () => {
    const ring = ringTopology(7);
    expect(degrees(ring)).toEqual(new Array(7).fill(2));
    expect(ring.neighbors[0]).toEqual([1, 6]);
    expect(isConnected(ring)).toBe(true);
    const star = starTopology(6);
    expect(degrees(star)).toEqual([5, 1, 1, 1, 1, 1]);
    expect(isConnected(star)).toBe(true);
  });

  it('regular:k gives every node exactly k distinct neighbours, no self-loops, connected, and is reproducible per seed', () => {
    for (const [n, k] of [[50, 8], [20, 3], [10, 9], [64, 16]] as const) {
      const g = randomRegularTopology(n, k, 1);
      expect(degrees(g)).toEqual(new Array(n).fill(k));
      g.neighbors.forEach((list, i) => {
        expect(new Set(list).size).toBe(k);
        expect(list).not.toContain(i);
        for (const j of list) expect(g.neighbors[j]).toContain(i);
      });
      expect(isConnected(g)).toBe(true);
      expect(edgeCount(g)).toBe((n * k) / 2);
    }
    expect(randomRegularTopology(50, 8, 3)).toEqual(randomRegularTopology(50, 8, 3));
    expect(randomRegularTopology(50, 8, 3).neighbors).not.toEqual(randomRegularTopology(50, 8, 4).neighbors);
    expect(() => randomRegularTopology(5, 3, 1)).toThrow(/even/);
  });

  it('G(n, p) has ≈ p·n(n−1)/2 edges (binomial mean, 4 standard deviations) and is connected by default', () => {
    const n = 60;
    const p = 0.2;
    const pairs = (n * (n - 1)) / 2;
    const g = erdosRenyiTopology(n, p, 5);
    expect(Math.abs(edgeCount(g) - p * pairs)).toBeLessThan(4 * Math.sqrt(pairs * p * (1 - p)));
    expect(isConnected(g)).toBe(true);
    expect(erdosRenyiTopology(n, p, 5)).toEqual(g);
    expect(isConnected(erdosRenyiTopology(30, 0.01, 1, { connected: false }))).toBe(false);
  });

  it('Barabási–Albert has m(m+1)/2 + (n−m−1)·m edges, minimum degree m, and is connected', () => {
    const n = 40;
    const m = 3;
    const g = barabasiAlbertTopology(n, m, 2);
    expect(edgeCount(g)).toBe((m * (m + 1)) / 2 + (n - m - 1) * m);
    expect(Math.min(...degrees(g))).toBe(m);
    expect(isConnected(g)).toBe(true);
    expect(barabasiAlbertTopology(n, m, 2)).toEqual(g);
  });

  it('isConnected detects two components', () => {
    expect(isConnected(topologyFromEdges('two', 4, [[0, 1], [2, 3]]))).toBe(false);
  });

  it('edge lists parse with comments, and errors name the file and line', () => {
    const g = parseEdgeList('# square\n0 1\n1 2\n\n2 3 # last\n3 0\n', 'square.txt');
    expect(g.nodes).toBe(4);
    expect(degrees(g)).toEqual([2, 2, 2, 2]);
    expect(() => parseEdgeList('0 1\n1 x\n', 'bad.txt')).toThrow(/bad\.txt:2: expected two/);
    expect(() => parseEdgeList('0 1\n2 2\n', 'loop.txt')).toThrow(/loop\.txt:2: self-loop/);
    expect(() => parseEdgeList('0 9\n', 'big.txt', 5)).toThrow(/big\.txt:1: node 9/);
    const dir = mkdtempSync(join(tmpdir(), 'topology-'));
    const file = join(dir, 'edges.txt');
    writeFileSync(file, '0 1\n1 2\n2 0\n');
    expect(degrees(createTopology(`file:${file}`, 3, 0))).toEqual([2, 2, 2]);
    expect(() => createTopology(`file:${join(dir, 'missing.txt')}`, 3, 0)).toThrow(/missing\.txt/);
  });

  it('createTopology parses specs and names a bad one', () => {
    expect(createTopology('regular:4', 10, 1).name).toBe('regular:4');
    expect(() => createTopology('regular:x', 10, 1)).toThrow(/regular:K/);
    expect(() => createTopology('torus', 10, 1)).toThrow(/unknown kind "torus"/);
  });
});
