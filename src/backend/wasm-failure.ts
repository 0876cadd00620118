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
