/**
 * Adversarial suite, writers: every file writer of the package goes through `writeFileAtomic`
 * (src/util/atomic-write.ts, whose own tests cover the protocol). Here each public writer is
 * attacked the way issue 13 found: a symlink planted at the old predictable temporary name
 * `<out>.<pid>.tmp`, or at the output itself, must not make it write into another file; a folder as
 * output (`--csv DIR`) and a failure leave no temporary file behind.
 */
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors, writeSafetensors } from '../../src/checkpoint/safetensors.js';
import { saveChart } from '../../src/charts/render.js';
import { writeHtmlReport } from '../../src/charts/report.js';
import { writeTextAtomic } from '../../src/cli/output.js';
import { readIdx, writeIdx } from '../../src/data/idx.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'modeconn-adversarial-writers-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const POINT_SPEC: TopLevelSpec = { data: { values: [{ x: 1 }] }, mark: 'point' };

/** The writers, each given an output path; `check` reads back what was written. */
const WRITERS: readonly { name: string; file: string; write: (path: string) => Promise<unknown>; check: (path: string) => Promise<void> }[] = [
  {
    name: 'writeSafetensors (checkpoints, train state, curves, NEB chains, LLPF points)',
    file: 'model.safetensors',
    write: (path) => writeSafetensors(path, new Map([['w', { shape: [2], data: [1, 2] }]])),
    check: async (path) => expect(Array.from((await readSafetensors(path)).tensors.get('w')?.data ?? [])).toEqual([1, 2]),
  },
  {
    name: 'writeTextAtomic (CSV and JSON rows of the CLI)',
    file: 'rows.csv',
    write: (path) => writeTextAtomic(path, 'a,b\n1,2\n'),
    check: async (path) => expect(await readFile(path, 'utf8')).toBe('a,b\n1,2\n'),
  },
  {
    name: 'writeIdx (data subsets)',
    file: 'labels-idx1-ubyte.gz',
    write: (path) => writeIdx(path, Uint8Array.from([3, 1, 4]), [3]),
    check: async (path) => expect(Array.from((await readIdx(path)).data)).toEqual([3, 1, 4]),
  },
  {
    name: 'saveChart (Vega-Lite spec; SVG and PNG take the same path)',
    file: 'chart.vl.json',
    write: (path) => saveChart(POINT_SPEC, path.replace(/\.vl\.json$/, ''), { formats: ['json'] }),
    check: async (path) => expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ mark: 'point' }),
  },
  {
    name: 'writeHtmlReport',
    file: 'report.html',
    write: (path) => writeHtmlReport(path, { title: 'adversarial', sections: [{ heading: 'one', text: 'text' }] }),
    check: async (path) => expect(await readFile(path, 'utf8')).toContain('adversarial'),
  },
];

describe('adversarial: writers', () => {
  for (const writer of WRITERS) {
    it(`${writer.name}: a symlink at <out>.<pid>.tmp or at <out> is not written through; no temporary file is left`, async () => {
      const folder = join(dir, writer.file.replace(/\W/g, '-'));
      await mkdir(folder);
      const victim = join(folder, 'victim.txt');
      await writeFile(victim, 'precious');
      const out = join(folder, writer.file);
      const legacyTemp = `${out}.${process.pid}.tmp`;
      await symlink(victim, legacyTemp);
      await writer.write(out);
      await writer.check(out);
      expect(await readFile(victim, 'utf8')).toBe('precious');
      await rm(legacyTemp);

      // The output itself a symlink: replaced by the new file, its target untouched.
      await rm(out);
      await symlink(victim, out);
      await writer.write(out);
      expect((await lstat(out)).isSymbolicLink()).toBe(false);
      await writer.check(out);
      expect(await readFile(victim, 'utf8')).toBe('precious');
      expect((await readdir(folder)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    });
  }

  it('an existing folder as output (`--csv DIR`) is an error naming it, and leaves no <dir>.<pid>.tmp or other temporary file', async () => {
    const folder = join(dir, 'csv-onto-folder');
    await mkdir(join(folder, 'out.csv'), { recursive: true });
    await expect(writeTextAtomic(join(folder, 'out.csv'), 'a\n1\n')).rejects.toThrow(/cannot write .*out\.csv: it is a folder/);
    await expect(writeSafetensors(join(folder, 'out.csv'), new Map())).rejects.toThrow(/cannot write .*out\.csv: it is a folder/);
    expect(await readdir(folder)).toEqual(['out.csv']);
  });
});
