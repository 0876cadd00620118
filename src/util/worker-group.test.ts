import { describe, expect, it } from 'vitest';
import { startWorkerGroup, type WorkerGroupOptions } from './worker-group.js';

/**
 * A plain-JS echo worker: replies `{ kind: 'echo', value, index }`; `fail` → an error reply,
 * `throw` → an uncaught exception, `exit` → process exit inside the worker, `hang` → no reply.
 */
const ECHO = `
const { parentPort, workerData } = require('node:worker_threads');
if (workerData.refuse) throw new Error('cannot start ' + workerData.index);
parentPort.on('message', (m) => {
  if (m.op === 'fail') parentPort.postMessage({ kind: 'error', message: 'bad input ' + m.value, stack: undefined });
  else if (m.op === 'throw') throw new Error('thrown in worker');
  else if (m.op === 'exit') process.exit(3);
  else if (m.op === 'hang') {}
  else parentPort.postMessage({ kind: 'echo', value: m.value, index: workerData.index });
});
parentPort.postMessage({ kind: 'ready' });
`;

interface Echo {
  readonly kind: 'echo';
  readonly value: number;
  readonly index: number;
}

const options = (overrides: Partial<WorkerGroupOptions> = {}): WorkerGroupOptions => ({
  workerName: 'test worker',
  poolName: 'test pool',
  count: 2,
  launch: { entry: ECHO, eval: true },
  workerData: (index) => ({ index }),
  closedMessage: 'test pool: closed first',
  ...overrides,
});

describe('startWorkerGroup', () => {
  it('starts N ready workers, each with its own workerData, and matches replies to requests', async () => {
    const group = await startWorkerGroup<Echo>(options({ count: 3 }));
    try {
      const replies = await Promise.all([0, 1, 2].map((w) => group.request(w, { op: 'echo', value: 10 * w })));
      expect(replies).toEqual([0, 1, 2].map((w) => ({ kind: 'echo', value: 10 * w, index: w })));
      // Sequential requests to one worker reuse it.
      expect(await group.request(1, { op: 'echo', value: 7 })).toEqual({ kind: 'echo', value: 7, index: 1 });
    } finally {
      await group.close();
    }
  });

  it('an error reply rejects that request naming the worker, stops the others ("pool stopped") and sticks', async () => {
    const stopped: Error[] = [];
    const group = await startWorkerGroup<Echo>(options({ onFailure: (error) => stopped.push(error) }));
    const hanging = expect(group.request(0, { op: 'hang' })).rejects.toThrow(/^test pool stopped: test worker 2 of 2: bad input 5$/);
    await expect(group.request(1, { op: 'fail', value: 5 })).rejects.toThrow(/^test worker 2 of 2: bad input 5$/);
    await hanging;
    expect(stopped.map((e) => e.message)).toEqual(['test pool stopped: test worker 2 of 2: bad input 5']);
    expect(group.closed).toBe(true);
    await expect(group.request(0, { op: 'echo', value: 1 })).rejects.toThrow(/^test worker 2 of 2: bad input 5$/);
    await group.close();
  });

  it('an uncaught exception and an exit inside a worker are failures that name it', async () => {
    const thrown = await startWorkerGroup<Echo>(options());
    await expect(thrown.request(0, { op: 'throw' })).rejects.toThrow(/^test pool stopped: test worker 1 of 2 failed: thrown in worker/);
    expect(thrown.failure?.message).toMatch(/^test worker 1 of 2 failed: thrown in worker/);
    await thrown.close();
    const exited = await startWorkerGroup<Echo>(options());
    await expect(exited.request(1, { op: 'exit' })).rejects.toThrow(/test worker 2 of 2 exited \(code 3\) while the pool was open/);
    await exited.close();
  });

  it('a worker failing during start-up rejects the start and terminates the rest', async () => {
    await expect(startWorkerGroup<Echo>(options({ workerData: (index) => ({ index, refuse: index === 1 }) }))).rejects.toThrow(/^test worker 2 of 2 failed: cannot start 1/);
  });

  it('close() rejects pending requests with the closed message, and later requests too', async () => {
    const group = await startWorkerGroup<Echo>(options());
    const hanging = expect(group.request(0, { op: 'hang' })).rejects.toThrow(/^test pool: closed first$/);
    await group.close();
    await hanging;
    await expect(group.request(1, { op: 'echo', value: 1 })).rejects.toThrow(/^test pool: closed first$/);
    expect(group.failure).toBeUndefined();
  });

  it('refuses a second request to a busy worker, a bad index and a bad count', async () => {
    const group = await startWorkerGroup<Echo>(options());
    try {
      const first = group.request(0, { op: 'echo', value: 1 });
      await expect(group.request(0, { op: 'echo', value: 2 })).rejects.toThrow(/test worker 1 of 2 already has a request in flight/);
      await expect(group.request(2, { op: 'echo', value: 2 })).rejects.toThrow(/expected a worker index in \[0, 2\), found 2/);
      expect((await first).value).toBe(1);
    } finally {
      await group.close();
    }
    await expect(startWorkerGroup<Echo>(options({ count: 0 }))).rejects.toThrow(/test pool: expected an integer number of workers ≥ 1, found 0/);
  });
});
