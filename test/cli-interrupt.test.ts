/**
 * Ctrl-C during `modeconn barrier …` and `modeconn surface …` (src/cli/interrupt.ts): SIGINT
 * while the grid's workers evaluate stops it at the next point, the command exits 130 with one
 * line saying nothing was written, writes no output file, terminates its workers and stops
 * listening for SIGINT. And `--workers` defaults to auto (one per core) in both, as elsewhere.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { withWorkerTracking } from './grid-cancellation.js';
import { runCli, type CliResult } from './run-cli.js';

const A = 'test/fixtures/barriers-lenet5-a.safetensors';
const B = 'test/fixtures/barriers-lenet5-b.safetensors';
const run = (args: string[]): Promise<CliResult> => runCli(args, ['--quiet']);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'modeconn-interrupt-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs the CLI and emits SIGINT right after the first point is sent to a worker (the grid has started). */
async function interruptedOnceEvaluating(args: string[]): Promise<{ result: CliResult; workers: Worker[] }> {
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called with the worker as `this` below
  const post = Worker.prototype.postMessage;
  let sent = false;
  const spy = vi.spyOn(Worker.prototype, 'postMessage').mockImplementation(function (this: Worker, ...message: Parameters<Worker['postMessage']>) {
    if (!sent) {
      sent = true;
      setImmediate(() => process.emit('SIGINT'));
    }
    post.apply(this, message);
  });
  try {
    const tracked = await withWorkerTracking(() => run(args));
    if (tracked.result.status === 'rejected') throw tracked.result.reason;
    expect(sent, 'a point was sent to a worker').toBe(true);
    return { result: tracked.result.value, workers: tracked.workers };
  } finally {
    spy.mockRestore();
  }
}

describe('Ctrl-C during a grid command', () => {
  for (const [name, args] of [
    ['barrier layerwise', ['barrier', 'layerwise', A, B, '--points', '11', '--test-examples', '60', '--workers', '2']],
    ['surface', ['surface', A, '--random', '1', '--points', '15', '--test-examples', '60', '--workers', '2']],
  ] as const) {
    it(`${name}: exits 130, says nothing was written, writes no --csv, and its workers have exited`, async () => {
      const csv = join(dir, `${name.replace(' ', '-')}.csv`);
      const listeners = process.listenerCount('SIGINT');
      const { result, workers } = await interruptedOnceEvaluating([...args, '--csv', csv]);
      expect(result.code, result.stderr).toBe(130);
      expect(result.stderr).toContain(`${name}: interrupted; nothing was written`);
      expect(result.stdout).toBe('');
      expect(existsSync(csv)).toBe(false);
      expect(workers).toHaveLength(2);
      for (const worker of workers) expect(worker.threadId).toBe(-1);
      expect(process.listenerCount('SIGINT')).toBe(listeners);
    });
  }
});

describe('--workers defaults to auto in barrier and surface', () => {
  // auto: one worker per core on wasm, never more than points; one core means no threads at all.
  const expected = (points: number): number => (Math.min(availableParallelism(), points) > 1 ? Math.min(availableParallelism(), points) : 0);

  it('barrier linear without --workers starts one worker per core, with the rows of --workers 1', async () => {
    const args = ['barrier', 'linear', A, B, '--points', '3', '--test-examples', '60', '--json'];
    const tracked = await withWorkerTracking(() => run(args));
    if (tracked.result.status === 'rejected') throw tracked.result.reason;
    expect(tracked.result.value.code, tracked.result.value.stderr).toBe(0);
    expect(tracked.workers).toHaveLength(expected(3));
    const single = await run([...args, '--workers', '1']);
    expect(JSON.parse(tracked.result.value.stdout)).toEqual(JSON.parse(single.stdout));
  });

  it('surface without --workers starts one worker per core', async () => {
    const tracked = await withWorkerTracking(() => run(['surface', A, '--random', '1', '--points', '3', '--test-examples', '60', '--json']));
    if (tracked.result.status === 'rejected') throw tracked.result.reason;
    expect(tracked.result.value.code, tracked.result.value.stderr).toBe(0);
    expect(tracked.workers).toHaveLength(expected(3));
  });
});
