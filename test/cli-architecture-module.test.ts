/**
 * `modeconn --architecture-module FILE`: a user's architecture module (test/fixtures/
 * cli-architecture-module.ts, `fixture-mlp`) is registered before the command runs, and train,
 * info, barrier (also on worker threads, which import the module themselves) work on it; its
 * missing PyTorch format and bad modules give errors that say what is wrong.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestBackend } from './helpers.js';
import { runCli } from './run-cli.js';

const MODULE = 'test/fixtures/cli-architecture-module.ts';
const run = (args: string[]) => runCli(args, ['--quiet']);

interface Out {
  rows: { t: number; loss: number; split: string }[];
  barrier?: Record<string, { lossBarrier: number }>;
}

let dir: string;
beforeAll(async () => {
  await useTestBackend();
  dir = await mkdtemp(join(tmpdir(), 'modeconn-arch-module-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('--architecture-module', () => {
  it('registers the module’s architecture for train (on 2 gradient workers), info and barrier; worker threads load it too', async () => {
    const unknown = await run(['train', '--arch', 'fixture-mlp', '--epochs', '1', '--out', dir]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/unknown architecture "fixture-mlp"; known architectures: lenet5, resnet18, cct/);

    const trained = await run(['train', '--architecture-module', MODULE, '--arch', 'fixture-mlp', '--seeds', '1,2', '--epochs', '1', '--batch-size', '250', '--lr', '0.1', '--workers', '2', '--out', dir, '--json']);
    expect(trained.code, trained.stderr).toBe(0);
    const a = join(dir, 'seed-1', 'epoch-1.safetensors');
    const b = join(dir, 'seed-2', 'epoch-1.safetensors');
    expect(existsSync(a) && existsSync(b)).toBe(true);

    const info = await run(['info', a, `--architecture-module=${MODULE}`, '--json']);
    expect(info.code, info.stderr).toBe(0);
    const described = JSON.parse(info.stdout) as { architecture: string; config: unknown };
    expect(described.architecture).toBe('fixture-mlp');
    expect(described.config).toEqual({ hidden: 16 });

    const args = ['barrier', 'linear', a, b, '--architecture-module', MODULE, '--points', '3', '--test-examples', '200', '--json'];
    const barrier = await run(args);
    expect(barrier.code, barrier.stderr).toBe(0);
    const rows = (JSON.parse(barrier.stdout) as Out).rows;
    expect(rows.map((r) => r.t)).toEqual([0, 0.5, 1]);
    for (const row of rows) expect(Number.isFinite(row.loss)).toBe(true);
    // Worker threads start without the registration; they import the module themselves and give the same rows.
    const pooled = await run([...args, '--workers', '2']);
    expect(pooled.code, pooled.stderr).toBe(0);
    expect((JSON.parse(pooled.stdout) as Out).rows).toEqual(rows);
  });

  it('an architecture without a PyTorch format, and modules that are missing or export nothing usable, give errors naming them', async () => {
    const a = join(dir, 'seed-1', 'epoch-1.safetensors');
    const convert = await run(['convert', a, join(dir, 'out.safetensors'), '--to', 'pytorch', '--architecture-module', MODULE]);
    expect(convert.code).toBe(1);
    expect(convert.stderr).toMatch(/architecture "fixture-mlp" does not define PyTorch names and layouts \(pytorch\); PyTorch state dicts are supported for lenet5, resnet18, cct/);

    const missing = await run(['info', a, '--architecture-module', 'test/fixtures/no-such-module.ts']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/architecture module test\/fixtures\/no-such-module\.ts: not found/);

    const noExport = await run(['info', a, '--architecture-module', 'test/fixtures/chart-rows.ts']);
    expect(noExport.code).toBe(1);
    expect(noExport.stderr).toMatch(/architecture module test\/fixtures\/chart-rows\.ts: expected a default export or an export named "architecture" holding the architecture, found exports /);
  });
});
