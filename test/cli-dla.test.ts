/**
 * The CLI on DLA (variant dla) at k = 1/16 on 28×28×1 Fashion-MNIST: train one seed for one step, info,
 * convert to PyTorch (pytorch-cifar names) and back, a linear barrier and an LLPF path to a second
 * (freshly initialized) checkpoint; BN re-estimation on one small batch, to stay a few seconds.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectCliRoundToFresh } from './cli-family.js';
import { useTestBackend } from './helpers.js';
import { runCli } from './run-cli.js';

const CONFIG = { variant: 'dla', width: 0.0625, inputSize: 28, inputChannels: 1 };

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
    await expectCliRoundToFresh('dla', CONFIG, dir, ['layer4.level_1.root.conv.weight', 'layer4.prev_root.shortcut.1.num_batches_tracked']);
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
