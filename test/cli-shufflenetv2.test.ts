/** The CLI on ShuffleNetV2 at a tiny width (netSize 0.5, k = 1/8): train, info, convert both ways, barrier, path. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { expectCliRound } from './cli-family.js';
import { useTestBackend } from './helpers.js';

let dir: string;
beforeAll(async () => {
  await useTestBackend();
  dir = await mkdtemp(join(tmpdir(), 'modeconn-shufflenetv2-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('CLI on shufflenetv2', () => {
  it('train --arch shufflenetv2, info, convert to PyTorch and back, barrier linear, path llpf', async () => {
    await expectCliRound('shufflenetv2', { netSize: 0.5, width: 0.125 }, dir);
  }, 120_000);
});
