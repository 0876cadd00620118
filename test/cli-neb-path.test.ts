/**
 * `modeconn path neb` writes the AutoNEB chain as a file that `modeconn barrier linear --path`
 * evaluates later, on the PyTorch-trained LeNet5 modes of test/fixtures.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSafetensorsHeader } from '../src/checkpoint/safetensors.js';
import { runCli } from './run-cli.js';

const A = 'test/fixtures/barriers-lenet5-a.safetensors';
const B = 'test/fixtures/barriers-lenet5-b.safetensors';
const run = (args: string[]) => runCli(args, ['--quiet']);

interface Out {
  rows: { path: string; t: number; split: string; loss: number; accuracy: number }[];
  cycles?: { cycle: number; pivots: number }[];
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'modeconn-neb-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('modeconn path neb --out chain.safetensors', () => {
  it('saves the chain; barrier linear --path evaluates it, with the endpoints’ losses at t = 0 and t = 1', async () => {
    const chain = join(dir, 'chain.safetensors');
    const csv = join(dir, 'neb.csv');
    const common = ['--test-examples', '50', '--json'];
    const neb = await run(['path', 'neb', A, B, '--cycles', '2x2@0.01', '--train-examples', '32', '--batch-size', '16', '--points', '3', '--out', chain, '--csv', csv, ...common]);
    expect(neb.code, neb.stderr).toBe(0);
    const made = JSON.parse(neb.stdout) as Out;
    expect(made.cycles?.map((c) => c.cycle)).toEqual([0, 1]);
    expect(made.rows.map((r) => r.t)).toEqual([0, 0.5, 1]);
    const lines = (await readFile(csv, 'utf8')).trim().split('\n');
    expect(lines[0]).toBe('path,t,split,loss,accuracy');
    expect(lines).toHaveLength(4);
    const { metadata } = await readSafetensorsHeader(chain);
    expect(metadata).toMatchObject({ format: 'modeconn-path', version: '1', method: 'autoneb' });
    expect((JSON.parse(metadata.states ?? '[]') as string[]).length).toBe(made.cycles?.at(-1)?.pivots);
    expect((JSON.parse(metadata.info ?? '{}') as { cycles?: unknown }).cycles).toEqual(made.cycles);

    const viaPath = await run(['barrier', 'linear', '--path', chain, A, '--points', '3', ...common]);
    expect(viaPath.code, viaPath.stderr).toBe(0);
    const evaluated = JSON.parse(viaPath.stdout) as Out;
    const line = JSON.parse((await run(['barrier', 'linear', A, B, '--points', '2', ...common])).stdout) as Out;
    expect(evaluated.rows.map((r) => r.path)).toEqual(['autoneb', 'autoneb', 'autoneb']);
    // t = 0 and t = 1 are exactly θ_A and θ_B, evaluated by the same code as the line's ends.
    expect(evaluated.rows[0]?.loss).toBe(line.rows[0]?.loss);
    expect(evaluated.rows[2]?.loss).toBe(line.rows[1]?.loss);
    expect(evaluated.rows[0]?.loss).not.toBe(evaluated.rows[2]?.loss);
    // The saved chain evaluates to what path neb reported when it made it.
    expect(evaluated.rows.map((r) => r.loss)).toEqual(made.rows.map((r) => r.loss));
  });
});
