import { describe, expect, it } from 'vitest';
import { describeWasmFailure, wasmHeapBytes } from './wasm-failure.js';

describe('describeWasmFailure', () => {
  it("explains Emscripten's abort with the heap size and what to change", () => {
    const text = describeWasmFailure(new Error('Aborted(). Build with -sASSERTIONS for more info.'), 4095 * 2 ** 20);
    expect(text).toMatch(/^Aborted\(\): the wasm backend failed inside its binary with its heap at 4,095 MiB of at most 4,096 MiB\./);
    expect(text).toMatch(/smaller batch size/);
    expect(text).toMatch(/cpu backend/);
  });

  it("explains the out-of-bounds trap that follows a failed allocation, also inside a worker's message, without a heap size when none is given", () => {
    const text = describeWasmFailure(new Error('gradient worker 2 of 2: RuntimeError: memory access out of bounds\n    at wasm://…'));
    expect(text).toBe(
      'gradient worker 2 of 2: RuntimeError: memory access out of bounds: the wasm backend failed inside its binary. ' +
        'Most often the work did not fit in its 4 GiB memory: use a smaller batch size (or width), or the cpu backend; ' +
        'the wasm backend cannot be used again in this process',
    );
  });

  it('leaves every other error alone', () => {
    expect(describeWasmFailure(new Error('--batch-size: expected a positive integer, found "0"'))).toBeUndefined();
    expect(describeWasmFailure('not an error')).toBeUndefined();
  });
});

describe('wasmHeapBytes', () => {
  it("reads a wasm backend's heap length and nothing from other backends", () => {
    expect(wasmHeapBytes({ wasm: { HEAPU8: new Uint8Array(64) } })).toBe(64);
    expect(wasmHeapBytes({})).toBeUndefined();
    expect(wasmHeapBytes(undefined)).toBeUndefined();
  });
});
