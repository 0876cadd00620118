/**
 * Adversarial suite, tfjs model.json import: weight-shard paths must stay inside the model's
 * folder (no absolute paths, no `..`, no symlinks leading out), shards must be regular files, and
 * their sizes must fit the manifest before they are read. Reads that could block or grow run in a
 * capped child process (see capped-child.ts). Wiring, shape, truncated-shard, missing-shard and
 * dtype checks are unit tests beside the code (src/checkpoint/tfjs-layers.test.ts).
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, open, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTfjsLayersModel } from '../../src/checkpoint/tfjs-layers.js';
import { prepareCappedReaders, type CappedReaders, type ChildResult } from './capped-child.js';

let dir: string;
let readers: CappedReaders;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'modeconn-adversarial-tfjs-'));
  readers = await prepareCappedReaders();
});
afterAll(async () => {
  await readers.dispose();
  await rm(dir, { recursive: true, force: true });
});

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

function expectCleanRefusal(result: ChildResult, message: RegExp): void {
  expect(result.timedOut, `timed out; stderr: ${result.stderr}`).toBe(false);
  expect(result.code, `stderr: ${result.stderr}`).toBe(2);
  expect(result.report?.error).toMatch(message);
  expect(result.ms).toBeLessThan(10_000);
  expect(result.report?.maxRssMb).toBeLessThan(200);
}

/**
 * A folder `models/<name>/` holding a model.json whose one manifest group lists `paths` for two
 * float32 weights of 2 values each (16 bytes); no topology, so the shards are read before the
 * LeNet5 checks (which then refuse 2 weights: proof that the shard was accepted and read).
 */
async function modelWithShards(name: string, paths: readonly string[]): Promise<{ folder: string; modelJson: string }> {
  const folder = join(dir, 'models', name);
  await mkdir(folder, { recursive: true });
  const modelJson = join(folder, 'model.json');
  await writeFile(modelJson, JSON.stringify({
    format: 'layers-model',
    weightsManifest: [{ paths, weights: [{ name: 'a', shape: [2], dtype: 'float32' }, { name: 'b', shape: [2], dtype: 'float32' }] }],
  }));
  return { folder, modelJson };
}

const SIXTEEN_BYTES = new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer);
const ACCEPTED = /2 weights \(a, b\), but a LeNet5 has 10/;

describe('adversarial: tfjs weight shards', () => {
  it('a shard path is refused when absolute or with a ".." segment, before anything is read', async () => {
    const outside = join(dir, 'outside.bin');
    await writeFile(outside, SIXTEEN_BYTES);
    const absolute = await modelWithShards('absolute', [outside]);
    await expect(loadTfjsLayersModel(absolute.modelJson)).rejects.toThrow(new RegExp(`weightsManifest\\[0\\]\\.paths\\[0\\] "${escape(outside)}" is an absolute path; shard paths must name files inside the model's folder`));
    const dotdot = await modelWithShards('dotdot', ['../../outside.bin']);
    await expect(loadTfjsLayersModel(dotdot.modelJson)).rejects.toThrow(/paths\[0\] "\.\.\/\.\.\/outside\.bin" has a "\.\." segment/);
    const passwd = await modelWithShards('passwd', ['../../../../../../../../etc/passwd']);
    await expect(loadTfjsLayersModel(passwd.modelJson)).rejects.toThrow(/has a "\.\." segment/);
    const windows = await modelWithShards('windows', ['C:\\Windows\\win.ini']);
    await expect(loadTfjsLayersModel(windows.modelJson)).rejects.toThrow(/is an absolute path/);
    const sneaky = await modelWithShards('sneaky', ['sub/..\\..\\outside.bin']);
    await expect(loadTfjsLayersModel(sneaky.modelJson)).rejects.toThrow(/has a "\.\." segment/);
  });

  it('a symlink leading outside the folder is refused; one staying inside is followed', async () => {
    const outside = join(dir, 'outside-2.bin');
    await writeFile(outside, SIXTEEN_BYTES);
    const out = await modelWithShards('link-out', ['shard.bin']);
    await symlink(outside, join(out.folder, 'shard.bin'));
    await expect(loadTfjsLayersModel(out.modelJson)).rejects.toThrow(new RegExp(`paths\\[0\\] "shard\\.bin" leads \\(through a symlink\\) to ${escape(outside)}, outside the folder`));
    const inside = await modelWithShards('link-in', ['shard.bin']);
    await mkdir(join(inside.folder, 'weights'));
    await writeFile(join(inside.folder, 'weights', 'real.bin'), SIXTEEN_BYTES);
    await symlink(join(inside.folder, 'weights', 'real.bin'), join(inside.folder, 'shard.bin'));
    await expect(loadTfjsLayersModel(inside.modelJson)).rejects.toThrow(ACCEPTED);
    const nested = await modelWithShards('nested', ['weights/real.bin']);
    await mkdir(join(nested.folder, 'weights'));
    await writeFile(join(nested.folder, 'weights', 'real.bin'), SIXTEEN_BYTES);
    await expect(loadTfjsLayersModel(nested.modelJson)).rejects.toThrow(ACCEPTED);
  });

  it('shard sizes are checked against the manifest before reading: a 1.5 GB (sparse) shard is refused at once, in 256 MB', async () => {
    const { folder, modelJson } = await modelWithShards('huge', ['group1-shard1of1.bin']);
    const handle = await open(join(folder, 'group1-shard1of1.bin'), 'w');
    await handle.truncate(1_500_000_000);
    await handle.close();
    expectCleanRefusal(await readers.run('tfjs', modelJson), /the shards of weightsManifest\[0\] \(group1-shard1of1\.bin\) hold 1500000000 bytes, but its weights need 16/);
    await rm(join(folder, 'group1-shard1of1.bin'));
  });

  it('a FIFO shard, a /dev/zero symlink, a folder shard and a FIFO model.json are refused without blocking or growing', async () => {
    const fifo = await modelWithShards('fifo', ['group1-shard1of1.bin']);
    execFileSync('mkfifo', [join(fifo.folder, 'group1-shard1of1.bin')]);
    const zero = await modelWithShards('zero', ['group1-shard1of1.bin']);
    await symlink('/dev/zero', join(zero.folder, 'group1-shard1of1.bin'));
    const folderShard = await modelWithShards('folder-shard', ['group1-shard1of1.bin']);
    await mkdir(join(folderShard.folder, 'group1-shard1of1.bin'));
    const pipeJson = join(dir, 'models', 'pipe-model.json');
    execFileSync('mkfifo', [pipeJson]);
    const [fromFifo, fromZero, fromFolder, fromPipeJson] = await Promise.all([
      readers.run('tfjs', fifo.modelJson, { timeoutMs: 15_000 }),
      readers.run('tfjs', zero.modelJson, { timeoutMs: 15_000 }),
      readers.run('tfjs', folderShard.modelJson, { timeoutMs: 15_000 }),
      readers.run('tfjs', pipeJson, { timeoutMs: 15_000 }),
    ]);
    expectCleanRefusal(fromFifo, /paths\[0\] "group1-shard1of1\.bin": is a FIFO \(named pipe\), expected a regular file/);
    expectCleanRefusal(fromZero, /"group1-shard1of1\.bin" leads \(through a symlink\) to \/dev\/zero, outside the folder/);
    expectCleanRefusal(fromFolder, /"group1-shard1of1\.bin": is a folder, expected a regular file/);
    expectCleanRefusal(fromPipeJson, new RegExp(`tfjs model ${escape(pipeJson)}: is a FIFO`));
  });
});
