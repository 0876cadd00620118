/**
 * `modeconn report DIR`: collect the charts in a folder (what `modeconn chart` wrote) into one
 * self-contained HTML report that opens with the run's metadata, read from the charts'
 * `NAME.meta.json` sidecars: toolkit version, backend, dates, checkpoints with their accuracy,
 * seeds, data split sizes and the command lines behind each chart. SVGs without a sidecar are
 * included too, marked as charts without recorded metadata.
 */
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { parseChartMeta, type ChartMeta } from '../../charts/chart-meta.js';
import { writeHtmlReport, type ReportSection, type ReportTable } from '../../charts/report.js';
import { parseArgs, required } from '../args.js';
import { checkOutputPaths } from '../output-paths.js';
import type { Command } from './command.js';

export const reportCommand: Command = {
  summary: 'collect a folder of charts (from modeconn chart) into an HTML report with the run metadata',
  usage: 'DIR [--out DIR/report.html] [--title T]',
  help: `options:
  --out FILE    the report (default DIR/report.html)
  --title T     the report's title (default "mode-connectivity report")`,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: { out: { type: 'string' }, title: { type: 'string' } },
    });
    const dir = required(positionals[0], 'DIR (positional)');
    if (positionals.length > 1) throw new Error(`expected one folder, found ${positionals.length}: ${positionals.join(' ')}`);
    const out = values.out ?? join(dir, 'report.html');
    await checkOutputPaths([{ path: out, kind: 'file', option: '--out' }]);
    const names = await readdir(dir).catch((e: NodeJS.ErrnoException) => {
      throw new Error(`${dir}: cannot list the folder (${e.code ?? e.message}); expected a folder of charts written by modeconn chart`, { cause: e });
    });
    const metas: ChartMeta[] = [];
    for (const name of names.filter((n) => n.endsWith('.meta.json')).sort()) {
      const path = join(dir, name);
      metas.push(parseChartMeta(await readFile(path, 'utf8'), path));
    }
    const described = new Set(metas.flatMap((m) => m.files));
    const bare = names.filter((n) => n.endsWith('.svg') && !described.has(n)).sort();
    if (metas.length === 0 && bare.length === 0) throw new Error(`${dir}: no charts found (expected NAME.meta.json and NAME.svg or NAME.png files written by modeconn chart)`);
    const reportDir = dirname(resolve(out));
    const rel = (file: string): string => relative(reportDir, resolve(dir, file)).split('\\').join('/');
    const figureOf = (m: ChartMeta): string | undefined => m.files.find((f) => f.endsWith('.svg')) ?? m.files.find((f) => f.endsWith('.png'));
    const sections: ReportSection[] = [
      metadataSection(metas, new Date().toISOString()),
      ...metas.map((m): ReportSection => {
        const figure = figureOf(m);
        return {
          heading: m.chart,
          text: [
            `${m.kind} chart of ${m.rowsFile} (${m.rowCount} rows), drawn ${m.date}.`,
            `Rows written by: ${m.rowsCommand ?? 'not recorded (modeconn chart --command records it)'}`,
            `Chart drawn by: ${m.chartCommand}`,
          ].join('\n\n'),
          ...(figure === undefined ? {} : { figures: [{ file: rel(figure), caption: `${m.kind} rows of ${basename(m.rowsFile)}` }] }),
        };
      }),
      ...bare.map((file): ReportSection => ({
        heading: file.replace(/\.svg$/, ''),
        text: 'No metadata recorded for this chart (no .meta.json beside it).',
        figures: [{ file: rel(file), caption: file }],
      })),
    ];
    await writeHtmlReport(out, { title: values.title ?? 'mode-connectivity report', sections });
    console.log(`wrote ${out} (${metas.length + bare.length} charts)`);
    return 0;
  },
};

const uniqueText = (values: readonly (string | null)[], none: string): string => {
  const set = [...new Set(values.filter((v): v is string => v !== null))];
  return set.length === 0 ? none : set.join(', ');
};

/** The report's first section: what produced the charts. */
export function metadataSection(metas: readonly ChartMeta[], now: string): ReportSection {
  const seeds = [...new Set(metas.flatMap((m) => m.seeds))].sort((a, b) => a - b);
  const text = [
    `Toolkit version: ${uniqueText(metas.map((m) => m.toolkitVersion), 'not recorded')}.`,
    `Backend: ${uniqueText(metas.map((m) => m.backend), 'not recorded (the rows command line names none)')}.`,
    `Report written ${now}; charts drawn ${uniqueText([...new Set(metas.map((m) => m.date.slice(0, 10)))], 'at unknown dates')}.`,
    `Seeds: ${seeds.length === 0 ? 'not recorded' : seeds.join(', ')}.`,
  ].join('\n\n');
  const splitNames = [...new Set(metas.flatMap((m) => m.checkpoints.flatMap((c) => Object.keys(c.measuredAccuracy))))].sort();
  const checkpointRows = metas.flatMap((m) =>
    m.checkpoints.map((c) => [
      m.chart,
      c.label,
      c.dataset ?? '',
      c.seed,
      c.epoch,
      ...splitNames.map((s) => c.measuredAccuracy[s] ?? null),
      Object.entries(c.storedMetrics).map(([k, v]) => `${k} ${Number.isInteger(v) ? v : v.toFixed(4)}`).join(', '),
    ]),
  );
  const tables: ReportTable[] = [
    {
      caption: 'Charts and the command lines that produced them',
      columns: ['chart', 'kind', 'rows file', 'rows', 'rows written by', 'chart drawn by'],
      rows: metas.map((m) => [m.chart, m.kind, m.rowsFile, m.rowCount, m.rowsCommand ?? 'not recorded', m.chartCommand]),
    },
    {
      caption: 'Data split sizes (examples evaluated; "whole split" when no subset was chosen or it was not recorded)',
      columns: ['chart', 'split', 'examples'],
      rows: metas.flatMap((m) => m.splits.map((s) => [m.chart, s.split, s.examples ?? 'whole split'])),
    },
  ];
  if (checkpointRows.length > 0) {
    tables.push({
      caption: 'Checkpoints: stored metadata, and accuracy measured in the rows (path endpoints)',
      columns: ['chart', 'checkpoint', 'dataset', 'seed', 'epoch', ...splitNames.map((s) => `${s} accuracy`), 'stored metrics'],
      rows: checkpointRows,
      formats: [undefined, undefined, undefined, { decimals: 0 }, { decimals: 0 }, ...splitNames.map(() => ({ percent: true, decimals: 1 }))],
    });
  }
  return { heading: 'Run metadata', text, tables };
}
