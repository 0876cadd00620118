/**
 * Every relative link and image of the repository's Markdown files resolves to a file inside the
 * repository: a clone or the package never points at a sibling folder that only a developer has.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
/** Generated or installed folders, not part of the repository's own text. */
const SKIP = new Set(['node_modules', 'dist', 'runs', '.git', 'api', '.gpu-bundle', '.gl', '.gpu-check-out', '.vitest-cache']);

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (SKIP.has(entry.name)) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return markdownFiles(path);
    return entry.name.endsWith('.md') ? [path] : [];
  });
}

/** Targets of `[text](target)`, `![alt](target "title")`, `[ref]: target` and `<img src="target">`. */
function linkTargets(markdown: string): string[] {
  const text = markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  const inline = [...text.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1] as string);
  const references = [...text.matchAll(/^\s*\[[^\]]+\]:\s*(\S+)/gm)].map((m) => m[1] as string);
  const images = [...text.matchAll(/<img[^>]*\ssrc="([^"]+)"/g)].map((m) => m[1] as string);
  return [...inline, ...references, ...images];
}

const isExternal = (target: string): boolean => /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#');

describe('Markdown links', () => {
  it('the link parser finds inline links, images, references and <img>, and skips code', () => {
    const found = linkTargets('[a](docs/a.md#x) ![b](fig/b.png "t") `[c](no.md)`\n```\n[d](no2.md)\n```\n[e]: ../e.md\n<img width="3" src="f.svg">');
    expect(found).toEqual(['docs/a.md#x', 'fig/b.png', '../e.md', 'f.svg']);
  });

  const files = markdownFiles(ROOT);
  it('finds the repository’s Markdown files', () => {
    expect(files.map((f) => relative(ROOT, f))).toEqual(expect.arrayContaining(['README.md', 'ARCHITECTURE.md', 'docs/algorithms.md', 'figures/README.md']));
  });

  for (const file of files) {
    it(`${relative(ROOT, file)}: every relative link resolves inside the repository`, () => {
      const broken: string[] = [];
      for (const target of linkTargets(readFileSync(file, 'utf8'))) {
        if (isExternal(target)) continue;
        const path = resolve(dirname(file), decodeURIComponent(target.split('#')[0] as string));
        const inside = !relative(ROOT, path).startsWith('..');
        if (!inside || !existsSync(path)) broken.push(`${target}${inside ? ' (missing)' : ' (outside the repository)'}`);
      }
      expect(broken).toEqual([]);
    });
  }
});
