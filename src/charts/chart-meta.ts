/**
 * The sidecar `NAME.meta.json` that `modeconn chart` writes beside each chart, and `modeconn report`
 * reads to open the report with the run's metadata: toolkit version, backend, date, checkpoints with
 * their accuracy, seeds, data split sizes, and the command lines behind the chart.
 *
 * What the rows themselves say is taken from them (the endpoints' loss and accuracy at t = 0 and 1
 * of a path, the simulator's seeds); what they do not carry comes from the command line that wrote
 * the rows (`--seed`, `--train-examples`, `--test-examples`, checkpoint files) when it is recorded,
 * and from the checkpoints' own metadata. Anything not known is `null`, never guessed.
 */

import type { RowsKind } from './chart-rows.js';
import { unwrapRows } from './chart-rows.js';

export const CHART_META_FORMAT = 'modeconn-chart-meta';
export const CHART_META_VERSION = 1;

/** A checkpoint behind a chart: its file, what its metadata says, and what the rows measured. */
export interface ChartCheckpoint {
  /** File path as given, or a role such as `A (t = 0)` for an endpoint known only from the rows. */
  readonly label: string;
  readonly dataset: string | null;
  readonly seed: number | null;
  readonly epoch: number | null;
  /** Metrics stored in the checkpoint when it was saved (e.g. `testAccuracy`). */
  readonly storedMetrics: Readonly<Record<string, number>>;
  /** Accuracy per split measured in the rows (a path's endpoint). */
  readonly measuredAccuracy: Readonly<Record<string, number>>;
}

/** One split's evaluation size: `null` examples = the whole split (or not recorded). */
export interface ChartSplitSize {
  readonly split: string;
  readonly examples: number | null;
}

export interface ChartMeta {
  readonly format: typeof CHART_META_FORMAT;
  readonly version: typeof CHART_META_VERSION;
  /** File-name stem of the chart (`path`, `accuracy`, …). */
  readonly chart: string;
  readonly kind: RowsKind;
  /** The rows file, as given on the command line. */
  readonly rowsFile: string;
  readonly rowCount: number;
  /** Files written for this chart, names relative to the sidecar's folder. */
  readonly files: readonly string[];
  /** The command line that drew the chart (`modeconn chart …`). */
  readonly chartCommand: string;
  /** The command line that wrote the rows, when recorded (`--command`); `null` otherwise. */
  readonly rowsCommand: string | null;
  /** ISO 8601 time the chart was drawn. */
  readonly date: string;
  readonly toolkitVersion: string;
  /** Compute backend of the rows' command when it names one (`--backend`), else of the chart command. */
  readonly backend: string | null;
  readonly checkpoints: readonly ChartCheckpoint[];
  readonly seeds: readonly number[];
  readonly splits: readonly ChartSplitSize[];
}

type Json = Record<string, unknown>;
const isObject = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Splits a recorded command line into words (double or single quotes group words). */
export function splitCommandLine(text: string): string[] {
  const words: string[] = [];
  for (const m of text.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)) words.push(m[1] ?? m[2] ?? m[3] ?? '');
  return words;
}

/** Joins argv into one line a shell would read back the same (words with spaces or quotes quoted). */
export function joinCommandLine(argv: readonly string[]): string {
  return argv.map((a) => (a === '' || /[\s"'$`\\|&;<>()*?]/.test(a) ? `'${a.replace(/'/g, `'\\''`)}'` : a)).join(' ');
}

/** The value of `--name V` or `--name=V` in argv; the last one wins, as in parseArgs. */
export function optionValue(argv: readonly string[], name: string): string | undefined {
  let value: string | undefined;
  argv.forEach((a, i) => {
    if (a === `--${name}`) value = argv[i + 1];
    else if (a.startsWith(`--${name}=`)) value = a.slice(name.length + 3);
  });
  return value;
}

const integerOrNull = (text: string | undefined): number | null => (text !== undefined && /^\d+$/.test(text.trim()) ? Number(text) : null);

/** What a rows file and the command that wrote it say about the run. */
export interface RowsFacts {
  readonly seeds: number[];
  readonly splits: ChartSplitSize[];
  /** Endpoint accuracies found in path rows (t = 0 is A, t = 1 is B), per split. */
  readonly endpoints: ChartCheckpoint[];
  readonly backend: string | null;
}

/** Facts of the rows (content `json`, kind `kind`) and of the recorded command line `rowsCommand` (words). */
export function rowsFacts(json: unknown, kind: RowsKind, rowsCommand: readonly string[] | null): RowsFacts {
  const rows = (unwrapRows(json) ?? []).filter(isObject);
  const seeds = new Set<number>();
  const commandSeed = rowsCommand === null ? null : integerOrNull(optionValue(rowsCommand, 'seed'));
  if (commandSeed !== null) seeds.add(commandSeed);
  if (kind === 'simulator' && isObject(json) && Array.isArray(json['runs'])) {
    for (const run of json['runs']) {
      const seed = isObject(run) && isObject(run['config']) ? run['config']['seed'] : undefined;
      if (typeof seed === 'number') seeds.add(seed);
    }
  }
  const splitNames = [...new Set(rows.map((r) => r['split']).filter((s): s is string => typeof s === 'string'))];
  const splits = splitNames.map((split) => ({
    split,
    examples: rowsCommand === null ? null : integerOrNull(optionValue(rowsCommand, `${split}-examples`)),
  }));
  const endpoints: ChartCheckpoint[] = [];
  if (kind === 'path') {
    const paths = [...new Set(rows.map((r) => r['path']))];
    const firstPath = rows.filter((r) => r['path'] === paths[0]);
    for (const [role, t] of [['A (t = 0)', 0], ['B (t = 1)', 1]] as const) {
      const at = firstPath.filter((r) => r['t'] === t && typeof r['accuracy'] === 'number');
      if (at.length === 0) continue;
      endpoints.push({
        label: role,
        dataset: null,
        seed: null,
        epoch: null,
        storedMetrics: {},
        measuredAccuracy: Object.fromEntries(at.map((r) => [String(r['split']), r['accuracy'] as number])),
      });
    }
  }
  const backend = rowsCommand === null ? null : (optionValue(rowsCommand, 'backend') ?? null);
  return { seeds: [...seeds].sort((a, b) => a - b), splits, endpoints, backend };
}

/** Reads a sidecar's JSON text; throws, naming `source`, unless it is a chart meta file of this version. */
export function parseChartMeta(text: string, source: string): ChartMeta {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${source}: not JSON (${(e as Error).message})`, { cause: e });
  }
  if (!isObject(json) || json['format'] !== CHART_META_FORMAT) throw new Error(`${source}: expected a chart metadata file with format "${CHART_META_FORMAT}", found ${isObject(json) ? `format ${JSON.stringify(json['format'])}` : 'no object'}`);
  if (json['version'] !== CHART_META_VERSION) throw new Error(`${source}: chart metadata version ${JSON.stringify(json['version'])} is not supported (expected ${CHART_META_VERSION})`);
  for (const field of ['chart', 'kind', 'rowsFile', 'chartCommand', 'date', 'toolkitVersion'] as const) {
    if (typeof json[field] !== 'string') throw new Error(`${source}: field "${field}" should be a string, found ${JSON.stringify(json[field])}`);
  }
  for (const field of ['files', 'checkpoints', 'seeds', 'splits'] as const) {
    if (!Array.isArray(json[field])) throw new Error(`${source}: field "${field}" should be an array, found ${JSON.stringify(json[field])}`);
  }
  return json as unknown as ChartMeta;
}
