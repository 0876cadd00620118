/**
 * The analysis CLI on every architecture (ResNet18 with BatchNorm re-estimation, CCT with
 * LayerNorm) and on saved paths (LLPF run folders), with checkpoints made by the toolkit.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveCheckpoint } from '../src/checkpoint/checkpoint.js';
import { createModel } from '../src/models/registry.js';
import { disposeTensors } from '../src/models/tensor-map.js';
import { useTestBackend } from './helpers.js';
import { runCli } from './run-cli.js';

const A = 'test/fixtures/barriers-lenet5-a.safetensors';
const B = 'test/fixtures/barriers-lenet5-b.safetensors';
const run = (args: string[]) => runCli(args, ['--quiet']);

interface Out {
  rows: { t: number; loss: number; accuracy: number; epoch?: number; layer?: string }[];
  barrier?: Record<string, { lossBarrier: number }>;
}

let dir: string;
const files: Record<string, string> = {};
beforeAll(async () => {
  await useTestBackend();
  dir = await mkdtemp(join(tmpdir(), 'modeconn-arch-'));
  const info = { dataset: 'fashion-mnist-small', preprocessing: { normalize: 'unit', padTo: 32, channels: 3 } } as const;
  for (const [name, arch, config] of [
    ['resnet-1', 'resnet18', { width: 1 / 16 }],
    ['resnet-2', 'resnet18', { width: 1 / 16 }],
    ['cct-1', 'cct', { preset: 'cct_tiny' }],
    ['cct-2', 'cct', { preset: 'cct_tiny' }],
  ] as const) {
    const model = createModel(arch, config, name.endsWith('1') ? 1 : 2);
    files[name] = join(dir, `${name}.safetensors`);
    await saveCheckpoint(files[name], model, info);
    disposeTensors(model);
  }
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('analyses on every architecture', () => {
  for (const family of ['resnet', 'cct']) {
    it(`${family}: barrier linear is zero between a checkpoint and itself (BN statistics re-estimated the same way at every t) and finite between two`, async () => {
      const same = await run(['barrier', 'linear', files[`${family}-1`]!, files[`${family}-1`]!, '--points', '3', '--test-examples', '60', '--bn-batches', '2', '--json']);
      expect(same.code, same.stderr).toBe(0);
      const s = JSON.parse(same.stdout) as Out;
      expect(s.barrier?.['test']?.lossBarrier).toBe(0);
      const two = await run(['barrier', 'linear', files[`${family}-1`]!, files[`${family}-2`]!, '--points', '3', '--test-examples', '60', '--bn-batches', '2', '--json']);
      expect(two.code, two.stderr).toBe(0);
      const t = JSON.parse(two.stdout) as Out;
      expect(t.rows).toHaveLength(3);
      for (const row of t.rows) expect(Number.isFinite(row.loss)).toBe(true);
    });
  }

  it('an LLPF run folder evaluates as a path whose t = 0 is the start checkpoint', async () => {
    const out = join(dir, 'llpf');
    const llpf = await run(['path', 'llpf', A, '--to', `model:${B}`, '--ticks', '4', '--record-every', '2', '--no-train', '--step-adaptive', '0.2', '--out', out, '--points', '3', '--test-examples', '50', '--json']);
    expect(llpf.code, llpf.stderr).toBe(0);
    const viaPath = JSON.parse((await run(['barrier', 'linear', '--path', out, A, '--points', '3', '--test-examples', '50', '--json'])).stdout) as Out;
    const start = JSON.parse((await run(['barrier', 'linear', A, A, '--points', '2', '--test-examples', '50', '--json'])).stdout) as Out;
    expect(viaPath.rows).toHaveLength(3);
    expect(viaPath.rows[0]?.loss).toBe(start.rows[0]?.loss);
    expect(viaPath.rows[2]?.loss).not.toBe(start.rows[0]?.loss);
  });

  it('layer-wise barriers per epoch label rows with the epoch of each checkpoint pair', async () => {
    const { code, stdout, stderr } = await run(['barrier', 'layerwise', A, B, '--checkpoints-a', `${A},${A}`, '--checkpoints-b', `${B},${B}`, '--layers', 'fc3', '--points', '3', '--test-examples', '50', '--json']);
    expect(code, stderr).toBe(0);
    const rows = (JSON.parse(stdout) as Out).rows;
    expect(new Set(rows.map((r) => r.epoch))).toEqual(new Set([0, 1]));
    expect(new Set(rows.map((r) => r.layer))).toEqual(new Set(['fc3']));
    const lossAt = (epoch: number) => rows.filter((r) => r.epoch === epoch).map((r) => r.loss);
    expect(lossAt(0)).toEqual(lossAt(1));
  });
});
