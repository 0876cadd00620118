import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { columnDecimals, escapeHtml, formatNumber, formatTableCells, missingReportFiles, prefixSvgIds, renderHtmlReport, writeHtmlReport, type HtmlReport } from './report.js';

const SVG = '<svg xmlns="http://www.w3.org/2000/svg"><defs><clipPath id="clip1"><rect/></clipPath></defs><g clip-path="url(#clip1)"/></svg>';

describe('formatNumber', () => {
  it('shows 4 significant digits, exponents for tiny and huge values', () => {
    expect(formatNumber(1.812345)).toBe('1.812');
    expect(formatNumber(0.012345)).toBe('0.01235');
    expect(formatNumber(12345)).toBe('12350');
    expect(formatNumber(0.00001234)).toBe('1.234e-5');
    expect(formatNumber(0)).toBe('0');
    expect(formatNumber(null)).toBe('');
    expect(formatNumber(Number.NaN)).toBe('NaN');
  });
});

describe('table columns', () => {
  it('formats a column with one number of decimals chosen from its largest magnitude', () => {
    // max |x| = 2.2025 lies in [1, 10): 3 decimals for every cell, trailing zeros kept.
    const cells = formatTableCells({ caption: 'c', columns: ['barrier'], rows: [[0.0123], [1.64], [2.2025]] });
    expect(cells.map((r) => r[0])).toEqual(['0.012', '1.640', '2.203']);
  });

  it('shows integer columns as integers and picks decimals by magnitude', () => {
    expect(columnDecimals([200, 10000, null])).toBe(0);
    expect(columnDecimals([1234.5])).toBe(0);
    expect(columnDecimals([123.45])).toBe(1);
    expect(columnDecimals([12.345])).toBe(2);
    expect(columnDecimals([0.5, 0.25])).toBe(3);
    expect(columnDecimals([0.0123])).toBe(4);
    expect(columnDecimals([0.000123])).toBe(6);
    const cells = formatTableCells({ caption: 'c', columns: ['examples', 'loss'], rows: [[200, 0.6066667], [10000, 2.2025172]] });
    expect(cells).toEqual([['200', '0.607'], ['10000', '2.203']]);
  });

  it('applies given decimals, percent and units per column, leaves strings and nulls alone', () => {
    const cells = formatTableCells({
      caption: 'c',
      columns: ['name', 'accuracy', 'loss', 'time'],
      rows: [['a', 0.72, 0.60667, 12], ['b', 0.745, null, -0.0001]],
      formats: [undefined, { percent: true, decimals: 1 }, { unit: ' nats' }, { decimals: 2, unit: ' s' }],
    });
    expect(cells).toEqual([
      ['a', '72.0%', '0.607 nats', '12.00 s'],
      ['b', '74.5%', '', '0.00 s'],
    ]);
  });
});

describe('HTML report', () => {
  const report: HtmlReport = {
    title: 'Barriers <LeNet5> & "friends"',
    sections: [
      {
        heading: 'Linear <path>',
        text: 'First <b>paragraph</b>.\n\nSecond.',
        figures: [{ file: 'fig/a.svg', caption: 'loss < 2 & acc > 0.5' }],
        tables: [{ caption: 'Barriers', columns: ['path', 'barrier'], rows: [['<linear>', 1.812345], ['bezier', null]] }],
      },
      { heading: 'Second', figures: [{ file: 'fig/b.svg', caption: 'b' }] },
    ],
  };

  it('escapes all text and formats table numbers', () => {
    const html = renderHtmlReport(report, new Map([['fig/a.svg', SVG], ['fig/b.svg', SVG]]));
    expect(html).not.toContain('<LeNet5>');
    expect(html).not.toContain('<b>paragraph');
    expect(html).not.toContain('<linear>');
    expect(html).toContain('Barriers &#60;LeNet5&#62; &#38; &#34;friends&#34;');
    expect(html).toContain('<td class="num">1.812</td>');
    expect(html).toContain('<p>Second.</p>');
    expect(escapeHtml(`<'&">`)).toBe('&#60;&#39;&#38;&#34;&#62;');
  });

  it('gives each inlined SVG its own ids so clip paths do not collide', () => {
    const html = renderHtmlReport(report, new Map([['fig/a.svg', SVG], ['fig/b.svg', SVG]]));
    expect(html).toContain('id="f1-clip1"');
    expect(html).toContain('url(#f2-clip1)');
    expect(html).not.toContain('id="clip1"');
    expect(prefixSvgIds('<use href="#x"/>', 'p-')).toBe('<use href="#p-x"/>');
  });

  it('rejects a table row of the wrong length', () => {
    const bad: HtmlReport = { title: 't', sections: [{ heading: 'h', tables: [{ caption: 'c', columns: ['a', 'b'], rows: [[1]] }] }] };
    expect(() => renderHtmlReport(bad, new Map())).toThrow(/row 0 has 1 cells, expected 2/);
  });

  it('writes a self-contained page: SVG inlined, PNG and spec linked only when present', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'report-'));
    expect(missingReportFiles(report, dir)).toEqual(['fig/a.svg', 'fig/b.svg']);
    await expect(writeHtmlReport(join(dir, 'index.html'), report)).rejects.toThrow(/fig\/a\.svg, fig\/b\.svg/);
    const fig = join(dir, 'fig');
    (await import('node:fs')).mkdirSync(fig);
    writeFileSync(join(fig, 'a.svg'), SVG);
    writeFileSync(join(fig, 'a.png'), 'png');
    writeFileSync(join(fig, 'a.vl.json'), '{}');
    writeFileSync(join(fig, 'b.svg'), SVG);
    expect(missingReportFiles(report, dir)).toEqual([]);
    await writeHtmlReport(join(dir, 'index.html'), report);
    const html = readFileSync(join(dir, 'index.html'), 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('href="fig/a.png"');
    expect(html).toContain('href="fig/a.vl.json"');
    expect(html).not.toContain('href="fig/b.png"');
    // every href/src points at an existing file (or an in-page anchor)
    for (const [, ref] of html.matchAll(/(?:href|src)="([^"#][^"]*)"/g)) {
      expect(missingReportFiles({ title: '', sections: [{ heading: '', figures: [{ file: ref ?? '', caption: '' }] }] }, dir)).toEqual([]);
    }
  });

  it('refuses to inline an SVG that carries a script', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'report-'));
    writeFileSync(join(dir, 'x.svg'), '<svg><script>alert(1)</script></svg>');
    await expect(
      writeHtmlReport(join(dir, 'r.html'), { title: 't', sections: [{ heading: 'h', figures: [{ file: 'x.svg', caption: 'c' }] }] }),
    ).rejects.toThrow(/script/);
  });
});
