/** The CLI on RegNet at a tiny width (RegNetX-200MF, k = 1/8): train, info, convert both ways, barrier, path. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { expectCliRound } from './cli-family.js';
import { useTestBackend } from './helpers.js';

let dir: string;
beforeAll(async () => {
  await useTestBackend();
  dir = await mkdtemp(join(tmpdir(), 'modeconn-regnet-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('CLI on regnet', () => {
  it('train --arch regnet (x200mf), info, convert to PyTorch and back, barrier linear, path llpf', async () => {
    await expectCliRound('regnet', { variant: 'x200mf', width: 0.125 }, dir);
  }, 120_000);
});
