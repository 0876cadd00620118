/**
 * End-to-end tests of the modeconn CLI through `main()`: what a user types, what they get.
 * Expected numbers come from PyTorch (test/fixtures, made by scripts/make-pytorch-fixtures.py).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from './run-cli.js';

const FIXTURE = 'test/fixtures/lenet5-pytorch.safetensors';
const expected = JSON.parse(await readFile('test/fixtures/lenet5-pytorch-expected.json', 'utf8')) as { test: { loss: number; accuracy: number; count: number } };
const FULL_FASHION_MNIST = existsSync('/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz');

const run = (args: string[]): Promise<CliResult> => runCli(args, []);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'modeconn-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('modeconn', () => {
  it.runIf(FULL_FASHION_MNIST)('eval on a PyTorch LeNet5 gives PyTorch’s loss and accuracy on the full Fashion-MNIST test set', async () => {
    const { code, stdout } = await run(['eval', FIXTURE, '--arch', 'lenet5', '--dataset', 'fashion-mnist', '--split', 'test', '--json']);
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as { loss: number; accuracy: number; examples: number };
    expect(result.examples).toBe(expected.test.count);
    expect(Math.abs(result.loss - expected.test.loss)).toBeLessThan(1e-4);
    expect(result.accuracy).toBe(expected.test.accuracy);
  });

  it('info lists the architecture, layers and parameter count of a foreign checkpoint', async () => {
    const { code, stdout } = await run(['info', FIXTURE, '--json']);
    expect(code).toBe(0);
    const info = JSON.parse(stdout) as { architecture: string; parameters: number; layers: { name: string }[]; format: string };
    expect(info.architecture).toBe('lenet5');
    expect(info.format).toBe('pytorch');
    expect(info.parameters).toBe(61_706);
    expect(info.layers.map((l) => l.name)).toEqual(['conv1', 'conv2', 'fc1', 'fc2', 'fc3']);
  });

  it('convert PyTorch → native → PyTorch keeps the model’s predictions', async () => {
    const native = join(dir, 'native.safetensors');
    const torch = join(dir, 'torch.safetensors');
    expect((await run(['convert', FIXTURE, native, '--dataset', 'fashion-mnist-small'])).code).toBe(0);
    expect((await run(['convert', native, torch, '--to', 'pytorch'])).code).toBe(0);
    const a = JSON.parse((await run(['eval', FIXTURE, '--json'])).stdout) as { loss: number; accuracy: number };
    const b = JSON.parse((await run(['eval', native, '--json'])).stdout) as { loss: number; accuracy: number };
    const c = JSON.parse((await run(['eval', torch, '--json'])).stdout) as { loss: number; accuracy: number };
    expect(b.loss).toBe(a.loss);
    expect(c.loss).toBe(a.loss);
    expect(b.accuracy).toBe(a.accuracy);
  });

  it('bad input is a clear error naming the option or file, before any computation', async () => {
    const missing = await run(['eval', join(dir, 'nope.safetensors'), '--json']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/nope\.safetensors/);
    const split = await run(['eval', FIXTURE, '--split', 'validation']);
    expect(split.stderr).toMatch(/--split: expected train or test, found "validation"/);
    const arch = await run(['train', '--arch', 'alexnet', '--epochs', '1', '--out', dir]);
    expect(arch.stderr).toMatch(/unknown architecture "alexnet"/);
    const lrScaling = await run(['path', 'llpf', FIXTURE, '--arch', 'lenet5', '--to', 'origin', '--ticks', '2', '--lr-scaling', 'sometimes', '--out', join(dir, 'llpf')]);
    expect(lrScaling.code).toBe(1);
    expect(lrScaling.stderr).toMatch(/--lr-scaling: expected auto, on or off, found "sometimes"/);
    const unknown = await run(['frobnicate']);
    expect(unknown.code).toBe(2);
  });
});
