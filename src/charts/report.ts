/**
 * A self-contained HTML report: headings, text, figures and tables of numbers in one file.
 * SVG figures are inlined (so the page needs nothing beside it to show them), with links to the
 * sibling `.png` and `.vl.json` when they exist; PNG-only figures are referenced by relative path.
 * Every text is HTML-escaped. Numbers in tables are formatted per column: a fixed number of decimals
 * for the whole column (given, or chosen from the column's magnitude), integers as integers, and an
 * optional unit, so a column of barriers reads 0.012, 1.640, 2.203 rather than 0.01235, 1.64, 2.203.
 */

import { existsSync } from 'node:fs';
import { readFile, mkdir } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { ERROR, REPORT } from './messages.js';
import { writeFileAtomic } from '../util/atomic-write.js';

export interface ReportFigure {
  /** Path of the `.svg` or `.png`, relative to the report's directory. */
  readonly file: string;
  readonly caption: string;
}

export type ReportCell = string | number | null;

/** How one table column shows its numbers. */
export interface ColumnFormat {
  /** Decimals after the point. Default: from the column's magnitude (see {@link columnDecimals}). */
  readonly decimals?: number;
  /** Multiply by 100 and append `%` (for fractions such as accuracy). Default `false`. */
  readonly percent?: boolean;
  /** Text appended after the number, e.g. `' nats'`, `' s'`. Default: none. */
  readonly unit?: string;
}

export interface ReportTable {
  readonly caption: string;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly ReportCell[])[];
  /** Per-column number formats, by column index; a missing entry uses the defaults. Default: none. */
  readonly formats?: readonly (ColumnFormat | undefined)[];
}

export interface ReportSection {
  readonly heading: string;
  /** Paragraphs separated by blank lines. Default: none. */
  readonly text?: string;
  readonly figures?: readonly ReportFigure[];
  readonly tables?: readonly ReportTable[];
}

export interface HtmlReport {
  readonly title: string;
  readonly sections: readonly ReportSection[];
}

/** Escape `& < > " '` so any text is shown as text. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A number with 4 significant digits (for running text; tables use per-column formats); exponent form below 1e-3 and from 1e6 on; `''` for null. */
export function formatNumber(x: number | null): string {
  if (x === null) return '';
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a < 1e-3 || a >= 1e6) return x.toExponential(3);
  return new Intl.NumberFormat('en-US', { maximumSignificantDigits: 4, useGrouping: false }).format(x);
}

/**
 * Decimals for a column of numbers: 0 when every finite value is an integer; otherwise by the
 * largest magnitude m in the column: m ≥ 1000 → 0, ≥ 100 → 1, ≥ 10 → 2, ≥ 1 → 3, and below 1 enough
 * decimals to show 3 significant digits of m (0.0123 → 4), at most 8.
 */
export function columnDecimals(values: readonly (number | null)[]): number {
  const finite = values.filter((x): x is number => x !== null && Number.isFinite(x));
  if (finite.every((x) => Number.isInteger(x))) return 0;
  const m = Math.max(...finite.map((x) => Math.abs(x)));
  if (m >= 1000) return 0;
  if (m >= 100) return 1;
  if (m >= 10) return 2;
  if (m >= 1) return 3;
  if (m === 0) return 0;
  return Math.min(8, 2 - Math.floor(Math.log10(m)));
}

/** One cell's number with a column format (decimals already resolved); `''` for null. */
export function formatCell(x: number | null, format: ColumnFormat & { readonly decimals: number }): string {
  if (x === null) return '';
  if (!Number.isFinite(x)) return String(x);
  const value = format.percent === true ? 100 * x : x;
  const text = value.toFixed(format.decimals);
  // -0.000 reads as a sign error; show it as 0.000.
  const unsigned = /^-0(\.0*)?$/.test(text) ? text.slice(1) : text;
  return `${unsigned}${format.percent === true ? '%' : ''}${format.unit ?? ''}`;
}

/** Every column's numbers formatted as in the report: `rows[i][j]` as text (strings unchanged). */
export function formatTableCells(table: ReportTable): string[][] {
  const resolved = table.columns.map((_, j) => {
    const given = table.formats?.[j];
    const numbers = table.rows.map((r) => r[j]).filter((c): c is number | null => typeof c === 'number' || c === null);
    const scaled = given?.percent === true ? numbers.map((x) => (x === null ? null : 100 * x)) : numbers;
    return { ...given, decimals: given?.decimals ?? columnDecimals(scaled) };
  });
  return table.rows.map((r) => r.map((c, j) => (typeof c === 'string' ? c : formatCell(c, resolved[j] ?? { decimals: 0 }))));
}

/** Files the report references (relative to `baseDir`) that do not exist. */
export function missingReportFiles(report: HtmlReport, baseDir: string): string[] {
  return report.sections
    .flatMap((s) => s.figures ?? [])
    .map((f) => f.file)
    .filter((file) => !existsSync(resolve(baseDir, file)));
}

/** Prefix every id (and its references) so several inlined Vega SVGs (all with `clip1`, …) do not collide. */
export function prefixSvgIds(svg: string, prefix: string): string {
  return svg
    .replace(/<\?xml[^>]*\?>/, '')
    .replace(/\bid="([^"]+)"/g, `id="${prefix}$1"`)
    .replace(/url\(#([^)]+)\)/g, `url(#${prefix}$1)`)
    .replace(/href="#([^"]+)"/g, `href="#${prefix}$1"`);
}

const CSS = `
body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em}h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ddd;padding-bottom:.2em}
figure{margin:1.5em 0}figure svg,figure img{max-width:100%;height:auto}figcaption{font-size:.92em;color:#444}
.files{font-size:.85em;color:#666}.files a{margin-right:.8em}
table{border-collapse:collapse;margin:1em 0;font-size:.92em}caption{text-align:left;font-weight:bold;margin-bottom:.3em}
th,td{border:1px solid #ccc;padding:.25em .6em}td.num{text-align:right;font-variant-numeric:tabular-nums}
nav ol{padding-left:1.2em}
`.trim();

/**
 * Build the HTML text. `svgs` maps a figure's `file` to its SVG text (inlined); figures not in it
 * are referenced with `<img>`. `exists(path)` tells which sibling PNG/JSON files to link.
 */
export function renderHtmlReport(
  report: HtmlReport,
  svgs: ReadonlyMap<string, string>,
  exists: (relativePath: string) => boolean = () => false,
): string {
  let figureNo = 0;
  const figureHtml = (f: ReportFigure): string => {
    figureNo += 1;
    const stem = f.file.replace(/\.(svg|png)$/i, '');
    const links = [
      [`${stem}.svg`, REPORT.svg],
      [`${stem}.png`, REPORT.png],
      [`${stem}.vl.json`, REPORT.vegaLiteSpec],
    ]
      .filter(([p]) => p !== undefined && exists(p))
      .map(([p, name]) => `<a href="${escapeHtml(p ?? '')}">${escapeHtml(name ?? '')}</a>`)
      .join('');
    const svg = svgs.get(f.file);
    const body = svg !== undefined ? prefixSvgIds(svg, `f${figureNo}-`) : `<img src="${escapeHtml(f.file)}" alt="${escapeHtml(f.caption)}">`;
    const files = links === '' ? '' : `<div class="files">${escapeHtml(REPORT.figureLinks)} ${links}</div>`;
    return `<figure>${body}<figcaption>Figure ${figureNo}. ${escapeHtml(f.caption)}</figcaption>${files}</figure>`;
  };
  const tableHtml = (t: ReportTable): string => {
    t.rows.forEach((r, i) => {
      if (r.length !== t.columns.length) throw new Error(ERROR.tableRowLength(t.caption, i, t.columns.length, r.length));
    });
    const head = t.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
    const texts = formatTableCells(t);
    const rows = t.rows
      .map(
        (r, i) =>
          `<tr>${r.map((c, j) => `<td${typeof c === 'string' ? '' : ' class="num"'}>${escapeHtml(texts[i]?.[j] ?? '')}</td>`).join('')}</tr>`,
      )
      .join('\n');
    return `<table><caption>${escapeHtml(t.caption)}</caption><thead><tr>${head}</tr></thead><tbody>\n${rows}\n</tbody></table>`;
  };
  const sections = report.sections.map((s, i) => {
    const paragraphs = (s.text ?? '')
      .split(/\n\s*\n/)
      .filter((p) => p.trim() !== '')
      .map((p) => `<p>${escapeHtml(p.trim())}</p>`)
      .join('\n');
    return [`<section id="s${i + 1}"><h2>${escapeHtml(s.heading)}</h2>`, paragraphs, ...(s.figures ?? []).map(figureHtml), ...(s.tables ?? []).map(tableHtml), '</section>']
      .filter((x) => x !== '')
      .join('\n');
  });
  const toc = report.sections.map((s, i) => `<li><a href="#s${i + 1}">${escapeHtml(s.heading)}</a></li>`).join('');
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta name="generator" content="${escapeHtml(REPORT.generator)}">`,
    `<title>${escapeHtml(report.title)}</title>`,
    `<style>${CSS}</style></head><body>`,
    `<h1>${escapeHtml(report.title)}</h1>`,
    `<nav><strong>${escapeHtml(REPORT.tableOfContents)}</strong><ol>${toc}</ol></nav>`,
    ...sections,
    '</body></html>',
    '',
  ].join('\n');
}

/**
 * Write the report to `path` (atomically). Figure paths are relative to the report's directory;
 * throws, listing them, when any referenced file is missing, and refuses SVGs with scripts.
 */
export async function writeHtmlReport(path: string, report: HtmlReport): Promise<void> {
  const baseDir = dirname(resolve(path));
  const missing = missingReportFiles(report, baseDir);
  if (missing.length > 0) throw new Error(ERROR.missingFigures(path, missing));
  const svgs = new Map<string, string>();
  for (const f of report.sections.flatMap((s) => s.figures ?? [])) {
    if (!/\.svg$/i.test(f.file)) continue;
    const svg = await readFile(resolve(baseDir, f.file), 'utf8');
    if (/<script\b/i.test(svg)) throw new Error(ERROR.scriptInSvg(basename(f.file)));
    svgs.set(f.file, svg);
  }
  await mkdir(baseDir, { recursive: true });
  await writeFileAtomic(path, renderHtmlReport(report, svgs, (p) => existsSync(resolve(baseDir, p))));
}
