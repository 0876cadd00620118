import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, View } from 'vega';
import { compile } from 'vega-lite';
import { compileVegaLiteValidator } from '../charts/schema.js';
import type { TickRow } from './metrics.js';
import { delayChart, delayRow, writeSimulationOutputs } from './outputs.js';
import { resolveSimulationConfig } from './simulator.js';

function row(series: string, tick: number, accuracyMean: number): TickRow {
  return { series, tick, accuracyMean, accuracyMin: accuracyMean - 0.05, accuracyMax: accuracyMean + 0.05, lossMean: 2, lossMin: 1.9, lossMax: 2.1, correctionFactor: null, averagings: 0, trainSteps: tick, bytesSent: 0 };
}

describe('simulation outputs', () => {
  it('delayRow reports the first tick at the level, or the run length marked as not reached', () => {
    const ticks = [row('a', 0, 0.1), row('a', 100, 0.35), row('a', 200, 0.6)];
    expect(delayRow('plain', 8, ticks, 0.3)).toEqual({ series: 'plain', x: 8, delay: 100, reached: true, level: 0.3 });
    expect(delayRow('plain', 8, ticks, 0.9)).toEqual({ series: 'plain', x: 8, delay: 200, reached: false, level: 0.9 });
    expect(delayRow('plain', 8, ticks, 0.3, 2)).toEqual({ series: 'plain', x: 8, delay: 100, reached: true, level: 0.3, seed: 2 });
  });

  it('delayChart draws each series through the mean delay over seeds, with a point per run', () => {
    const runA = [row('a', 0, 0.1), row('a', 100, 0.6)];
    const runB = [row('b', 0, 0.1), row('b', 300, 0.6)];
    const spec = delayChart([delayRow('plain', 4, runA, 0.5, 1), delayRow('plain', 4, runB, 0.5, 2)]) as { layer: { encoding: { y: { aggregate?: string } } }[]; data: { values: unknown[] } };
    expect(spec.layer[0]?.encoding.y.aggregate).toBe('mean');
    expect(spec.data.values.length).toBe(2);
    expect(compileVegaLiteValidator()(spec as never)).toEqual([]);
    const titled = delayChart([delayRow('plain', 4, runA, 0.5)], { title: 'delay', subtitle: 'open point: not reached' }) as { title: { text: string; subtitle: string } };
    expect(titled.title).toEqual({ text: 'delay', subtitle: 'open point: not reached' });
    expect(compileVegaLiteValidator()(titled as never)).toEqual([]);
  });

  it('the x domain Vega computes leaves room beside the first and last settings (K = 2 was drawn on the y axis)', async () => {
    // The vanishing-variance-sweep-n10 degrees K = 2, 4, 6, 8.
    const ks = [2, 4, 6, 8];
    const rows = ks.flatMap((k) => [delayRow('plain', k, [row('a', 0, 0.1), row('a', 100 * k, 0.6)], 0.5), delayRow('corrected', k, [row('b', 0, 0.1), row('b', 50, 0.6)], 0.5)]);
    const view = new View(parse(compile(delayChart(rows, { xTitle: 'degree K' })).spec), { renderer: 'none' });
    await view.runAsync();
    const x = view.scale('x') as { domain(): [number, number]; range(): [number, number] };
    const [lo, hi] = x.domain();
    const pixelsPerUnit = x.range()[1] / (hi - lo);
    expect((Math.min(...ks) - lo) * pixelsPerUnit).toBeGreaterThanOrEqual(10);
    expect((hi - Math.max(...ks)) * pixelsPerUnit).toBeGreaterThanOrEqual(10);
    view.finalize();
  });

  it('delayChart is a valid Vega-Lite spec that compiles', () => {
    const spec = delayChart([delayRow('plain', 2, [row('a', 0, 0.1), row('a', 50, 0.2)], 0.5), delayRow('corrected', 2, [row('b', 0, 0.1), row('b', 50, 0.6)], 0.5)]);
    expect(compileVegaLiteValidator()(spec)).toEqual([]);
    expect(() => compile(spec)).not.toThrow();
  });

  it('writes rows as JSON and CSV and both charts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'simulate-out-'));
    const config = resolveSimulationConfig({ nodes: 2, topology: 'ring' });
    const rows = { ticks: [row('x', 0, 0.1), row('x', 50, 0.4)], layers: [{ tick: 0, layer: 'fc1', variance: 0.004, series: 'x' }, { tick: 50, layer: 'fc1', variance: 0.001, series: 'x' }], nodes: [] };
    const written = await writeSimulationOutputs(dir, [{ config, rows }]);
    for (const name of ['rows.json', 'ticks.csv', 'layers.csv', 'accuracy.png', 'layer-variance.svg']) expect(existsSync(join(dir, name)), name).toBe(true);
    expect(written.length).toBe(10);
    const json = JSON.parse(readFileSync(join(dir, 'rows.json'), 'utf8')) as { runs: { delay: { largestJumpTick: number } }[] };
    expect(json.runs[0]?.delay.largestJumpTick).toBe(50);
    expect(readFileSync(join(dir, 'ticks.csv'), 'utf8').split('\n')[0]).toBe('series,tick,accuracyMean,accuracyMin,accuracyMax,lossMean,lossMin,lossMax,correctionFactor,averagings,trainSteps,bytesSent');
  });
});
