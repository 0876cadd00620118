/**
 * The CLI round of a model family at a tiny width: train two seeds for one short epoch, `info`,
 * `convert` to PyTorch and back, `barrier linear` between the two modes and an LLPF `path` with
 * its evaluation (rows on stdout). Shared by test/cli-shufflenetv2.test.ts and test/cli-regnet.test.ts.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { runCli } from './run-cli.js';

const run = (args: string[]) => runCli(args, ['--quiet']);

interface Rows {
  readonly rows: { t: number; loss: number; accuracy: number }[];
}

export async function expectCliRound(architecture: string, config: Readonly<Record<string, unknown>>, dir: string): Promise<void> {
  const trained = await run([
    'train', '--arch', architecture, '--config', JSON.stringify(config), '--pad-to', '32', '--channels', '3',
    '--seeds', '1,2', '--epochs', '1', '--batch-size', '16', '--train-examples', '16', '--test-examples', '10', '--workers', '1', '--out', dir, '--json',
  ]);
  expect(trained.code, trained.stderr).toBe(0);
  const a = join(dir, 'seed-1', 'epoch-1.safetensors');
  const b = join(dir, 'seed-2', 'epoch-1.safetensors');
  expect(existsSync(a) && existsSync(b)).toBe(true);

  const info = await run(['info', a, '--json']);
  expect(info.code, info.stderr).toBe(0);
  const described = JSON.parse(info.stdout) as { architecture: string; config: Record<string, unknown> };
  expect(described.architecture).toBe(architecture);
  expect(described.config).toMatchObject(config);

  // To PyTorch and back: detected from the names, config inferred from the shapes, same tensors.
  const torch = join(dir, 'a-pytorch.safetensors');
  const back = join(dir, 'a-back.safetensors');
  const toTorch = await run(['convert', a, torch, '--to', 'pytorch']);
  expect(toTorch.code, toTorch.stderr).toBe(0);
  const fromTorch = await run(['convert', torch, back, '--dataset', 'fashion-mnist-small', '--pad-to', '32', '--channels', '3']);
  expect(fromTorch.code, fromTorch.stderr).toBe(0);
  const backInfo = JSON.parse((await run(['info', back, '--json'])).stdout) as { architecture: string; config: Record<string, unknown> };
  expect(backInfo.architecture).toBe(architecture);
  expect(backInfo.config).toEqual(described.config);

  // BN re-estimation on one batch of the 16-image training subset.
  const common = ['--points', '3', '--train-examples', '16', '--test-examples', '10', '--bn-batches', '1', '--workers', '1', '--json'];
  const barrier = await run(['barrier', 'linear', a, b, ...common]);
  expect(barrier.code, barrier.stderr).toBe(0);
  const rows = (JSON.parse(barrier.stdout) as Rows).rows;
  expect(rows.map((r) => r.t)).toEqual([0, 0.5, 1]);
  for (const row of rows) expect(Number.isFinite(row.loss)).toBe(true);
  // The converted-back checkpoint is the same model: the same losses.
  const same = JSON.parse((await run(['barrier', 'linear', back, b, ...common])).stdout) as Rows;
  expect(same.rows.map((r) => r.loss)).toEqual(rows.map((r) => r.loss));

  const path = await run(['path', 'llpf', a, '--to', `model:${b}`, '--ticks', '4', '--record-every', '2', '--no-train', '--step-adaptive', '0.2', '--out', join(dir, 'llpf'), ...common]);
  expect(path.code, path.stderr).toBe(0);
  const evaluated = (JSON.parse(path.stdout) as Partial<Rows>).rows ?? [];
  expect(evaluated.length).toBeGreaterThan(0);
  for (const row of evaluated) expect(Number.isFinite(row.loss)).toBe(true);
}
