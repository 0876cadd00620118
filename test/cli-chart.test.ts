/**
 * End-to-end: rows written by real analysis commands on the LeNet5 fixtures, drawn with
 * `modeconn chart`, collected with `modeconn report`.
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from './run-cli.js';
import { compileVegaLiteValidator } from '../src/charts/schema.js';
import { parseChartMeta } from '../src/charts/chart-meta.js';

const A = 'test/fixtures/barriers-lenet5-a.safetensors';
const B = 'test/fixtures/barriers-lenet5-b.safetensors';
const run = (args: string[]): Promise<CliResult> => runCli(args, ['--quiet']);

/** Width and height from a PNG's signature and IHDR chunk; throws when they are not there. */
function pngSize(bytes: Uint8Array): { width: number; height: number } {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (!signature.every((b, i) => bytes[i] === b)) throw new Error('no PNG signature');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (String.fromCharCode(...bytes.slice(12, 16)) !== 'IHDR') throw new Error('first chunk is not IHDR');
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

let dir: string;
let validate: (spec: unknown) => string[];
const linearCommand = ['barrier', 'linear', A, B, '--points', '3', '--test-examples', '60', '--json'];
const layerCommand = ['barrier', 'layerwise', A, B, '--points', '3', '--test-examples', '60', '--layers', 'conv1,fc3', '--json'];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'modeconn-chart-'));
  validate = compileVegaLiteValidator();
  for (const [name, args] of [['linear', linearCommand], ['layers', layerCommand]] as const) {
    const result = await run([...args]);
    expect(result.code, result.stderr).toBe(0);
    await writeFile(join(dir, `${name}.json`), result.stdout);
  }
}, 120_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('modeconn chart / report', () => {
  it('draws barrier linear and layerwise rows: PNG, SVG, a valid spec and a sidecar with the metadata', async () => {
    const charts = join(dir, 'charts');
    const rowsCommand = `modeconn ${linearCommand.join(' ')} --backend wasm`;
    const linear = await run(['chart', join(dir, 'linear.json'), '--out', charts, '--title', 'linear path', '--command', rowsCommand]);
    expect(linear.code, linear.stderr).toBe(0);
    const layers = await run(['chart', join(dir, 'layers.json'), '--out', charts, '--format', 'png,svg,html', '--command', `modeconn ${layerCommand.join(' ')}`]);
    expect(layers.code, layers.stderr).toBe(0);
    for (const stem of ['linear-path', 'layers-layerwise']) {
      const png = pngSize(await readFile(join(charts, `${stem}.png`)));
      expect(png.width).toBeGreaterThan(200);
      expect(png.height).toBeGreaterThan(100);
      expect(await readFile(join(charts, `${stem}.svg`), 'utf8')).toMatch(/^<svg/);
      expect(validate(JSON.parse(await readFile(join(charts, `${stem}.vl.json`), 'utf8')))).toEqual([]);
    }
    expect(existsSync(join(charts, 'layers-layerwise.html'))).toBe(true);
    expect(existsSync(join(charts, 'linear-path.html'))).toBe(false);
    const meta = parseChartMeta(await readFile(join(charts, 'linear-path.meta.json'), 'utf8'), 'linear-path.meta.json');
    expect(meta.kind).toBe('path');
    expect(meta.rowsCommand).toBe(rowsCommand);
    expect(meta.backend).toBe('wasm');
    expect(meta.splits).toEqual([{ split: 'test', examples: 60 }]);
    const pkg = JSON.parse(await readFile('package.json', 'utf8')) as { version: string };
    expect(meta.toolkitVersion).toBe(pkg.version);
    // The endpoints' accuracy is the rows' own at t = 0 and t = 1.
    const rows = (JSON.parse(await readFile(join(dir, 'linear.json'), 'utf8')) as { rows: { t: number; accuracy: number }[] }).rows;
    expect(meta.checkpoints.map((c) => c.label)).toEqual([`${A} (A (t = 0))`, `${B} (B (t = 1))`]);
    expect(meta.checkpoints[0]?.measuredAccuracy['test']).toBe(rows.find((r) => r.t === 0)?.accuracy);
    expect(meta.checkpoints[1]?.measuredAccuracy['test']).toBe(rows.find((r) => r.t === 1)?.accuracy);
  }, 120_000);

  it('--command: only the command’s checkpoint arguments are described, not the .safetensors its --out names', async () => {
    const charts = join(dir, 'charts-out');
    // The --out file exists (and is even a loadable checkpoint): it is still the command's output.
    const out = join(dir, 'curve.safetensors');
    await copyFile(A, out);
    const rowsCommand = `modeconn path curve ${A} ${B} --out ${out} --points 3 --test-examples 60 --json`;
    const result = await run(['chart', join(dir, 'linear.json'), '--out', charts, '--format', 'svg', '--command', rowsCommand]);
    expect(result.code, result.stderr).toBe(0);
    const meta = parseChartMeta(await readFile(join(charts, 'linear-path.meta.json'), 'utf8'), 'linear-path.meta.json');
    expect(meta.checkpoints.map((c) => c.label)).toEqual([`${A} (A (t = 0))`, `${B} (B (t = 1))`]);
  }, 120_000);

  it('collects the charts into a report that opens with the metadata and the command lines', async () => {
    const charts = join(dir, 'charts');
    const result = await run(['report', charts, '--title', 'fixture run']);
    expect(result.code, result.stderr).toBe(0);
    const html = await readFile(join(charts, 'report.html'), 'utf8');
    const metadataAt = html.indexOf('<h2>Run metadata</h2>');
    expect(metadataAt).toBeGreaterThan(0);
    expect(metadataAt).toBeLessThan(html.indexOf('<h2>linear-path</h2>'));
    expect(html).toContain('Backend: wasm.');
    expect(html).toContain(`modeconn ${linearCommand.join(' ')} --backend wasm`);
    expect(html).toContain(`modeconn ${layerCommand.join(' ')}`);
    expect(html).toMatch(/modeconn chart \S+linear\.json --out \S+ --title &#39;linear path&#39;/);
    expect(html).toContain('<td class="num">60</td>');
    expect(html).toMatch(/<td class="num">\d{1,3}\.\d%<\/td>/);
    expect((html.match(/<svg/g) ?? []).length).toBe(2);
  }, 60_000);

  it('fails on an unknown rows shape naming the file and the kinds, before writing anything', async () => {
    const bad = join(dir, 'average.json');
    await writeFile(bad, JSON.stringify({ rows: [{ model: 'A', role: 'input', split: 'test', loss: 0.3, accuracy: 0.9 }] }));
    const out = join(dir, 'bad-charts');
    const result = await run(['chart', bad, '--out', out]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/average\.json: found rows with fields model, role, split, loss, accuracy; expected rows of one of these kinds .*path \(path, t, split, loss, accuracy\)/);
    expect(existsSync(join(out, 'average-path.png'))).toBe(false);
    const notFolder = await run(['chart', join(dir, 'linear.json'), '--out', join(dir, 'linear.json')]);
    expect(notFolder.stderr).toMatch(/--out: .*linear\.json is a file; expected a folder/);
    const badFormat = await run(['chart', join(dir, 'linear.json'), '--out', out, '--format', 'gif']);
    expect(badFormat.stderr).toMatch(/--format: expected a comma-separated list of png, svg, html, found "gif"/);
  }, 60_000);
});
