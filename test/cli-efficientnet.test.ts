/**
 * The CLI on EfficientNet-B0 at k = 0.1 on 28×28×1 Fashion-MNIST: train one seed for one step, info,
 * convert to PyTorch (pytorch-cifar names) and back, a linear barrier and an LLPF path to a second
 * (freshly initialized) checkpoint; BN re-estimation on one small batch, to stay a few seconds.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { expectCliRoundToFresh } from './cli-family.js';
import { useTestBackend } from './helpers.js';

const CONFIG = { width: 0.1, inputSize: 28, inputChannels: 1 };

let dir: string;
beforeAll(async () => {
  await useTestBackend();
  dir = await mkdtemp(join(tmpdir(), 'modeconn-efficientnet-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('modeconn on efficientnet-b0', () => {
  it('train, info, convert both ways, barrier linear and path llpf', async () => {
    await expectCliRoundToFresh('efficientnet-b0', CONFIG, dir, ['layers.15.se.se2.weight', 'layers.0.bn1.num_batches_tracked']);
  });
});
