/**
 * The CLI on ShuffleNet v1 at a tiny width (g = 1 as DFL_torch's, scale factor 0.2: stage widths
 * 28, 56, 112) on 28×28×1 Fashion-MNIST: train one step, info, convert both ways, barrier, path to
 * a fresh second model (`expectCliRoundToFresh`: stage2 runs at the full input size, as DFL_torch's
 * stem does not downsample, so the two-seed 32×32×3 round costs minutes on a loaded machine); and
 * `train --help`, `convert --help` from the registry. Grouped units (g > 1) are covered by the g = 3
 * fixture in src/models/shufflenet/; on wasm they cost about 10× the CPU time of g = 1 here.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectCliRoundToFresh, runQuiet } from './cli-family.js';
import { useTestBackend } from './helpers.js';

let dir: string;
beforeAll(async () => {
  await useTestBackend();
  dir = await mkdtemp(join(tmpdir(), 'modeconn-shufflenet-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('CLI on shufflenet', () => {
  it('train --arch shufflenet, info, convert to PyTorch and back, barrier linear, path llpf', async () => {
    await expectCliRoundToFresh('shufflenet', { groups: 1, scaleFactor: 0.2, inputChannels: 1, inputSize: 28 }, join(dir, 'round'), ['stage3.0.dwconv.weight', 'stage4.3.bn2.num_batches_tracked', 'fc.bias']);
  }, 180_000);

  it('train --help lists shufflenet with its config fields (from the registry)', async () => {
    const help = await runQuiet(['train', '--help']);
    expect(help.code, help.stderr).toBe(0);
    expect(`${help.stdout}\n${help.stderr}`).toMatch(/shufflenet +\{"groups":1,"scaleFactor":1,"inputChannels":3,"inputSize":32,"classes":10\}/);
  });

  it('convert --help says which architectures --naming applies to; an unknown naming is refused naming them', async () => {
    const help = await runQuiet(['convert', '--help']);
    expect(help.code, help.stderr).toBe(0);
    const text = `${help.stdout}\n${help.stderr}`;
    expect(text).toMatch(/--naming N +PyTorch names when writing, for the architectures with several namings\s+\(resnet18: torchvision \(default\) \| pytorch-cifar\); the other architectures have one naming/);
    const bad = await runQuiet(['convert', join(dir, 'missing.safetensors'), join(dir, 'out.safetensors'), '--to', 'pytorch', '--naming', 'dfl']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--naming: expected one of torchvision, pytorch-cifar \(resnet18: torchvision \(default\) \| pytorch-cifar\), found "dfl"/);
  });
});
