import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AXIS } from './messages.js';
import { renderPng, renderSvg, saveChart } from './render.js';
import { exampleSpecs, pathRows } from '../../test/fixtures/chart-rows.js';
import { pathChart } from './path-chart.js';
import { estimateTextWidth } from './text-width.js';

/** Width and height from a PNG's IHDR chunk (bytes 16–23, big-endian). */
function pngSize(png: Uint8Array): { width: number; height: number } {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  expect([...png.slice(0, 8)]).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
  expect(new TextDecoder().decode(png.slice(12, 16))).toBe('IHDR');
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

const escapeXml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

describe('renderSvg', () => {
  it('renders every example to a non-empty SVG; axis titles are in it', async () => {
    const pngDir = process.env.CHARTS_PNG_DIR; // set it to also write PNGs for a look
    for (const [name, spec] of Object.entries(exampleSpecs())) {
      const svg = await renderSvg(spec);
      expect(svg.startsWith('<svg'), name).toBe(true);
      expect(svg.length, name).toBeGreaterThan(2000);
      if (pngDir !== undefined) writeFileSync(join(pngDir, `${name}.png`), await renderPng(svg));
    }
  });

  it('a path chart SVG contains its unit-bearing axis titles and endpoint labels', async () => {
    const svg = await renderSvg(pathChart(pathRows(5)));
    expect(svg).toContain(AXIS.t);
    expect(svg).toContain('test loss (nats, mean cross-entropy)');
    expect(svg).toContain('mode A');
    expect(svg).toContain('mode B');
  });

  it('does not mutate the spec it renders (Vega tags ingested data objects)', async () => {
    const spec = pathChart(pathRows(3));
    const before = JSON.stringify(spec);
    await renderSvg(spec);
    expect(JSON.stringify(spec)).toBe(before);
    const data = (spec as { data: { values: object[] } }).data.values[0] ?? {};
    expect(Object.getOwnPropertySymbols(data)).toEqual([]);
  });

  it('reports a spec Vega-Lite cannot compile', async () => {
    await expect(renderSvg({ data: { values: [] }, mark: 'line', encoding: { x: { field: 'a', type: 'quantitative' } }, facet: { row: { field: 'b' } } } as never)).rejects.toThrow(/renderSvg/);
  });
});

describe('renderPng', () => {
  it('scale 2 doubles the SVG size; width fixes the width and keeps the aspect ratio', async () => {
    const svg = await renderSvg(pathChart(pathRows(5)));
    const w = Number(/width="(\d+)"/.exec(svg)?.[1]);
    const h = Number(/height="(\d+)"/.exec(svg)?.[1]);
    expect(pngSize(await renderPng(svg, { scale: 2 }))).toEqual({ width: 2 * w, height: 2 * h });
    const sized = pngSize(await renderPng(svg, { width: 800 }));
    expect(sized.width).toBe(800);
    expect(Math.abs(sized.height - (800 * h) / w)).toBeLessThanOrEqual(1);
  });

  it('rejects a string that is not SVG', async () => {
    await expect(renderPng('{"mark":"line"}')).rejects.toThrow(/SVG string/);
  });
});

describe('saveChart', () => {
  it('writes <base>.vl.json, .svg, .png and leaves no temporary file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'charts-'));
    const spec = pathChart(pathRows(3));
    const files = await saveChart(spec, join(dir, 'sub', 'path'), { scale: 1 });
    expect(files.map((f) => f.slice(dir.length))).toEqual(['/sub/path.svg', '/sub/path.png', '/sub/path.vl.json']);
    expect(readdirSync(join(dir, 'sub')).sort()).toEqual(['path.png', 'path.svg', 'path.vl.json']);
    expect(JSON.parse(readFileSync(join(dir, 'sub', 'path.vl.json'), 'utf8'))).toEqual(spec);
    expect(readFileSync(join(dir, 'sub', 'path.svg'), 'utf8')).toContain(escapeXml(AXIS.t));
  });

  it('writes only the formats asked for', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'charts-'));
    await saveChart(pathChart(pathRows(3)), join(dir, 'p'), { formats: ['json'] });
    expect(readdirSync(dir)).toEqual(['p.vl.json']);
  });
});

describe('estimateTextWidth', () => {
  it('uses DejaVu Sans advances: "mmmm" is wider than "iiii", 10 digits at 10 px ≈ 64 px', () => {
    expect(estimateTextWidth('mmmm', 12)).toBeGreaterThan(3 * estimateTextWidth('iiii', 12));
    expect(estimateTextWidth('0123456789', 10)).toBeCloseTo(63.6 * 1.02, 1);
  });
});
