import { describe, expect, it } from 'vitest';
import { errorReply } from './worker-serve.js';
import { startWorkerGroup, workerLaunch } from './worker-group.js';

/** A group of workers running test/fixtures/serve-worker-echo.ts (through tsx, as the pools start theirs). */
const start = (workerData: (index: number) => unknown) =>
  startWorkerGroup<{ kind: 'echo'; id: number; value: number }>({
    workerName: 'echo worker',
    poolName: 'echo pool',
    count: 2,
    launch: workerLaunch('serve-worker-echo', new URL('../../test/fixtures/pool.ts', import.meta.url).href),
    workerData,
    closedMessage: 'echo pool: closed',
  });

describe('serveWorker (the worker side of a worker group)', () => {
  it('posts ready after set-up and one reply per request, from its own workerData', async () => {
    const group = await start((index) => ({ scale: index + 2 }));
    try {
      expect(await Promise.all([group.request(0, { id: 1, value: 5 }), group.request(1, { id: 2, value: 5 })])).toEqual([
        { kind: 'echo', id: 1, value: 10 },
        { kind: 'echo', id: 2, value: 15 },
      ]);
    } finally {
      await group.close();
    }
  });

  it('a request that throws becomes an error reply: the parent names the worker and the message', async () => {
    const group = await start(() => ({ scale: 1 }));
    await expect(group.request(1, { id: 3, value: -1 })).rejects.toThrow(/^echo worker 2 of 2: negative value -1$/);
    await group.close();
  });

  it('a failed set-up rejects the start with its message', async () => {
    await expect(start((index) => ({ scale: 1, failSetUp: index === 0 }))).rejects.toThrow(/^echo worker 1 of 2: set-up refused$/);
  });

  it('errorReply keeps the message and stack of an Error and stringifies anything else', () => {
    const error = new Error('boom');
    expect(errorReply(4, error)).toEqual({ kind: 'error', id: 4, message: 'boom', stack: error.stack });
    expect(errorReply(undefined, 'plain')).toMatchObject({ kind: 'error', id: undefined, message: 'plain' });
  });
});
