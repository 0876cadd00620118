/**
 * Mean line with a min–max band over samples: the shared layer pair of the robustness, subspace
 * and accuracy-band charts. Rows are aggregated in TypeScript so the spec carries exactly the
 * plotted numbers.
 */

export interface BandPoint {
  readonly key: string;
  readonly x: number;
  readonly mean: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

/** Group `(key, x, y)` triples by key and x; return mean, min and max of y, in first-seen order. */
export function aggregateBand(items: Iterable<{ readonly key: string; readonly x: number; readonly y: number }>): BandPoint[] {
  const groups = new Map<string, { key: string; x: number; ys: number[] }>();
  for (const { key, x, y } of items) {
    const id = JSON.stringify([key, x]);
    const g = groups.get(id);
    if (g === undefined) groups.set(id, { key, x, ys: [y] });
    else g.ys.push(y);
  }
  return [...groups.values()].map(({ key, x, ys }) => ({
    key,
    x,
    mean: ys.reduce((a, b) => a + b, 0) / ys.length,
    min: Math.min(...ys),
    max: Math.max(...ys),
    n: ys.length,
  }));
}

interface Channel {
  readonly field: string;
  readonly type: 'quantitative';
  readonly title: string | readonly string[] | null;
  readonly [k: string]: unknown;
}

// Both layers carry the same legend definition: Vega-Lite merges them, and opaque line symbols
// read better than the area's faint swatches.
const LEGEND_STYLE = { symbolType: 'stroke', symbolOpacity: 1, symbolStrokeWidth: 3 } as const;

/** Area (min–max, translucent) + mean line layers, colored by `key`. */
export function bandLayers(x: Channel, y: Channel, color: Record<string, unknown>): object[] {
  return [
    {
      mark: { type: 'area', opacity: 0.2 },
      encoding: { x, y: { ...y, field: 'min' }, y2: { field: 'max' }, color: { ...color, legend: LEGEND_STYLE } },
    },
    {
      mark: { type: 'line', strokeWidth: 2 },
      encoding: {
        x,
        y: { ...y, field: 'mean' },
        // The legend merges with the area layer's; ask for opaque line symbols, not faint area swatches.
        color: { ...color, legend: LEGEND_STYLE },
      },
    },
  ];
}
