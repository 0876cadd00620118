/**
 * `modeconn chart ROWS.json --out DIR`: draw any rows file the CLI writes with the matching chart
 * builder (kinds and their detection: `charts/chart-rows.ts`), and record beside each chart a
 * `NAME.meta.json` sidecar (`charts/chart-meta.ts`) that `modeconn report` turns into the report's
 * metadata section.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, extname } from 'node:path';
import { joinCommandLine, splitCommandLine, type ChartCheckpoint } from '../../charts/chart-meta.js';
import { detectRowsKind, ROWS_KINDS, unwrapRows, type RowsKind } from '../../charts/chart-rows.js';
import { openRegularFile } from '../../util/regular-file.js';
import { parseArgs, required } from '../args.js';
import { describeCheckpoint, parseFormats, writeRowsCharts } from '../chart-output.js';
import { checkOutputPaths } from '../output-paths.js';
import { commandLineCheckpoints } from '../command-checkpoints.js';
import type { Command } from './command.js';

/** Largest rows file read (JSON parsing holds it several times over in memory). */
const MAX_ROWS_BYTES = 256 * 2 ** 20;

export const chartCommand: Command = {
  summary: 'draw a rows file (--json output, LLPF run, simulator run) as charts',
  usage: 'ROWS.json --out DIR [--format png,svg,html] [--title T] [--command "…"] [--checkpoints A,B]',
  help: `Reads a rows file any analysis wrote (barrier/path --json output, an LLPF run folder's rows.json,
a simulator run's rows.json, surface rows), finds its kind from its fields (or its "kind" field) and
writes NAME.vl.json (editable Vega-Lite spec), the chosen formats and NAME.meta.json (what
'modeconn report' shows: command lines, date, backend, checkpoints, seeds, split sizes) into DIR.
Kinds: ${ROWS_KINDS.join(', ')}.

options:
  --out DIR            output folder (required)
  --format LIST        comma-separated: png, svg, html (default png,svg)
  --title T            chart title (default: none)
  --kind K             draw as this kind instead of the detected one
  --name NAME          file-name stem (default: the rows file's name, or its folder's for rows.json);
                       each chart is NAME-CHART (e.g. linear-path)
  --command "LINE"     the command line that wrote the rows, recorded for the report; its --seed,
                       --train-examples, --test-examples, --backend and checkpoint files are read from it
  --checkpoints LIST   comma-separated checkpoints behind the rows, described in the report (dataset,
                       seed, epoch, stored metrics; default: the checkpoint arguments of --command
                       that exist here, not the values of its --out, --csv, --path …);
                       for path rows the first two are A and B and get the endpoints' measured accuracy`,
  async run(args, context) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        out: { type: 'string' },
        format: { type: 'string' },
        title: { type: 'string' },
        kind: { type: 'string' },
        name: { type: 'string' },
        command: { type: 'string' },
        checkpoints: { type: 'string' },
      },
    });
    const rowsFile = required(positionals[0], 'ROWS.json (positional)');
    if (positionals.length > 1) throw new Error(`expected one rows file, found ${positionals.length}: ${positionals.join(' ')}`);
    const out = required(values.out, 'out');
    const formats = parseFormats(values.format);
    if (values.kind !== undefined && !(ROWS_KINDS as readonly string[]).includes(values.kind)) {
      throw new Error(`--kind: expected one of ${ROWS_KINDS.join(', ')}, found "${values.kind}"`);
    }
    await checkOutputPaths([{ path: out, kind: 'folder', option: '--out' }]);
    const json = await readRowsFile(rowsFile);
    const kind = (values.kind as RowsKind | undefined) ?? detectRowsKind(json, rowsFile);
    if (values.kind !== undefined) detectRowsKind({ kind, rows: unwrapRows(json) ?? [] }, rowsFile);
    const rowsCommand = values.command === undefined ? null : splitCommandLine(values.command);
    const checkpointPaths =
      values.checkpoints !== undefined
        ? values.checkpoints.split(',').map((s) => s.trim()).filter((s) => s !== '')
        : commandLineCheckpoints(rowsCommand ?? []).filter((path) => existsSync(path));
    const checkpoints: ChartCheckpoint[] = [];
    if (checkpointPaths.length > 0) {
      await context.initBackend();
      for (const path of checkpointPaths) checkpoints.push(await describeCheckpoint(path));
    }
    const written = await writeRowsCharts(json, {
      out,
      formats,
      kind,
      name: values.name ?? defaultName(rowsFile),
      ...(values.title === undefined ? {} : { title: values.title }),
      rowsFile,
      rowsCommand: values.command ?? null,
      chartCommand: joinCommandLine(['modeconn', 'chart', ...args]),
      checkpoints,
    });
    console.log(`${kind} rows: wrote ${written.join(', ')} to ${out}`);
    return 0;
  },
};

/** `runs/x/linear.json` → `linear`; `runs/llpf-1/rows.json` → `llpf-1`; `charts/surface.rows.json` (of --chart) → `surface`. */
function defaultName(rowsFile: string): string {
  const stem = basename(rowsFile, extname(rowsFile)).replace(/\.rows$/, '');
  const name = stem === 'rows' ? basename(dirname(rowsFile)) : stem;
  return name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+/, '') || 'chart';
}

/** Reads and parses a rows file (regular files only, at most {@link MAX_ROWS_BYTES}). */
async function readRowsFile(path: string): Promise<unknown> {
  const { handle, size } = await openRegularFile(path, path);
  let text: string;
  try {
    if (size > MAX_ROWS_BYTES) throw new Error(`${path}: ${size} bytes is more than the ${MAX_ROWS_BYTES}-byte limit for a rows file`);
    text = await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new Error(`${path}: not JSON (${(e as Error).message}); expected a rows file written with --json or by an LLPF or simulator run`, { cause: e });
  }
}
