/**
 * The CLI on DLA (variant dla) at k = 1/16 on 28×28×1 Fashion-MNIST: train one seed for one step, info,
 * convert to PyTorch (pytorch-cifar names) and back, a linear barrier and an LLPF path to a second
 * (freshly initialized) checkpoint; BN re-estimation on one small batch, to stay a few seconds.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveCheckpoint } from '../src/checkpoint/checkpoint.js';
import { readSafetensors } from '../src/checkpoint/safetensors.js';
import { createModel } from '../src/models/registry.js';
import { disposeTensors } from '../src/models/tensor-map.js';
import { useTestBackend } from './helpers.js';
import { runCli } from './run-cli.js';

const run = (args: string[]) => runCli(args, ['--quiet']);
const CONFIG = { variant: 'dla', width: 0.0625, inputSize: 28, inputChannels: 1 };

interface Out {
  rows: { t: number; loss: number }[];
}

let dir: string;
beforeAll(async () => {
  await useTestBackend();
  dir = await mkdtemp(join(tmpdir(), 'modeconn-dla-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('modeconn on dla', () => {
  it('train, info, convert both ways, barrier linear and path llpf', async () => {
    const train = await run(['train', '--arch', 'dla', '--config', JSON.stringify(CONFIG), '--dataset', 'fashion-mnist-small', '--seeds', '1', '--epochs', '1', '--train-examples', '8', '--test-examples', '10', '--batch-size', '8', '--workers', '1', '--out', dir, '--json']);
    expect(train.code, train.stderr).toBe(0);
    const a = join(dir, 'seed-1', 'epoch-1.safetensors');
    expect(existsSync(a)).toBe(true);
    const b = join(dir, 'b.safetensors');
    const other = createModel('dla', CONFIG, 2);
    await saveCheckpoint(b, other, { dataset: 'fashion-mnist-small', preprocessing: { normalize: 'unit' } });
    disposeTensors(other);

    const info = await run(['info', a, '--json']);
    expect(info.code, info.stderr).toBe(0);
    const described = JSON.parse(info.stdout) as { architecture: string; config: Record<string, unknown> };
    expect(described.architecture).toBe('dla');
    expect(described.config).toMatchObject(CONFIG);

    const torch = join(dir, 'a-pytorch.safetensors');
    const convert = await run(['convert', a, torch, '--to', 'pytorch']);
    expect(convert.code, convert.stderr).toBe(0);
    const names = [...(await readSafetensors(torch)).tensors.keys()];
    expect(names).toContain('layer4.level_1.root.conv.weight');
    expect(names).toContain('layer4.prev_root.shortcut.1.num_batches_tracked');
    const back = join(dir, 'a-back.safetensors');
    const convertBack = await run(['convert', torch, back, '--config', JSON.stringify({ inputSize: 28 }), '--dataset', 'fashion-mnist-small']);
    expect(convertBack.code, convertBack.stderr).toBe(0);
    // The round trip gives back every tensor bit for bit.
    const original = (await readSafetensors(a)).tensors;
    const roundTrip = (await readSafetensors(back)).tensors;
    expect([...roundTrip.keys()].sort()).toEqual([...original.keys()].sort());
    for (const [name, t] of original) expect(Array.from(roundTrip.get(name)?.data ?? []), name).toEqual(Array.from(t.data));

    const barrier = await run(['barrier', 'linear', a, b, '--points', '3', '--test-examples', '20', '--bn-batches', '1', '--json']);
    expect(barrier.code, barrier.stderr).toBe(0);
    const rows = (JSON.parse(barrier.stdout) as Out).rows;
    expect(rows.map((r) => r.t)).toEqual([0, 0.5, 1]);
    for (const row of rows) expect(Number.isFinite(row.loss)).toBe(true);

    const path = await run(['path', 'llpf', a, '--to', `model:${b}`, '--ticks', '2', '--no-train', '--step-adaptive', '0.2', '--workers', '1', '--out', join(dir, 'llpf'), '--points', '3', '--test-examples', '20', '--bn-batches', '1', '--json']);
    expect(path.code, path.stderr).toBe(0);
  });

  it('train --help lists the registered architectures with their config fields', async () => {
    const help = await runCli(['train', '--help']);
    expect(help.code, help.stderr).toBe(0);
    const text = `${help.stdout}\n${help.stderr}`;
    expect(text).toMatch(/dla +\{"variant":"dla","width":1,"inputChannels":3,"inputSize":32,"classes":10\}/);
    expect(text).toMatch(/efficientnet-b0 +\{"width":1,"inputChannels":3,"inputSize":32,"classes":10,"dropoutRate":0.2,"dropConnectRate":0,"dropSeed":0\}/);
    expect(text).toMatch(/resnet18 +\{"width":1,"inputChannels":3,"inputSize":32,"classes":10\}/);
  });
});
