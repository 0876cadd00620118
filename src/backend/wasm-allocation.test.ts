import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestBackend } from '../../test/helpers.js';
import { WasmAllocationError } from './wasm-failure.js';

let active = '';
beforeAll(async () => {
  active = await useTestBackend();
});

const heapBytes = (): number => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length;

describe('failed wasm allocations', () => {
  it('(guarded by initBackend) throw a WasmAllocationError naming the size and the heap, grow nothing, and leave the backend usable', () => {
    if (active !== 'wasm') return;
    const before = tf.memory().numTensors;
    const heap = heapBytes();
    // 2³² − 4 bytes: below 4 GiB, so wasm32's malloc sees the true size, and above dlmalloc's
    // largest request (2³² − 64), so it returns 0 at once, growing and touching nothing.
    // Unguarded, tfjs fills 4 GB from address 0 and traps ("memory access out of bounds").
    let error: unknown;
    try {
      tf.zeros([2 ** 30 - 1]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(WasmAllocationError);
    expect((error as Error).message).toMatch(/^wasm backend: could not allocate 4,096 MiB for a tensor \(the heap is at [\d,]+ MiB of at most 4,096 MiB\)\. .*smaller batch size/);
    expect((error as WasmAllocationError).bytes).toBe(2 ** 32 - 4);
    expect(heapBytes()).toBe(heap);
    expect(tf.memory().numTensors).toBe(before);
    const y = tf.add(tf.ones([3]), 1);
    expect(Array.from(y.dataSync())).toEqual([2, 2, 2]);
    y.dispose();
  });

  it('refuse a request of 4 GiB or more, which wasm32 would wrap to a small allocation', () => {
    if (active !== 'wasm') return;
    expect(() => tf.zeros([2 ** 30 + 1])).toThrow(WasmAllocationError);
    expect(tf.add(tf.scalar(1), 1).dataSync()[0]).toBe(2);
  });
});
