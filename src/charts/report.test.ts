import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { escapeHtml, formatNumber, missingReportFiles, prefixSvgIds, renderHtmlReport, writeHtmlReport, type HtmlReport } from './report.js';

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
