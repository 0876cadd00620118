/**
 * Render Vega-Lite specs headlessly: spec → SVG → PNG, and save a chart as editable spec + images.
 *
 * Pipeline:
 *  1. `vega-lite.compile(spec)` → Vega spec;
 *  2. `new vega.View(vega.parse(vgSpec), { renderer: 'none' })` and `view.toSVG()` → SVG string
 *     (no canvas needed: Vega estimates text widths, generously, which leaves room for labels);
 *  3. `@resvg/resvg-js` rasterises the SVG with explicitly loaded fonts (DejaVu Sans when installed,
 *     the system fonts otherwise) → PNG bytes.
 */

import { existsSync, readdirSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Resvg, type ResvgRenderOptions } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { writeFileAtomic } from '../util/atomic-write.js';
import { ERROR } from './messages.js';
import { vegaTextWidth } from './text-width.js';

/** Directories searched for the DejaVu fonts (Debian: `fonts-dejavu-core`), in order. */
export const FONT_DIRS: readonly string[] = [
  '/usr/share/fonts/truetype/dejavu',
  '/usr/share/fonts/dejavu',
  '/usr/share/fonts/TTF',
  '/usr/local/share/fonts',
  '/Library/Fonts',
  'C:\\Windows\\Fonts',
];

/** Compile a Vega-Lite spec and render it to an SVG string. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  let vgSpec: vega.Spec;
  try {
    // Vega tags the data objects it ingests (Symbol(vega_id)); render a copy so the caller's spec stays as it was.
    vgSpec = compile(JSON.parse(JSON.stringify(spec)) as TopLevelSpec).spec;
  } catch (e) {
    throw new Error(ERROR.compile(e instanceof Error ? e.message : String(e)), { cause: e });
  }
  // Vega has no per-view text measurer; without a canvas it guesses 0.8 em per character. Install
  // the DejaVu Sans estimate (idempotent: every render installs the same function).
  // (`textMetrics` is exported at run time but missing from vega's type declarations.)
  (vega as unknown as { textMetrics: { width: typeof vegaTextWidth } }).textMetrics.width = vegaTextWidth;
  const view = new vega.View(vega.parse(vgSpec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export interface RenderPngOptions {
  /** Pixel ratio relative to the chart's own size. Default 2 (print quality for a ~440 px chart). Ignored when `width` is set. */
  readonly scale?: number;
  /** Output width in px; the height follows the aspect ratio. Default: not set (use `scale`). */
  readonly width?: number;
  /** Background color. Default `'white'`. */
  readonly background?: string;
  /** Extra font files to load (e.g. a paper's font). Default: none. */
  readonly fontFiles?: readonly string[];
  /** Font directories to load. Default: those of {@link FONT_DIRS} that exist. */
  readonly fontDirs?: readonly string[];
}

/** Font options for resvg: DejaVu (or the given fonts) plus the system fonts as a fallback. */
export function resvgFontOptions(options: Pick<RenderPngOptions, 'fontFiles' | 'fontDirs'> = {}): NonNullable<ResvgRenderOptions['font']> {
  const dirs = (options.fontDirs ?? FONT_DIRS).filter((d) => existsSync(d));
  const hasDejaVu = dirs.some((d) => {
    try {
      return readdirSync(d).some((f) => /^DejaVuSans\.ttf$/i.test(f));
    } catch {
      return false;
    }
  });
  const family = hasDejaVu ? 'DejaVu Sans' : 'sans-serif';
  return {
    fontFiles: [...(options.fontFiles ?? [])],
    fontDirs: dirs,
    // System fonts as well, so text still renders on machines without DejaVu.
    loadSystemFonts: true,
    defaultFontFamily: family,
    sansSerifFamily: family,
  };
}

/** Rasterise a spec (rendered to SVG first) or an SVG string to PNG bytes. */
export async function renderPng(input: TopLevelSpec | string, options: RenderPngOptions = {}): Promise<Uint8Array> {
  let svg: string;
  if (typeof input === 'string') {
    if (!input.trimStart().startsWith('<svg') && !input.trimStart().startsWith('<?xml')) {
      throw new Error(ERROR.pngInput(JSON.stringify(input.slice(0, 40))));
    }
    svg = input;
  } else {
    svg = await renderSvg(input);
  }
  const fitTo: ResvgRenderOptions['fitTo'] =
    options.width !== undefined
      ? { mode: 'width', value: Math.round(options.width) }
      : { mode: 'zoom', value: options.scale ?? 2 };
  const resvg = new Resvg(svg, {
    fitTo,
    background: options.background ?? 'white',
    font: resvgFontOptions(options),
  });
  return new Uint8Array(resvg.render().asPng());
}

export type ChartFormat = 'svg' | 'png' | 'json';

export interface SaveChartOptions extends RenderPngOptions {
  /** Files to write. Default `['svg', 'png', 'json']`. */
  readonly formats?: readonly ChartFormat[];
}

const EXTENSION: Readonly<Record<ChartFormat, string>> = { svg: '.svg', png: '.png', json: '.vl.json' };

/**
 * Write `<base>.vl.json` (the Vega-Lite spec, editable), `<base>.svg` and `<base>.png`.
 * Each file is written to a temporary name beside it and renamed, so a reader never sees a
 * half-written figure. Returns the paths written, in the order of `formats`.
 */
export async function saveChart(spec: TopLevelSpec, basePath: string, options: SaveChartOptions = {}): Promise<string[]> {
  const formats = options.formats ?? ['svg', 'png', 'json'];
  await mkdir(dirname(basePath), { recursive: true });
  const needSvg = formats.includes('svg') || formats.includes('png');
  const svg = needSvg ? await renderSvg(spec) : '';
  const written: string[] = [];
  for (const format of formats) {
    const path = basePath + EXTENSION[format];
    const content =
      format === 'json' ? `${JSON.stringify(spec, null, 2)}\n` : format === 'svg' ? svg : await renderPng(svg, options);
    await writeFileAtomic(path, content);
    written.push(path);
  }
  return written;
}

