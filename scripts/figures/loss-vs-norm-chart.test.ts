import { describe, expect, it } from 'vitest';
import { parse, View } from 'vega';
import { compile } from 'vega-lite';
import type { LlpfRow } from '../../src/index.js';
import { lossVersusNorm } from './loss-vs-norm-chart.js';

// The llpf-origin-lenet5 numbers (figures/llpf-origin-lenet5/numbers.json, rounded): weight norm, train and test loss per tick.
const TICKS: [number, number, number][] = [
  [13.4, 0.257, 0.376], [10.7, 0.319, 0.398], [9.1, 0.349, 0.42], [8.2, 0.34, 0.415], [7.6, 0.333, 0.402], [7.2, 0.34, 0.406],
  [7.0, 0.337, 0.412], [6.9, 0.343, 0.421], [6.8, 0.322, 0.401], [6.7, 0.33, 0.406], [6.6, 0.341, 0.423], [5.7, 0.43, 0.476],
  [5.5, 0.456, 0.495], [5.4, 0.573, 0.626], [5.3, 0.466, 0.497], [3.4, 0.954, 0.933], [3.2, 0.945, 0.934], [3.2, 0.964, 0.948], [3.15, 0.988, 0.969],
];
const rows = TICKS.flatMap(([weightNorm, train, test], tick) => [
  { tick, split: 'train', weightNorm, loss: train, accuracy: 0.8 },
  { tick, split: 'test', weightNorm, loss: test, accuracy: 0.8, segmentMaxLoss: test + 0.01 },
]) as unknown as LlpfRow[];
const reference = [
  { weightDecay: 0.01, weightNorm: 6.58, testLoss: 0.4405 },
  { weightDecay: 0.03, weightNorm: 4.81, testLoss: 0.5702 },
  { weightDecay: 0.05, weightNorm: 0.0059, testLoss: 2.3026 },
];

type Item = { x?: number; y?: number; text?: string; bounds?: { x1: number; y1: number; x2: number; y2: number }; items?: Item[]; marktype?: string; role?: string };

describe('lossVersusNorm', () => {
  it('draws each λ label inside the plot, off the train and test lines', async () => {
    const view = new View(parse(compile(lossVersusNorm(rows, reference)).spec), { renderer: 'none' });
    await view.runAsync();
    const labels: Item[] = [];
    const lines: Item[][] = [];
    const walk = (node: Item): void => {
      if (node.marktype === 'text' && node.role === 'mark') labels.push(...(node.items ?? []).filter((i) => String(i.text).startsWith('λ')));
      if (node.marktype === 'line') lines.push(...(node.items ?? []).map((i) => [i]));
      for (const child of node.items ?? []) walk(child);
    };
    walk((view.scenegraph() as unknown as { root: Item }).root);
    // Line items are one per vertex ({x, y}); group them back per line mark.
    const vertices = lines.flat().map((i) => [i.x ?? NaN, i.y ?? NaN] as const);
    expect(labels.map((l) => l.text).sort()).toEqual(['λ 0.01', 'λ 0.03', 'λ 0.05']);
    expect(vertices.length).toBe(2 * TICKS.length);
    const [width, height] = [view.width(), view.height()];
    for (const label of labels) {
      const b = label.bounds ?? { x1: NaN, y1: NaN, x2: NaN, y2: NaN };
      expect(b.x1, String(label.text)).toBeGreaterThanOrEqual(0);
      expect(b.y1, String(label.text)).toBeGreaterThanOrEqual(0);
      expect(b.x2, String(label.text)).toBeLessThanOrEqual(width);
      expect(b.y2, String(label.text)).toBeLessThanOrEqual(height);
      // No line vertex in the text box and no segment crossing it (sampled every 0.5 px).
      const byLine = [vertices.slice(0, TICKS.length), vertices.slice(TICKS.length)];
      for (const line of byLine) {
        for (let i = 1; i < line.length; i++) {
          const [p, q] = [line[i - 1] ?? [0, 0], line[i] ?? [0, 0]];
          const n = Math.ceil(2 * Math.hypot(q[0] - p[0], q[1] - p[1])) + 1;
          for (let k = 0; k <= n; k++) {
            const [x, y] = [p[0] + ((q[0] - p[0]) * k) / n, p[1] + ((q[1] - p[1]) * k) / n];
            expect(x > b.x1 && x < b.x2 && y > b.y1 && y < b.y2, `${String(label.text)} on a line at (${x.toFixed(0)}, ${y.toFixed(0)})`).toBe(false);
          }
        }
      }
    }
    view.finalize();
  });
});
