/**
 * The CLI round of a model family at a tiny width: train, `info`, `convert` to PyTorch and back,
 * `barrier linear` between two modes and an LLPF `path` (rows on stdout). `expectCliRound` trains
 * two seeds (test/cli-shufflenetv2.test.ts, test/cli-regnet.test.ts); `expectCliRoundToFresh`
 * trains one seed for one step and goes to a freshly initialized second model
 * (test/cli-efficientnet.test.ts, test/cli-dla.test.ts). The steps they share are exported for the
 * tests that run the round differently (test/cli-vgg-mobilenetv2.test.ts).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { saveCheckpoint } from '../src/checkpoint/checkpoint.js';
import { readSafetensors } from '../src/checkpoint/safetensors.js';
import { createModel } from '../src/models/registry.js';
import { disposeTensors } from '../src/models/tensor-map.js';
import { runCli } from './run-cli.js';

/** `runCli` with `--quiet`; with DEBUG_CLI set, prints each command's seconds and exit code (to see where a test's time goes). */
export async function runQuiet(args: string[]): ReturnType<typeof runCli> {
  const t0 = performance.now();
  const r = await runCli(args, ['--quiet']);
  if (process.env.DEBUG_CLI) console.info(`${((performance.now() - t0) / 1000).toFixed(2)} s ${args.slice(0, 2).join(' ')} → ${r.code} ${r.stderr.slice(0, 300)}`);
  return r;
}

export interface Rows {
  readonly rows: { t: number; loss: number; accuracy: number }[];
}

/** `info --json` of `file` names `architecture` and a config containing `config`; returns what it printed. */
export async function expectDescribed(file: string, architecture: string, config: Readonly<Record<string, unknown>>): Promise<{ architecture: string; config: Record<string, unknown>; layers: unknown[] }> {
  const info = await runQuiet(['info', file, '--json']);
  expect(info.code, info.stderr).toBe(0);
  const described = JSON.parse(info.stdout) as { architecture: string; config: Record<string, unknown>; layers: unknown[] };
  expect(described.architecture).toBe(architecture);
  expect(described.config).toMatchObject(config);
  return described;
}

/** `barrier linear a b` with three points succeeds with finite losses at t = 0, 0.5, 1; returns its rows. */
export async function expectLinearBarrier(a: string, b: string, args: readonly string[]): Promise<Rows['rows']> {
  const barrier = await runQuiet(['barrier', 'linear', a, b, '--points', '3', ...args]);
  expect(barrier.code, barrier.stderr).toBe(0);
  const rows = (JSON.parse(barrier.stdout) as Rows).rows;
  expect(rows.map((r) => r.t)).toEqual([0, 0.5, 1]);
  for (const row of rows) expect(Number.isFinite(row.loss)).toBe(true);
  return rows;
}

export async function expectCliRound(architecture: string, config: Readonly<Record<string, unknown>>, dir: string): Promise<void> {
  const trained = await runQuiet([
    'train', '--arch', architecture, '--config', JSON.stringify(config), '--pad-to', '32', '--channels', '3',
    '--seeds', '1,2', '--epochs', '1', '--batch-size', '16', '--train-examples', '16', '--test-examples', '10', '--workers', '1', '--out', dir, '--json',
  ]);
  expect(trained.code, trained.stderr).toBe(0);
  const a = join(dir, 'seed-1', 'epoch-1.safetensors');
  const b = join(dir, 'seed-2', 'epoch-1.safetensors');
  expect(existsSync(a) && existsSync(b)).toBe(true);

  const described = await expectDescribed(a, architecture, config);

  // To PyTorch and back: detected from the names, config inferred from the shapes, same tensors.
  const torch = join(dir, 'a-pytorch.safetensors');
  const back = join(dir, 'a-back.safetensors');
  const toTorch = await runQuiet(['convert', a, torch, '--to', 'pytorch']);
  expect(toTorch.code, toTorch.stderr).toBe(0);
  const fromTorch = await runQuiet(['convert', torch, back, '--dataset', 'fashion-mnist-small', '--pad-to', '32', '--channels', '3']);
  expect(fromTorch.code, fromTorch.stderr).toBe(0);
  const backInfo = JSON.parse((await runQuiet(['info', back, '--json'])).stdout) as { architecture: string; config: Record<string, unknown> };
  expect(backInfo.architecture).toBe(architecture);
  expect(backInfo.config).toEqual(described.config);

  // BN re-estimation on one batch of the 16-image training subset.
  const common = ['--train-examples', '16', '--test-examples', '10', '--bn-batches', '1', '--workers', '1', '--json'];
  const rows = await expectLinearBarrier(a, b, common);
  // The converted-back checkpoint is the same model: the same losses.
  const same = JSON.parse((await runQuiet(['barrier', 'linear', back, b, '--points', '3', ...common])).stdout) as Rows;
  expect(same.rows.map((r) => r.loss)).toEqual(rows.map((r) => r.loss));

  const path = await runQuiet(['path', 'llpf', a, '--to', `model:${b}`, '--ticks', '4', '--record-every', '2', '--no-train', '--step-adaptive', '0.2', '--out', join(dir, 'llpf'), '--points', '3', ...common]);
  expect(path.code, path.stderr).toBe(0);
  const evaluated = (JSON.parse(path.stdout) as Partial<Rows>).rows ?? [];
  expect(evaluated.length).toBeGreaterThan(0);
  for (const row of evaluated) expect(Number.isFinite(row.loss)).toBe(true);
}

/**
 * The round on 28×28×1 Fashion-MNIST: train one seed for one step of 8 images, info, convert to
 * PyTorch (the file holds `pytorchNames`) and back bit for bit, a linear barrier and an LLPF path
 * to a second, freshly initialized checkpoint; BN re-estimation on one small batch.
 */
export async function expectCliRoundToFresh(architecture: string, config: Readonly<Record<string, unknown>>, dir: string, pytorchNames: readonly string[]): Promise<void> {
  const train = await runQuiet(['train', '--arch', architecture, '--config', JSON.stringify(config), '--dataset', 'fashion-mnist-small', '--seeds', '1', '--epochs', '1', '--train-examples', '8', '--test-examples', '10', '--batch-size', '8', '--workers', '1', '--out', dir, '--json']);
  expect(train.code, train.stderr).toBe(0);
  const a = join(dir, 'seed-1', 'epoch-1.safetensors');
  expect(existsSync(a)).toBe(true);
  const b = join(dir, 'b.safetensors');
  const other = createModel(architecture, config, 2);
  await saveCheckpoint(b, other, { dataset: 'fashion-mnist-small', preprocessing: { normalize: 'unit' } });
  disposeTensors(other);

  await expectDescribed(a, architecture, config);

  const torch = join(dir, 'a-pytorch.safetensors');
  const convert = await runQuiet(['convert', a, torch, '--to', 'pytorch']);
  expect(convert.code, convert.stderr).toBe(0);
  const names = [...(await readSafetensors(torch)).tensors.keys()];
  for (const name of pytorchNames) expect(names).toContain(name);
  const back = join(dir, 'a-back.safetensors');
  const convertBack = await runQuiet(['convert', torch, back, '--config', JSON.stringify({ inputSize: 28 }), '--dataset', 'fashion-mnist-small']);
  expect(convertBack.code, convertBack.stderr).toBe(0);
  // The round trip gives back every tensor bit for bit.
  const original = (await readSafetensors(a)).tensors;
  const roundTrip = (await readSafetensors(back)).tensors;
  expect([...roundTrip.keys()].sort()).toEqual([...original.keys()].sort());
  for (const [name, t] of original) expect(Array.from(roundTrip.get(name)?.data ?? []), name).toEqual(Array.from(t.data));

  await expectLinearBarrier(a, b, ['--test-examples', '20', '--bn-batches', '1', '--json']);

  const path = await runQuiet(['path', 'llpf', a, '--to', `model:${b}`, '--ticks', '2', '--no-train', '--step-adaptive', '0.2', '--workers', '1', '--out', join(dir, 'llpf'), '--points', '3', '--test-examples', '20', '--bn-batches', '1', '--json']);
  expect(path.code, path.stderr).toBe(0);
}
