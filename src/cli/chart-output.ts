/**
 * Charts of a rows file, written into a folder: what `modeconn chart ROWS --out DIR` does, and
 * what every analysis command's `--chart DIR` does with the rows it has just produced. For each
 * chart of the rows' kind (`charts/chart-rows.ts`) it writes NAME.vl.json (the editable spec),
 * the chosen formats (png, svg, html) and NAME.meta.json, the sidecar `modeconn report` reads
 * (`charts/chart-meta.ts`); `--chart` also writes the rows themselves as NAME.rows.json, the
 * sidecar's rows file. Every file goes through util/atomic-write.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { loadCheckpoint } from '../checkpoint/checkpoint.js';
import { CHART_META_FORMAT, CHART_META_VERSION, joinCommandLine, rowsFacts, splitCommandLine, type ChartCheckpoint, type ChartMeta } from '../charts/chart-meta.js';
import { chartRows, detectRowsKind, unwrapRows, type RowsKind } from '../charts/chart-rows.js';
import { saveChart, type ChartFormat } from '../charts/render.js';
import { writeHtmlReport } from '../charts/report.js';
import { findPackageRoot } from '../data/package-root.js';
import { disposeTensors } from '../models/tensor-map.js';
import { checkOutputPaths } from './output-paths.js';
import { writeTextAtomic } from './output.js';

export const CHART_FORMATS = ['png', 'svg', 'html'] as const;
export type Format = (typeof CHART_FORMATS)[number];

/** `--format png,svg,html` → the list (default png,svg). */
export function parseFormats(text: string | undefined): Format[] {
  if (text === undefined) return ['png', 'svg'];
  const list = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const bad = list.filter((f) => !(CHART_FORMATS as readonly string[]).includes(f));
  if (bad.length > 0 || list.length === 0) throw new Error(`--format: expected a comma-separated list of ${CHART_FORMATS.join(', ')}, found "${text}"`);
  return list as Format[];
}

export interface WriteChartsOptions {
  readonly out: string;
  readonly formats: readonly Format[];
  /** Kind of the rows (default: detected from `json`). */
  readonly kind?: RowsKind;
  /** File-name stem; each chart is NAME-CHART, or CHART when both are the same. */
  readonly name: string;
  readonly title?: string;
  /** The rows file as the sidecar names it. */
  readonly rowsFile: string;
  /** The command line that wrote the rows, when known. */
  readonly rowsCommand: string | null;
  /** The command line that drew the charts. */
  readonly chartCommand: string;
  readonly checkpoints: readonly ChartCheckpoint[];
  /** Backend that computed the rows, when the rows command does not name one. */
  readonly backend?: string;
}

/** Writes every chart of `json` into `options.out` with its sidecar; returns the file names written. */
export async function writeRowsCharts(json: unknown, options: WriteChartsOptions): Promise<string[]> {
  const kind = options.kind ?? detectRowsKind(json, options.rowsFile);
  const specs = chartRows(json, kind, options.title === undefined ? {} : { title: options.title });
  const facts = rowsFacts(json, kind, options.rowsCommand === null ? null : splitCommandLine(options.rowsCommand));
  const date = new Date().toISOString();
  const { formats, out } = options;
  const written: string[] = [];
  for (const { name, spec } of specs) {
    const stem = options.name === name ? name : `${options.name}-${name}`;
    const saveFormats: ChartFormat[] = ['json', ...(formats.includes('svg') || formats.includes('html') ? (['svg'] as const) : []), ...(formats.includes('png') ? (['png'] as const) : [])];
    const files = (await saveChart(spec, join(out, stem), { formats: saveFormats })).map((p) => basename(p));
    if (formats.includes('html')) {
      await writeHtmlReport(join(out, `${stem}.html`), { title: options.title ?? stem, sections: [{ heading: `${kind} rows of ${options.rowsFile}`, figures: [{ file: `${stem}.svg`, caption: `${kind} chart of ${options.rowsFile}` }] }] });
      files.push(`${stem}.html`);
    }
    const meta: ChartMeta = {
      format: CHART_META_FORMAT,
      version: CHART_META_VERSION,
      chart: stem,
      kind,
      rowsFile: options.rowsFile,
      rowCount: unwrapRows(json)?.length ?? 0,
      files,
      chartCommand: options.chartCommand,
      rowsCommand: options.rowsCommand,
      date,
      toolkitVersion: toolkitVersion(),
      backend: facts.backend ?? options.backend ?? null,
      checkpoints: mergeEndpoints(options.checkpoints, facts.endpoints),
      seeds: [...new Set([...facts.seeds, ...options.checkpoints.flatMap((c) => (c.seed === null ? [] : [c.seed]))])].sort((a, b) => a - b),
      splits: facts.splits,
    };
    await writeTextAtomic(join(out, `${stem}.meta.json`), `${JSON.stringify(meta, null, 1)}\n`);
    written.push(...files, `${stem}.meta.json`);
  }
  return written;
}

/**
 * A path's endpoints measured in the rows (t = 0, t = 1) belong to the first two checkpoints (A, B,
 * in the order the rows command and --checkpoints name them); without two checkpoints they stay
 * rows of their own.
 */
function mergeEndpoints(checkpoints: readonly ChartCheckpoint[], endpoints: readonly ChartCheckpoint[]): ChartCheckpoint[] {
  if (checkpoints.length < 2 || endpoints.length !== 2) return [...checkpoints, ...endpoints];
  return checkpoints.map((c, i) => {
    const end = endpoints[i];
    return end === undefined ? c : { ...c, label: `${c.label} (${end.label})`, measuredAccuracy: end.measuredAccuracy };
  });
}

/** A checkpoint as the report describes it (dataset, seed, epoch, stored metrics). Needs a backend. */
export async function describeCheckpoint(path: string): Promise<ChartCheckpoint> {
  const { model, metadata } = await loadCheckpoint(path);
  disposeTensors(model);
  return {
    label: path,
    dataset: metadata.dataset ?? null,
    seed: metadata.seed ?? null,
    epoch: metadata.epoch ?? null,
    storedMetrics: { ...(metadata.metrics ?? {}) },
    measuredAccuracy: {},
  };
}

function toolkitVersion(): string {
  const pkg = JSON.parse(readFileSync(join(findPackageRoot(import.meta.url), 'package.json'), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}

// ---- `--chart DIR` on the analysis commands ----

/** parseArgs declarations of `--chart DIR [--format LIST]`. */
export const CHART_OPTIONS = {
  chart: { type: 'string' },
  format: { type: 'string' },
} as const;

export const CHART_OPTIONS_HELP = `  --chart DIR          also draw the rows as charts into DIR, as 'modeconn chart' does (NAME.vl.json,
                       the formats, NAME.meta.json for 'modeconn report', and the rows as NAME.rows.json)
  --format LIST        formats of --chart: png, svg, html, comma-separated (default png,svg)`;

/** What `--chart DIR --format LIST` asks for. */
export interface ChartRequest {
  readonly out: string;
  readonly formats: readonly Format[];
}

/**
 * The chart request of a command's options, checked before any work: `--format` needs `--chart`,
 * the formats must be known and DIR writable (created if missing). Undefined without `--chart`.
 */
export async function chartRequest(values: { readonly chart?: string | undefined; readonly format?: string | undefined }): Promise<ChartRequest | undefined> {
  if (values.chart === undefined) {
    if (values.format !== undefined) throw new Error('--format goes with --chart DIR (the folder the charts are written to)');
    return undefined;
  }
  const formats = parseFormats(values.format);
  await checkOutputPaths([{ path: values.chart, kind: 'folder', option: '--chart' }]);
  return { out: values.chart, formats };
}

export interface AnalysisChartsOptions {
  /** File-name stem, e.g. `linear`, `surface`, `compare`. */
  readonly name: string;
  /** The command's words after `modeconn` (command name, subcommand, its arguments). */
  readonly commandLine: readonly string[];
  /** Checkpoint files behind the rows, described in the sidecar (A and B first for paths). */
  readonly checkpoints: readonly string[];
  /** Kind of the rows (default: detected). */
  readonly kind?: RowsKind;
}

/**
 * `--chart DIR`: writes `json` (what `--json` prints) as NAME.rows.json into DIR and draws it,
 * the checkpoints described in the sidecar. Returns the files written.
 */
export async function writeAnalysisCharts(json: unknown, request: ChartRequest, options: AnalysisChartsOptions): Promise<string[]> {
  const rowsName = `${options.name}.rows.json`;
  await writeTextAtomic(join(request.out, rowsName), `${JSON.stringify(json)}\n`);
  const checkpoints: ChartCheckpoint[] = [];
  for (const path of options.checkpoints) checkpoints.push(await describeCheckpoint(path));
  const line = joinCommandLine(['modeconn', ...options.commandLine]);
  const written = await writeRowsCharts(json, {
    out: request.out,
    formats: request.formats,
    ...(options.kind === undefined ? {} : { kind: options.kind }),
    name: options.name,
    rowsFile: join(request.out, rowsName),
    rowsCommand: line,
    chartCommand: line,
    checkpoints,
    backend: tf.getBackend(),
  });
  return [rowsName, ...written];
}
