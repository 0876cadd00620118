/**
 * Adversarial CLI cases (issue 13): what a careful user or an attacker types, and the exit code,
 * message and files they must get. Small data throughout (the embedded dataset with subsets, a few
 * ticks); cases that could exhaust memory run in a child process with a capped heap.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadCheckpoint, saveCheckpoint } from '../../src/checkpoint/checkpoint.js';
import { main } from '../../src/cli/main.js';
import { disposeTensors } from '../../src/models/tensor-map.js';
import { useTestBackend } from '../helpers.js';
import { runCli, type CliResult } from '../run-cli.js';

const A = 'test/fixtures/barriers-lenet5-a.safetensors';
const B = 'test/fixtures/barriers-lenet5-b.safetensors';
const run = (args: string[]): Promise<CliResult> => runCli(args, ['--quiet']);

interface ChildResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * `modeconn ...args` in a child process (heap capped at `heapMb`); `whileRunning` gets the child
 * to signal it or to close its stdout.
 */
function spawnCli(args: readonly string[], options: { heapMb?: number; whileRunning?: (child: ReturnType<typeof spawn>) => void } = {}): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [`--max-old-space-size=${options.heapMb ?? 512}`, 'bin/modeconn.js', ...args, '--backend', 'wasm', '--quiet'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, MODECONN_DEBUG: '' },
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (d: Buffer) => out.push(d));
    child.stdout?.on('error', () => undefined);
    child.stderr?.on('data', (d: Buffer) => err.push(d));
    // A child that hangs must not outlive the test.
    const guard = setTimeout(() => child.kill('SIGKILL'), 100_000);
    child.on('error', reject);
    child.on('close', () => clearTimeout(guard));
    child.on('close', (code, signal) => resolve({ code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
    options.whileRunning?.(child);
  });
}

/** Resolves once `path` exists (polling), or rejects after `ms`. */
async function waitFor(path: string, ms = 60_000): Promise<void> {
  const until = Date.now() + ms;
  while (!existsSync(path)) {
    if (Date.now() > until) throw new Error(`${path} did not appear within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let dir: string;
/** Native copies of the fixtures that say which dataset they were trained on. */
let fashionA: string;
let mnistB: string;
let standardizedB: string;
let badPreprocessing: string;
beforeAll(async () => {
  await useTestBackend();
  dir = await mkdtemp(join(tmpdir(), 'modeconn-adversarial-cli-'));
  const a = await loadCheckpoint(A);
  const b = await loadCheckpoint(B);
  fashionA = join(dir, 'a-fashion.safetensors');
  mnistB = join(dir, 'b-mnist.safetensors');
  standardizedB = join(dir, 'b-standardized.safetensors');
  badPreprocessing = join(dir, 'bad-preprocessing.safetensors');
  await saveCheckpoint(fashionA, a.model, { dataset: 'fashion-mnist-small', preprocessing: { normalize: 'unit' } });
  await saveCheckpoint(mnistB, b.model, { dataset: 'mnist', preprocessing: { normalize: 'unit' } });
  await saveCheckpoint(standardizedB, b.model, { dataset: 'fashion-mnist-small', preprocessing: { normalize: 'standardize', mean: [0.28], std: [0.35] } });
  await saveCheckpoint(badPreprocessing, a.model, { dataset: 'fashion-mnist-small', preprocessing: { normalize: 'sometimes' } });
  disposeTensors(a.model, b.model);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('wrong results or exit codes', () => {
  it('1. path average (the README form) exits 0 with a summary of the average next to its inputs, whose numbers match barrier linear’s endpoints', async () => {
    const out = join(dir, 'avg.safetensors');
    const text = await run(['path', 'average', A, B, '--correction', 'follow-others', '--out', out, '--test-examples', '100']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/average of 2 models \(correction follow-others\)/);
    expect(text.stdout).not.toMatch(/barrier/);
    expect(existsSync(out)).toBe(true);
    const json = await run(['path', 'average', A, B, '--correction', 'follow-others', '--out', out, '--test-examples', '100', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const result = JSON.parse(json.stdout) as { rows: { model: string; role: string; split: string; loss: number; accuracy: number }[]; factors: Record<string, number> };
    expect(result.rows.map((r) => r.role)).toEqual(['input', 'input', 'average']);
    // Independent check: the endpoints of the line A→B (exact copies of A and B) and the average file itself.
    const line = JSON.parse((await run(['barrier', 'linear', A, B, '--points', '2', '--test-examples', '100', '--json'])).stdout) as { rows: { t: number; loss: number; accuracy: number }[] };
    expect(result.rows[0]?.loss).toBe(line.rows[0]?.loss);
    expect(result.rows[1]?.loss).toBe(line.rows[1]?.loss);
    const self = JSON.parse((await run(['barrier', 'linear', out, out, '--points', '2', '--test-examples', '100', '--json'])).stdout) as { rows: { loss: number; accuracy: number }[] };
    expect(result.rows[2]?.loss).toBe(self.rows[0]?.loss);
    expect(result.rows[2]?.accuracy).toBe(self.rows[0]?.accuracy);
    expect(Object.keys(result.factors).length).toBeGreaterThan(0);
    for (const f of Object.values(result.factors)) expect(f).toBeGreaterThanOrEqual(1); // averaging never raises a variance; the correction undoes the shrinking
  });

  it('2. path llpf interrupted by SIGINT says so and exits 130 (no summary as if finished)', async () => {
    const out = join(dir, 'llpf-sigint');
    const result = await spawnCli(
      ['path', 'llpf', A, '--to', `model:${B}`, '--ticks', '100000', '--record-every', '1', '--segment-points', '0', '--no-train', '--test-examples', '20', '--out', out],
      {
        whileRunning: (child) => {
          void waitFor(join(out, 'llpf-point-1.safetensors')).then(
            () => child.kill('SIGINT'),
            () => child.kill('SIGKILL'),
          );
        },
      },
    );
    expect(result.code, result.stderr).toBe(130);
    expect(result.stderr).toMatch(/interrupted.*run the same command again to continue it/);
    expect(result.stdout).not.toMatch(/barrier/);
    expect(existsSync(join(out, 'llpf-state.safetensors'))).toBe(true);
  });

  it('3. barrier linear between checkpoints of different datasets is an error naming both files, unless --dataset names one', async () => {
    const refused = await run(['barrier', 'linear', fashionA, mnistB, '--points', '2', '--test-examples', '50']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(fashionA);
    expect(refused.stderr).toContain(mnistB);
    expect(refused.stderr).toMatch(/dataset fashion-mnist-small.*dataset mnist|mnist.*fashion-mnist-small/);
    expect(refused.stderr).toMatch(/--dataset/);
    const named = await run(['barrier', 'linear', fashionA, mnistB, '--points', '2', '--test-examples', '50', '--dataset', 'fashion-mnist-small', '--json']);
    expect(named.code, named.stderr).toBe(0);
    const preprocessing = await run(['barrier', 'linear', fashionA, standardizedB, '--points', '2', '--test-examples', '50']);
    expect(preprocessing.code).toBe(1);
    expect(preprocessing.stderr).toContain(standardizedB);
    expect(preprocessing.stderr).toMatch(/normalize: unit vs standardize/);
  });
});

describe('resume that trusts too much', () => {
  const train = (out: string, extra: string[] = []): string[] => [
    'train', '--arch', 'lenet5', '--seeds', '5', '--epochs', '2', '--batch-size', '32', '--train-examples', '96', '--test-examples', '40', '--out', out, ...extra,
  ];

  it('4, 7. train resumed with another recipe or on a corrupt metrics.json: an error naming the flags/file and --no-resume', async () => {
    const out = join(dir, 'train-recipe');
    const first = await run(train(out));
    expect(first.code, first.stderr).toBe(0);
    for (const [flags, message] of [
      [['--lr', '0.0005'], /--lr: recorded 0\.05, given 0\.0005/],
      [['--optimizer', 'adam'], /--optimizer\/--momentum\/--weight-decay: recorded/],
      [['--batch-size', '16'], /--batch-size: recorded 32, given 16/],
      [['--epochs', '3'], /--epochs: recorded 2, given 3/],
    ] as const) {
      // (the last of a repeated flag wins, so appending overrides the ones above)
      const again = await run(train(out, [...flags]));
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(message);
      expect(again.stderr).toMatch(/--no-resume/);
      expect(again.stderr).toContain(join(out, 'seed-5'));
    }
    await writeFile(join(out, 'seed-5', 'metrics.json'), '{"epoch": ');
    const corrupt = await run(train(out));
    expect(corrupt.code).toBe(1);
    expect(corrupt.stderr).toMatch(new RegExp(`${join(out, 'seed-5', 'metrics.json')} is not valid JSON .*--no-resume or delete`));
    expect(corrupt.stderr).not.toMatch(/^Expected/m);
    expect((await run(train(out, ['--no-resume']))).code).toBe(0);
  });

  it('5. path llpf rerun (resume is the default) on a folder of another start or target is refused, naming what differs and --no-resume', async () => {
    const out = join(dir, 'llpf-resume');
    const common = ['--ticks', '2', '--record-every', '1', '--segment-points', '0', '--no-train', '--test-examples', '20', '--points', '2', '--out', out, '--json'];
    const first = await run(['path', 'llpf', A, '--to', `model:${B}`, ...common]);
    expect(first.code, first.stderr).toBe(0);
    const otherStart = await run(['path', 'llpf', B, '--to', `model:${A}`, ...common]);
    expect(otherStart.code).toBe(1);
    expect(otherStart.stderr).toMatch(/start checkpoint.*recorded.*given/);
    expect(otherStart.stderr).toMatch(/--to: recorded/);
    expect(otherStart.stderr).toMatch(/to start over, use --no-resume/);
    const otherStep = await run(['path', 'llpf', A, '--to', `model:${B}`, ...common, '--step-adaptive', '0.01']);
    expect(otherStep.code).toBe(1);
    expect(otherStep.stderr).toMatch(/--step-adaptive: recorded 0\.001, given 0\.01/);
    const same = await run(['path', 'llpf', A, '--to', `model:${B}`, ...common, '--ticks', '3']);
    expect(same.code, same.stderr).toBe(0);
  });

  it('6. an interrupted train --seeds 5,6 skips the finished seed 5 on rerun and resumes seed 6', async () => {
    const out = join(dir, 'multi-seed');
    const args = ['train', '--arch', 'lenet5', '--seeds', '5,6', '--epochs', '2', '--batch-size', '32', '--train-examples', '96', '--test-examples', '40', '--out', out];
    // Ctrl-C once seed 6 has finished its first epoch (the CLI listens for SIGINT while it trains).
    const poll = setInterval(() => {
      if (existsSync(join(out, 'seed-6', 'train-state.safetensors'))) {
        clearInterval(poll);
        process.emit('SIGINT');
      }
    }, 5);
    const first = await run(args);
    clearInterval(poll);
    expect(first.code, first.stderr).toBe(130);
    const seed5 = await stat(join(out, 'seed-5', 'epoch-2.safetensors'));
    const metrics5 = await readFile(join(out, 'seed-5', 'metrics.json'), 'utf8');
    const seed6epoch1 = await stat(join(out, 'seed-6', 'epoch-1.safetensors'));
    const again = await run(args);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/seed 5: already finished/);
    expect(again.stdout).toMatch(/seed 6: epoch 2/);
    expect((await stat(join(out, 'seed-5', 'epoch-2.safetensors'))).mtimeMs).toBe(seed5.mtimeMs);
    expect(await readFile(join(out, 'seed-5', 'metrics.json'), 'utf8')).toBe(metrics5);
    // Seed 6 went on from its epoch 1 instead of starting over.
    expect((await stat(join(out, 'seed-6', 'epoch-1.safetensors'))).mtimeMs).toBe(seed6epoch1.mtimeMs);
    expect(existsSync(join(out, 'seed-6', 'epoch-2.safetensors'))).toBe(true);
  });
});

describe('files and paths', () => {
  it('11. every output path is checked before any computation: missing or file-blocked folders, folders where a file goes', async () => {
    const blocker = join(dir, 'a-file');
    await writeFile(blocker, 'x');
    const folder = join(dir, 'a-folder');
    await mkdir(folder, { recursive: true });
    const cases: [string[], RegExp][] = [
      [['path', 'curve', A, B, '--epochs', '1', '--train-examples', '64', '--out', join(blocker, 'c.safetensors')], /--out: cannot write .*a-file\/c\.safetensors: .*a-file is a file, not a folder/],
      [['path', 'neb', A, B, '--out', folder], /--out: .*a-folder is a folder; expected a file path/],
      [['path', 'align', A, B, '--out', join(blocker, 'x', 'b.safetensors')], /--out: cannot write .*: .*a-file is a file, not a folder/],
      [['path', 'average', A, B, '--out', folder], /--out: .*a-folder is a folder; expected a file path/],
      [['path', 'llpf', A, '--to', 'origin', '--ticks', '1', '--out', blocker], /--out: .*a-file is a file; expected a folder/],
      [['barrier', 'linear', A, B, '--csv', folder], /--csv: .*a-folder is a folder; expected a file path/],
      [['path', 'average', A, B, '--out', join(dir, 'ok.safetensors'), '--csv', join(blocker, 'rows.csv')], /--csv: cannot write/],
      [['train', '--arch', 'lenet5', '--epochs', '1', '--out', blocker], /--out: .*a-file is a file; expected a folder/],
      [['convert', A, folder], /OUTPUT: .*a-folder is a folder; expected a file path/],
    ];
    for (const [args, message] of cases) {
      const started = Date.now();
      const result = await run(args);
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr, args.join(' ')).toMatch(message);
      expect(Date.now() - started, `${args.join(' ')} failed fast`).toBeLessThan(5000);
    }
    expect(existsSync(join(dir, 'ok.safetensors'))).toBe(false);
    // A missing folder below a writable one is created, as the writers would.
    const nested = join(dir, 'new', 'deeper', 'avg.safetensors');
    expect((await run(['path', 'average', A, B, '--out', nested, '--test-examples', '20'])).code).toBe(0);
    expect(existsSync(nested)).toBe(true);
  });
});

describe('bad options', () => {
  it('14. bad global options are one-line errors with exit 1, like every other option', async () => {
    const cases: [string[], RegExp][] = [
      [['info', A, '--backend', 'tpu'], /^modeconn info: --backend: unknown backend "tpu"; expected one of/],
      [['info', A, '--threads', '0'], /^modeconn info: --threads: expected a positive integer, found "0"$/],
      [['info', A, '--backend'], /^modeconn info: --backend needs a value$/],
      [['info', A, '--backend', '--json'], /^modeconn info: --backend needs a value$/],
    ];
    for (const [argv, message] of cases) {
      const err: string[] = [];
      const spy = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
      const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
      try {
        expect(await main(argv), argv.join(' ')).toBe(1);
      } finally {
        spy.mockRestore();
        log.mockRestore();
      }
      expect(err, argv.join(' ')).toHaveLength(1);
      expect(err[0], argv.join(' ')).toMatch(message);
    }
  });

  it('15. grid sizes beyond what memory allows are refused before starting, saying the bound and why (heap capped at 256 MB)', async () => {
    const result = await spawnCli(['barrier', 'linear', A, B, '--points', '1e9', '--test-examples', '10'], { heapMb: 256 });
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/--points: at most 10000 .*found 1000000000/);
    for (const args of [
      ['path', 'curve', A, B, '--epochs', '1', '--out', join(dir, 'c.safetensors'), '--points', '20000'],
      ['barrier', 'robustness', A, B, '--samples', '1e7'],
      ['barrier', 'robustness', A, B, '--samples', '1000', '--points', '5000'],
      ['simulate', '--nodes', '1e9', '--ticks', '10', '--out', join(dir, 'sim')],
      ['path', 'curve', A, B, '--epochs', '1', '--bends', '1e6', '--out', join(dir, 'c.safetensors')],
    ]) {
      const bounded = await run(args);
      expect(bounded.code, args.join(' ')).toBe(1);
      expect(bounded.stderr, args.join(' ')).toMatch(/at most/);
    }
  });

  it('16. a stdout closed early (modeconn info A | head -1) ends the process quietly with status 0', async () => {
    const result = await spawnCli(['info', A], { whileRunning: (child) => child.stdout?.destroy() });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it('17. info validates the metadata before printing anything; --data-dir with the embedded dataset is refused', async () => {
    const info = await run(['info', badPreprocessing]);
    expect(info.code).toBe(1);
    expect(info.stdout).toBe('');
    expect(info.stderr).toMatch(/preprocessing\.normalize: expected unit or standardize, found "sometimes"/);
    for (const args of [
      ['eval', A, '--data-dir', dir],
      ['barrier', 'linear', A, B, '--data-dir', dir],
      ['train', '--arch', 'lenet5', '--epochs', '1', '--out', join(dir, 'never'), '--data-dir', dir],
    ]) {
      const result = await run(args);
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr, args.join(' ')).toMatch(/--data-dir: fashion-mnist-small is embedded in the package and reads no files/);
    }
    expect(existsSync(join(dir, 'never'))).toBe(false);
  });
});
