/**
 * One CLI vocabulary: global options anywhere, one flag name per concept (old names refused with
 * the new one), did-you-mean for every command, per-subcommand help whose defaults are the code's,
 * argument checks before the backend starts, tables and units, train's log without a terminal.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { saveCheckpoint } from '../src/checkpoint/checkpoint.js';
import { COMMANDS } from '../src/cli/commands/index.js';
import { commandHelp, main } from '../src/cli/main.js';
import { createModel } from '../src/models/registry.js';
import { disposeTensors } from '../src/models/tensor-map.js';
import { useTestBackend } from './helpers.js';
import { runCli, type CliResult } from './run-cli.js';

const A = 'test/fixtures/barriers-lenet5-a.safetensors';
const B = 'test/fixtures/barriers-lenet5-b.safetensors';
const quiet = (args: string[]): Promise<CliResult> => runCli(args, ['--quiet']);

/** `main(argv)` exactly as given (no options appended), output captured. */
async function mainAsTyped(argv: string[]): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  try {
    const code = await main(argv);
    return { code, stdout: out.join('\n'), stderr: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

let dir: string;
let resnet: string;
beforeAll(async () => {
  await useTestBackend();
  dir = await mkdtemp(join(tmpdir(), 'modeconn-vocabulary-'));
  resnet = join(dir, 'resnet.safetensors');
  const model = createModel('resnet18', { width: 1 / 16 }, 1);
  await saveCheckpoint(resnet, model, { dataset: 'fashion-mnist-small', preprocessing: { normalize: 'unit', padTo: 32, channels: 3 } });
  disposeTensors(model);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('global options', () => {
  it('work before the command as after it', async () => {
    const before = await mainAsTyped(['--backend', 'wasm', '--quiet', 'info', A, '--json']);
    const after = await mainAsTyped(['info', A, '--json', '--quiet', '--backend', 'wasm']);
    expect(before.code, before.stderr).toBe(0);
    expect(before.stdout).toBe(after.stdout);
    expect((JSON.parse(before.stdout) as { architecture: string }).architecture).toBe('lenet5');
    expect(before.stderr).toBe('');
    const bad = await mainAsTyped(['--backend', 'nope', 'info', A]);
    expect(bad.code).toBe(1);
    expect(bad.stderr.split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/^modeconn info: --backend: unknown backend "nope"/);
  });
});

describe('renamed flags', () => {
  // Never written: every case fails at its arguments.
  const out = (): string => join(tmpdir(), `modeconn-never-${Math.random().toString(36).slice(2)}`);
  const cases: [string, string[], RegExp][] = [
    ['--epochs-a', ['barrier', 'layerwise', A, B, '--epochs-a', A, '--checkpoints-b', B], /--epochs-a was renamed --checkpoints-a/],
    ['--epochs-b', ['barrier', 'layerwise', A, B, '--checkpoints-a', A, '--epochs-b', B], /--epochs-b was renamed --checkpoints-b/],
    ['--test-subset', ['simulate', '--out', out(), '--test-subset', '10'], /--test-subset was renamed --test-examples/],
    ['--eval-examples', ['path', 'neb', A, B, '--out', out(), '--eval-examples', '32'], /--eval-examples was renamed --train-examples/],
    ['--resume (llpf)', ['path', 'llpf', A, '--to', `model:${B}`, '--ticks', '2', '--out', out(), '--resume'], /resuming is the default.*--no-resume starts over/],
    ['--resume (simulate)', ['simulate', '--out', out(), '--resume'], /resuming is the default.*--no-resume starts over/],
    ['--bn-reset (eval)', ['eval', A, '--bn-reset'], /re-estimated by default.*--no-bn-reset/],
  ];
  for (const [old, args, message] of cases) {
    it(`${old}: refused before the backend starts, naming the new flag`, async () => {
      const result = await runCli(args);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/backend/);
    });
  }

  it('eval re-estimates BatchNorm statistics by default like barrier (same BN batches, same subset: the same loss) and --no-bn-reset keeps the stored ones', async () => {
    const common = ['--test-examples', '40', '--bn-batches', '2', '--json'];
    const evalReset = JSON.parse((await quiet(['eval', resnet, ...common])).stdout) as { loss: number; examples: number };
    const evalStored = JSON.parse((await quiet(['eval', resnet, ...common, '--no-bn-reset'])).stdout) as { loss: number };
    const barrierReset = JSON.parse((await quiet(['barrier', 'linear', resnet, resnet, '--points', '2', ...common])).stdout) as { rows: { loss: number }[] };
    const barrierStored = JSON.parse((await quiet(['barrier', 'linear', resnet, resnet, '--points', '2', ...common, '--no-bn-reset'])).stdout) as { rows: { loss: number }[] };
    expect(evalReset.examples).toBe(40);
    expect(evalReset.loss).toBeCloseTo(barrierReset.rows[0]?.loss ?? NaN, 5);
    expect(evalStored.loss).toBeCloseTo(barrierStored.rows[0]?.loss ?? NaN, 5);
    // A freshly initialized ResNet's stored statistics (mean 0, variance 1) are not the data's.
    expect(Math.abs(evalReset.loss - evalStored.loss)).toBeGreaterThan(1e-3);
  });

  it('path llpf resumes by default and --no-resume starts over', async () => {
    const folder = join(dir, 'llpf');
    const common = ['--ticks', '2', '--record-every', '1', '--segment-points', '0', '--no-train', '--test-examples', '20', '--points', '2', '--out', folder, '--json'];
    expect((await quiet(['path', 'llpf', A, '--to', `model:${B}`, ...common])).code).toBe(0);
    const other = await quiet(['path', 'llpf', A, '--to', `model:${B}`, ...common, '--step-adaptive', '0.01']);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/--step-adaptive: recorded 0\.001, given 0\.01.*use --no-resume/);
    const over = await quiet(['path', 'llpf', A, '--to', `model:${B}`, ...common, '--step-adaptive', '0.01', '--no-resume']);
    expect(over.code, over.stderr).toBe(0);
  });
});

describe('mistyped options', () => {
  /** A flag of the help with two neighbouring letters swapped: `--points` → `--pionts`. */
  const typoOf = (flag: string): string => `${flag.slice(0, 1)}${flag[2]}${flag[1]}${flag.slice(3)}`;
  for (const [name, command] of Object.entries(COMMANDS)) {
    for (const sub of command.subcommands === undefined ? [undefined] : Object.keys(command.subcommands)) {
      const title = sub === undefined ? name : `${name} ${sub}`;
      it(`${title}: "unknown option --… (did you mean --…?)"`, async () => {
        const flags = [...commandHelp(name, command, sub).matchAll(/^ {2,4}--([a-z][a-z-]{3,})/gm)].map((m) => m[1] as string);
        const flag = flags.find((f) => f[1] !== f[2]); // a swap that changes the word
        expect(flag, `${title} documents an option`).toBeDefined();
        const typo = typoOf(flag as string);
        const result = await runCli([name, ...(sub === undefined ? [] : [sub]), `--${typo}`, 'x']);
        expect(result.code).toBe(1);
        expect(result.stderr).toBe(`modeconn ${name}: unknown option --${typo} (did you mean --${flag}?)`);
      });
    }
  }
});

describe('help and defaults', () => {
  it('modeconn barrier linear --help prints the subcommand’s help, not the command’s', async () => {
    const { code, stdout } = await mainAsTyped(['barrier', 'linear', '--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^usage: modeconn barrier linear /);
    expect(stdout).not.toMatch(/--samples/);
    const path = await mainAsTyped(['path', 'curve', A, B, '--help']);
    expect(path.stdout).toMatch(/^usage: modeconn path curve /);
    expect(path.stdout).not.toMatch(/--ticks/);
  });

  it('barrier linear without --points evaluates the t grid its help names as the default; text and JSON give the same error barrier (a fraction)', async () => {
    const help = (await mainAsTyped(['barrier', 'linear', '--help'])).stdout;
    const shown = Number(/--points N .*\(default (\d+)/.exec(help)?.[1]);
    const json = JSON.parse((await quiet(['barrier', 'linear', A, B, '--test-examples', '50', '--json'])).stdout) as { rows: { t: number }[]; barrier: Record<string, { errorBarrier: number }> };
    expect(json.rows).toHaveLength(shown);
    expect(json.rows.map((r) => r.t)).toEqual(Array.from({ length: shown }, (_, i) => i / (shown - 1)));
    const text = (await quiet(['barrier', 'linear', A, B, '--test-examples', '50'])).stdout;
    const errorBarrier = json.barrier['test']?.errorBarrier ?? NaN;
    expect(errorBarrier).toBeGreaterThan(0);
    expect(errorBarrier).toBeLessThan(1);
    expect(text).toContain(`error barrier ${errorBarrier.toFixed(4)}`);
    expect(text).not.toMatch(/%/);
  });

  it('text tables print integer columns as integers', async () => {
    const text = (await quiet(['barrier', 'layerwise', A, B, '--layers', 'fc3', '--points', '3', '--test-examples', '50'])).stdout.split('\n');
    const header = (text[0] ?? '').split('\t');
    const row = (text[1] ?? '').split('\t');
    expect(row[header.indexOf('layerIndex')]).toMatch(/^\d+$/);
    expect(row[header.indexOf('t')]).toBe('0.0000');
    expect(row[header.indexOf('loss')]).toMatch(/^\d+\.\d{4}$/);
  });
});

describe('argument checks come before the backend', () => {
  const bad: [string, string[]][] = [
    ['barrier linear --points 1', ['barrier', 'linear', A, B, '--points', '1']],
    ['barrier subspace without --checkpoints', ['barrier', 'subspace', A, B]],
    ['path curve --lr abc', ['path', 'curve', A, B, '--epochs', '1', '--out', join(tmpdir(), 'never.safetensors'), '--lr', 'abc']],
    ['eval --config {bad', ['eval', A, '--config', '{bad']],
    ['path llpf --workers x', ['path', 'llpf', A, '--to', `model:${B}`, '--ticks', '2', '--out', join(tmpdir(), 'never'), '--workers', 'x']],
    ['simulate --workers 0', ['simulate', '--out', join(tmpdir(), 'never'), '--workers', '0']],
    ['train --epochs 0', ['train', '--arch', 'lenet5', '--epochs', '0', '--out', join(tmpdir(), 'never')]],
  ];
  for (const [what, args] of bad) {
    it(`${what}: one error line, no backend report`, async () => {
      const result = await runCli(args);
      expect(result.code).toBe(1);
      expect(result.stderr.split('\n')).toHaveLength(1);
      expect(result.stderr).not.toMatch(/backend/);
    });
  }
});

describe('train without a terminal', () => {
  it('logs one line per epoch on stderr with the loss and accuracy that metrics.json records', async () => {
    const out = join(dir, 'train');
    const result = await runCli(['train', '--arch', 'lenet5', '--epochs', '2', '--batch-size', '32', '--train-examples', '64', '--test-examples', '30', '--workers', '1', '--out', out]);
    expect(result.code, result.stderr).toBe(0);
    const metrics = JSON.parse(await readFile(join(out, 'seed-1', 'metrics.json'), 'utf8')) as { epoch: number; trainLoss: number; trainAccuracy: number; testLoss: number; testAccuracy: number }[];
    const lines = result.stderr.split('\n').filter((l) => l.startsWith('seed 1 epoch'));
    expect(lines).toHaveLength(2);
    for (const [i, m] of metrics.entries()) {
      expect(lines[i]).toMatch(new RegExp(`^seed 1 epoch ${m.epoch}/2: train loss ${m.trainLoss.toFixed(4)} accuracy ${(100 * m.trainAccuracy).toFixed(2)}%, test loss ${m.testLoss.toFixed(4)} accuracy ${(100 * m.testAccuracy).toFixed(2)}% \\(`));
    }
    const again = await runCli(['train', '--arch', 'lenet5', '--epochs', '2', '--batch-size', '32', '--train-examples', '64', '--test-examples', '30', '--workers', '1', '--out', join(dir, 'train-quiet'), '--quiet']);
    expect(again.stderr).toBe('');
  });
});

describe('simulate', () => {
  it('--test-examples sets the test images per node, and a rerun continues the run (resume is the default) unless --no-resume', async () => {
    const out = join(dir, 'simulate');
    const args = ['simulate', '--nodes', '3', '--topology', 'ring', '--samples-per-node', '40', '--record-every', '5', '--test-examples', '20', '--workers', '1', '--out', out, '--json'];
    const first = await quiet([...args, '--ticks', '10']);
    expect(first.code, first.stderr).toBe(0);
    const rows = JSON.parse(await readFile(join(out, 'rows.json'), 'utf8')) as { runs: { config: { testSubset: number } }[]; ticks: { tick: number }[] };
    expect(rows.runs[0]?.config.testSubset).toBe(20);
    const continued = await quiet([...args, '--ticks', '20']);
    expect(continued.code, continued.stderr).toBe(0);
    const longer = JSON.parse(await readFile(join(out, 'rows.json'), 'utf8')) as { ticks: { tick: number }[] };
    // The continued run keeps the first run's records and adds the new ones.
    expect(longer.ticks.slice(0, rows.ticks.length)).toEqual(rows.ticks);
    expect(Math.max(...longer.ticks.map((t) => t.tick))).toBe(20);
    // Another config on the saved state: an error naming the flag, both values and --no-resume.
    const other = await quiet([...args, '--ticks', '20', '--seed', '7']);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/cannot resume: .*state\.safetensors was saved by a run with another config \(--seed: recorded 1, given 7\); to start over, use --no-resume or delete /);
    const over = await quiet([...args, '--ticks', '5', '--no-resume']);
    expect(over.code, over.stderr).toBe(0);
    const fresh = JSON.parse(await readFile(join(out, 'rows.json'), 'utf8')) as { ticks: { tick: number }[] };
    expect(Math.max(...fresh.ticks.map((t) => t.tick))).toBe(5);
  });
});
