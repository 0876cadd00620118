/**
 * What to tell a user when the wasm backend dies inside its binary. tfjs-backend-wasm runs in one
 * WebAssembly memory that grows up to 4 GiB (wasm32); when an allocation fails there, Emscripten
 * calls `abort()` ("Aborted(). Build with -sASSERTIONS for more info.") or a kernel traps on the
 * null pointer it got ("memory access out of bounds"). Neither message says why, and the module
 * cannot run again in that thread. The usual cause is a batch whose activations and gradient tape
 * do not fit: a smaller batch size or width, fewer images per worker, or the cpu backend helps.
 */

/** Emscripten's abort and the traps that follow a failed allocation in the wasm heap. */
const WASM_FAILURE = /\bAborted\(\)|memory access out of bounds|Cannot enlarge memory|Out of memory/;

/**
 * A message explaining a wasm backend failure, or undefined when `error` is not one.
 * `heapBytes`: the heap's size at the failure, when the caller can read it (the calling thread's
 * backend; a worker's heap is not visible from its parent).
 */
export function describeWasmFailure(error: unknown, heapBytes?: number): string | undefined {
  const message = error instanceof Error ? error.message : String(error);
  if (!WASM_FAILURE.test(message)) return undefined;
  const heap = heapBytes === undefined ? '' : ` with its heap at ${Math.round(heapBytes / 2 ** 20).toLocaleString('en-US')} MiB of at most 4,096 MiB`;
  return (
    `${(message.split('\n')[0] ?? message).replace(/\.? Build with -sASSERTIONS for more info\.?/, '')}: the wasm backend failed inside its binary${heap}. ` +
    'Most often the work did not fit in its 4 GiB memory: use a smaller batch size (or width), or the cpu backend; ' +
    'the wasm backend cannot be used again in this process'
  );
}

/** The calling thread's wasm heap size in bytes, when the active backend is wasm. */
export function wasmHeapBytes(backend: unknown): number | undefined {
  const heap = (backend as { wasm?: { HEAPU8?: { length?: unknown } } } | undefined)?.wasm?.HEAPU8?.length;
  return typeof heap === 'number' ? heap : undefined;
}

/** The error a failed wasm allocation raises instead of handing tfjs a null pointer. */
export class WasmAllocationError extends Error {
  constructor(
    readonly bytes: number,
    readonly heapBytes: number | undefined,
  ) {
    const mib = (b: number) => `${Math.round(b / 2 ** 20).toLocaleString('en-US')} MiB`;
    super(
      `wasm backend: could not allocate ${mib(bytes)} for a tensor` +
        (heapBytes === undefined ? '' : ` (the heap is at ${mib(heapBytes)} of at most 4,096 MiB)`) +
        '. The work does not fit in the wasm backend\'s 4 GiB memory: use a smaller batch size (or width), more workers (each has its own heap), or the cpu backend',
    );
    this.name = 'WasmAllocationError';
  }
}

interface WasmModule {
  _malloc(bytes: number): number;
  _free(pointer: number): void;
  HEAPU8: { length: number };
}

const guarded = new WeakSet<object>();

/**
 * Makes a failed allocation in the wasm backend's heap throw a WasmAllocationError. Emscripten's
 * malloc returns 0 when the heap cannot grow (wasm32 stops at 4 GiB) and tfjs-backend-wasm 4.22
 * uses that 0 as the tensor's address: the kernel then writes over the heap's start, and the run
 * dies later, elsewhere, with "memory access out of bounds" (a ShuffleNet training run did so in
 * a dispose 24 minutes in). Throwing before anything is written leaves the backend usable.
 * Idempotent; `backend` is the wasm backend (its `wasm` module).
 */
export function guardWasmAllocations(backend: unknown): void {
  const module = (backend as { wasm?: WasmModule } | undefined)?.wasm;
  if (module === undefined || typeof module._malloc !== 'function' || guarded.has(module)) return;
  // Emscripten's export stub replaces itself with the raw export on its first call: call it once
  // so that the function wrapped below is the one that stays.
  module._free(module._malloc(16));
  const malloc = module._malloc.bind(module);
  module._malloc = (bytes: number): number => {
    // wasm32's size_t would wrap a request of 4 GiB or more to a small one.
    if (bytes >= 2 ** 32) throw new WasmAllocationError(bytes, module.HEAPU8.length);
    const pointer = malloc(bytes);
    if (pointer === 0 && bytes > 0) throw new WasmAllocationError(bytes, module.HEAPU8.length);
    return pointer;
  };
  guarded.add(module);
}
