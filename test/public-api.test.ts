/**
 * The shape of the public API, checked without a build: src/index.ts stays small and only
 * re-exports, every subpath export of package.json is a file of src/entry/ (and back), and no
 * entry exposes a module that is internal by design. test/package.test.ts checks the same
 * surface from an installed tarball.
 */
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as publicApi from '../src/index.js';

const repo = fileURLToPath(new URL('..', import.meta.url));

/** Modules that only their own folder uses: worker plumbing, resume state, chart styling. */
const INTERNAL = ['evaluate/worker-messages', 'evaluate/evaluation-worker', 'train/train-state', 'models/config-fields', 'charts/theme', 'charts/text-width', 'charts/band', 'cli/'];

/** The statements of a TypeScript module with comments removed. */
function statements(source: string): string[] {
  return source
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '')
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

describe('public API', () => {
  it('src/index.ts holds about 40 values (plus types) and nothing but re-exports', async () => {
    const values = Object.keys(publicApi);
    expect(values.length).toBeGreaterThanOrEqual(30);
    expect(values.length).toBeLessThanOrEqual(50);
    for (const statement of statements(await readFile(`${repo}src/index.ts`, 'utf8'))) {
      expect(statement).toMatch(/^export (type )?\{[^}]*\} from '\.\/[a-z0-9/-]+\.js'$/);
    }
  });

  it('package.json exports "." and one subpath per file of src/entry/, each with its declarations', async () => {
    const pkg = JSON.parse(await readFile(`${repo}package.json`, 'utf8')) as { exports: Record<string, unknown>; files: string[] };
    const entries = (await readdir(`${repo}src/entry`)).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3)).sort();
    expect(Object.keys(pkg.exports).sort()).toEqual(['.', './package.json', ...entries.map((e) => `./${e}`)].sort());
    expect(pkg.exports['.']).toEqual({ types: './dist/index.d.ts', default: './dist/index.js' });
    for (const entry of entries) expect(pkg.exports[`./${entry}`]).toEqual({ types: `./dist/entry/${entry}.d.ts`, default: `./dist/entry/${entry}.js` });
    expect(pkg.files).toContain('dist');
  });

  it('the subpath entries only re-export, and none exposes an internal module', async () => {
    for (const file of await readdir(`${repo}src/entry`)) {
      for (const statement of statements(await readFile(`${repo}src/entry/${file}`, 'utf8'))) {
        expect(statement, file).toMatch(/^export (type )?(\*|\{[^}]*\}) from '\.\.\/[a-z0-9/-]+\.js'$/);
        const from = /from '\.\.\/([a-z0-9/-]+)\.js'$/.exec(statement)?.[1] ?? '';
        for (const internal of INTERNAL) expect(from.startsWith(internal), `${file} re-exports ${from}`).toBe(false);
      }
    }
  });
});
