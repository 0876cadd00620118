/**
 * End-to-end tests of the analysis commands (barrier, path) on two PyTorch-trained LeNet5 modes
 * (test/fixtures/barriers-lenet5-*.safetensors, made by scripts/make-barrier-fixtures.py).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from './run-cli.js';
import { loadCheckpoint } from '../src/checkpoint/checkpoint.js';
import { disposeTensors } from '../src/models/tensor-map.js';

const A = 'test/fixtures/barriers-lenet5-a.safetensors';
const B = 'test/fixtures/barriers-lenet5-b.safetensors';

const run = (args: string[]): Promise<CliResult> => runCli(args, ['--quiet']);

interface Barrier {
  rows: { t: number; split: string; loss: number; accuracy: number; path: string }[];
  barrier: Record<string, { lossBarrier: number; lossA: number; lossB: number }>;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'modeconn-analysis-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('modeconn barrier / path', () => {
  it('barrier linear between a checkpoint and itself is exactly zero at every t', async () => {
    const { code, stdout } = await run(['barrier', 'linear', A, A, '--points', '3', '--test-examples', '100', '--json']);
    expect(code).toBe(0);
    const out = JSON.parse(stdout) as Barrier;
    expect(out.rows.map((r) => r.t)).toEqual([0, 0.5, 1]);
    expect(new Set(out.rows.map((r) => r.loss)).size).toBe(1);
    expect(out.barrier['test']?.lossBarrier).toBe(0);
  });

  it('barrier linear between two independent modes shows the > 1 nat barrier, rows also as CSV', async () => {
    const csv = join(dir, 'linear.csv');
    const { code, stdout } = await run(['barrier', 'linear', A, B, '--test-examples', '300', '--json', '--csv', csv]);
    expect(code).toBe(0);
    const out = JSON.parse(stdout) as Barrier;
    expect(out.rows).toHaveLength(11);
    expect(out.barrier['test']?.lossBarrier).toBeGreaterThan(1);
    const lines = (await readFile(csv, 'utf8')).trim().split('\n');
    expect(lines[0]).toBe('path,t,split,loss,accuracy');
    expect(lines).toHaveLength(12);
  });

  it('path align: weight matching lowers the linear barrier and writes a permuted checkpoint that computes the same function', async () => {
    const out = join(dir, 'b-aligned.safetensors');
    const { code, stdout } = await run(['path', 'align', A, B, '--out', out, '--points', '5', '--test-examples', '300', '--json']);
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as { barrier: { path: string; split: string; lossBarrier: number }[] };
    const before = result.barrier.find((m) => m.path === 'linear')?.lossBarrier ?? NaN;
    const after = result.barrier.find((m) => m.path === 'linear-aligned')?.lossBarrier ?? NaN;
    expect(after).toBeLessThan(before);
    expect(existsSync(out)).toBe(true);
    const evalB = JSON.parse((await run(['eval', B, '--json'])).stdout) as { loss: number };
    const evalAligned = JSON.parse((await run(['eval', out, '--json'])).stdout) as { loss: number };
    expect(Math.abs(evalAligned.loss - evalB.loss)).toBeLessThan(1e-5);
  });

  it('path average with variance correction rescales the plain average to the endpoints’ mean variance (ε = 1e-4 form)', async () => {
    const out = join(dir, 'average.safetensors');
    const { code, stdout } = await run(['path', 'average', A, B, '--out', out, '--correction', 'follow-others', '--test-examples', '100', '--json']);
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as { factors: Record<string, number> };
    expect(result.factors['fc1.weight']).toBeGreaterThan(1); // independent modes: averaging shrinks the variance
    const variance = (t: Float32Array) => {
      const m = t.reduce((s, v) => s + v, 0) / t.length;
      return t.reduce((s, v) => s + (v - m) ** 2, 0) / (t.length - 1);
    };
    const [a, b, avg] = await Promise.all([loadCheckpoint(A), loadCheckpoint(B), loadCheckpoint(out)]);
    const wa = a.model.params.get('fc1.weight')!.dataSync() as Float32Array;
    const wb = b.model.params.get('fc1.weight')!.dataSync() as Float32Array;
    const plain = wa.map((v, i) => (v + (wb[i] as number)) / 2);
    const target = (variance(wa) + variance(wb)) / 2;
    const eps = 1e-4;
    // Var(w′) = Var(avg)·(target + ε)/(Var(avg) + ε), Tian et al. 2024 (ALGORITHMS §7)
    const expected = (variance(plain) * (target + eps)) / (variance(plain) + eps);
    const got = variance(avg.model.params.get('fc1.weight')!.dataSync() as Float32Array);
    expect(Math.abs(got - expected) / expected).toBeLessThan(1e-4);
    expect(got).toBeGreaterThan(variance(plain) * 1.2);
    disposeTensors(a.model, b.model, avg.model);
  });

  it('bad analysis input fails before computing, naming the problem', async () => {
    const wrong = await run(['barrier', 'linear', A, 'test/fixtures/resnet18-cifar.safetensors', '--json']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/lenet5|resnet18/);
    const kind = await run(['barrier', 'diagonal', A, B]);
    expect(kind.stderr).toMatch(/expected one of linear, layerwise, cumulative, robustness, subspace/);
    const points = await run(['barrier', 'linear', A, B, '--points', '1']);
    expect(points.stderr).toMatch(/--points: expected at least 2/);
  });
});
