/**
 * Four wasm SIMD loops over tfjs-backend-wasm's heap, for reductions XNNPACK has no operator
 * for: a small WebAssembly module, assembled here from its instructions, that imports the
 * backend's `WebAssembly.Memory` so it reads tensors where they lie.
 *
 *   rowDot(x, dy, acc, count, vectors, xStep, dyStep):
 *     acc[4j .. 4j+3] = Σ_{i < count} x[i·xStep + 4j .. +3] ⊙ dy[i·dyStep + 4j .. +3]          (j < vectors)
 *   rowDotSplat(x, dy, acc, count, vectors, xStep, dyStep, perChannel):
 *     acc[4j .. 4j+3] = Σ_{i < count} x[i·xStep + ⌊j / perChannel⌋] · dy[i·dyStep + 4j .. +3]   (x broadcast)
 *   rowSum64(x, acc, count, vectors, xStep):
 *     acc[4j .. 4j+3] = Σ_{i < count} x[i·xStep + 4j .. +3]   accumulated in float64 (acc: f64 lanes)
 *   maxPool2x2GradRow(x, dy, dx, outWidth, pixelBytes, inRowBytes):
 *     one output row of a 2×2 stride-2 max pooling's gradient: dy to each window's first maximum,
 *     0 to the window's other three cells (wasm-max-pool-grad.ts)
 *
 * (pointers and steps in bytes, f32 lanes). `rowDot` is the depthwise filter gradient's inner
 * product over one output row with channel multiplier 1, `rowDotSplat` the one with M = 4·perChannel,
 * where the M outputs of channel c share x[…, c]. A JS loop doing the same runs at ~2–6 ns per
 * multiply-add here (V8 does not vectorise); these run four lanes per instruction.
 */
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** The loops, bound to one backend's memory. */
export interface SimdRows {
  rowDot(x: number, dy: number, acc: number, count: number, vectors: number, xStep: number, dyStep: number): void;
  rowDotSplat(x: number, dy: number, acc: number, count: number, vectors: number, xStep: number, dyStep: number, perChannel: number): void;
  maxPool2x2GradRow(x: number, dy: number, dx: number, outWidth: number, pixelBytes: number, inRowBytes: number): void;
  rowSum64(x: number, acc: number, count: number, vectors: number, xStep: number): void;
}

/** unsigned LEB128 */
function uleb(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

function name(text: string): number[] {
  const bytes = [...new TextEncoder().encode(text)];
  return [...uleb(bytes.length), ...bytes];
}

const I32 = 0x7f;
const V128 = 0x7b;
const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  end: [0x0b],
  br: (depth: number) => [0x0c, ...uleb(depth)],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  i32: (v: number) => [0x41, ...uleb(v)],
  add: [0x6a],
  sub: [0x6b],
  mul: [0x6c],
  divU: [0x6e],
  geU: [0x4f],
  eqz: [0x45],
  leU: [0x4d],
  select: [0x1b],
  // SIMD (prefix 0xfd); memarg = align 2^2, offset 0.
  load: [0xfd, ...uleb(0x00), 2, 0],
  load32Splat: [0xfd, ...uleb(0x09), 2, 0],
  store: [0xfd, ...uleb(0x0b), 2, 0],
  zero: [0xfd, ...uleb(0x0c), ...new Array<number>(16).fill(0)],
  f32x4Gt: [0xfd, ...uleb(0x44)],
  v128And: [0xfd, ...uleb(0x4e)],
  v128AndNot: [0xfd, ...uleb(0x4f)],
  v128Or: [0xfd, ...uleb(0x50)],
  bitselect: [0xfd, ...uleb(0x52)],
  /** v128.const f32x4(−∞, −∞, −∞, −∞) */
  minusInfinity: [0xfd, ...uleb(0x0c), ...[0, 1, 2, 3].flatMap(() => [0x00, 0x00, 0x80, 0xff])],
  f32x4Add: [0xfd, ...uleb(0xe4)],
  /** i8x16.shuffle moving lanes 2, 3 of an f32x4 to lanes 0, 1 */
  highHalf: [0xfd, ...uleb(0x0d), 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7],
  f64x2PromoteLow: [0xfd, ...uleb(0x5f)],
  f64x2Add: [0xfd, ...uleb(0xf0)],
  f32x4Mul: [0xfd, ...uleb(0xe6)],
} as const;

/**
 * The body of rowDot (splat = false) or rowDotSplat (splat = true). Params: 0 x, 1 dy, 2 acc,
 * 3 count, 4 vectors, 5 xStep, 6 dyStep, [7 perChannel]; locals j, i, xp, dp, v after them.
 */
function rowDotBody(splat: boolean): number[] {
  const params = splat ? 8 : 7;
  const [j, i, xp, dp, v] = [params, params + 1, params + 2, params + 3, params + 4];
  // x offset of vector j: 16·j, or 4·⌊j / perChannel⌋ when splatting.
  const xOffset = splat ? [...op.get(j), ...op.get(7), ...op.divU, ...op.i32(4), ...op.mul] : [...op.get(j), ...op.i32(16), ...op.mul];
  const code = [
    ...op.i32(0), ...op.set(j),
    ...op.block, ...op.loop,
    ...op.get(j), ...op.get(4), ...op.geU, ...op.brIf(1),
    ...op.zero, ...op.set(v),
    ...op.get(0), ...xOffset, ...op.add, ...op.set(xp),
    ...op.get(1), ...op.get(j), ...op.i32(16), ...op.mul, ...op.add, ...op.set(dp),
    ...op.get(3), ...op.set(i),
    ...op.block, ...op.loop,
    ...op.get(i), ...op.eqz, ...op.brIf(1),
    ...op.get(v), ...op.get(xp), ...(splat ? op.load32Splat : op.load), ...op.get(dp), ...op.load, ...op.f32x4Mul, ...op.f32x4Add, ...op.set(v),
    ...op.get(xp), ...op.get(5), ...op.add, ...op.set(xp),
    ...op.get(dp), ...op.get(6), ...op.add, ...op.set(dp),
    ...op.get(i), ...op.i32(1), ...op.sub, ...op.set(i),
    ...op.br(0),
    ...op.end, ...op.end,
    ...op.get(2), ...op.get(j), ...op.i32(16), ...op.mul, ...op.add, ...op.get(v), ...op.store,
    ...op.get(j), ...op.i32(1), ...op.add, ...op.set(j),
    ...op.br(0),
    ...op.end, ...op.end,
    ...op.end,
  ];
  const locals = [2, ...uleb(4), I32, ...uleb(1), V128];
  const body = [...locals, ...code];
  return [...uleb(body.length), ...body];
}

/**
 * The body of maxPool2x2GradRow: one output row of a 2×2, stride-2 max pooling without padding.
 * Params: 0 x (top-left of the two input rows), 1 dy (the output row), 2 dx (as x), 3 outWidth,
 * 4 pixelBytes (4·C, C ≥ 4), 5 inRowBytes; locals ow, cb, off, xa, da, dyp (i32), then v0…v3, g,
 * best, m0…m3 (v128). For every window and every four channels (the last four overlap the ones
 * before when 4 ∤ C: writes are idempotent) it writes dy to the first maximum and 0 to the other
 * three, branch-free: m_k = v_k > best_{k−1} (NaN never wins), winner k = m_k ∧ ¬(m_{k+1} ∨ …).
 */
function maxPoolGradBody(): number[] {
  const [ow, cb, off, xa, da, dyp, v0, v1, v2, v3, g, best, m0, m1, m2, m3] = [6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21];
  const [xTop, dyRow, dxTop, outWidth, pixel, inRow] = [0, 1, 2, 3, 4, 5];
  const load = (base: number, ...offsets: number[]): number[] => [...op.get(base), ...offsets.flatMap((o) => [...op.get(o), ...op.add]), ...op.load];
  const store = (base: number, offsets: number[], value: number[]): number[] => [...op.get(base), ...offsets.flatMap((o) => [...op.get(o), ...op.add]), ...value, ...op.store];
  const lastVector = [...op.get(pixel), ...op.i32(16), ...op.sub];
  const code = [
    ...op.i32(0), ...op.set(ow),
    ...op.block, ...op.loop,
    ...op.get(ow), ...op.get(outWidth), ...op.geU, ...op.brIf(1),
    ...op.i32(0), ...op.set(cb),
    ...op.block, ...op.loop,
    ...op.get(cb), ...op.get(pixel), ...op.geU, ...op.brIf(1),
    // off = min(cb, 4·C − 16); xa, da = window (ow) + off; dyp = dy + ow·4C + off
    ...op.get(cb), ...lastVector, ...op.get(cb), ...lastVector, ...op.leU, ...op.select, ...op.set(off),
    ...op.get(ow), ...op.get(pixel), ...op.mul, ...op.get(off), ...op.add, ...op.set(dyp),
    ...op.get(ow), ...op.get(pixel), ...op.mul, ...op.i32(2), ...op.mul, ...op.get(off), ...op.add, ...op.set(off),
    ...op.get(xTop), ...op.get(off), ...op.add, ...op.set(xa),
    ...op.get(dxTop), ...op.get(off), ...op.add, ...op.set(da),
    ...load(xa), ...op.set(v0),
    ...load(xa, pixel), ...op.set(v1),
    ...load(xa, inRow), ...op.set(v2),
    ...load(xa, inRow, pixel), ...op.set(v3),
    ...op.get(dyRow), ...op.get(dyp), ...op.add, ...op.load, ...op.set(g),
    ...op.get(v0), ...op.minusInfinity, ...op.f32x4Gt, ...op.set(m0),
    ...op.get(v0), ...op.minusInfinity, ...op.get(m0), ...op.bitselect, ...op.set(best),
    ...op.get(v1), ...op.get(best), ...op.f32x4Gt, ...op.set(m1),
    ...op.get(v1), ...op.get(best), ...op.get(m1), ...op.bitselect, ...op.set(best),
    ...op.get(v2), ...op.get(best), ...op.f32x4Gt, ...op.set(m2),
    ...op.get(v2), ...op.get(best), ...op.get(m2), ...op.bitselect, ...op.set(best),
    ...op.get(v3), ...op.get(best), ...op.f32x4Gt, ...op.set(m3),
    ...store(da, [inRow, pixel], [...op.get(g), ...op.get(m3), ...op.v128And]),
    ...store(da, [inRow], [...op.get(g), ...op.get(m2), ...op.get(m3), ...op.v128AndNot, ...op.v128And]),
    ...op.get(m2), ...op.get(m3), ...op.v128Or, ...op.set(m2),
    ...store(da, [pixel], [...op.get(g), ...op.get(m1), ...op.get(m2), ...op.v128AndNot, ...op.v128And]),
    ...op.get(m1), ...op.get(m2), ...op.v128Or, ...op.set(m1),
    ...store(da, [], [...op.get(g), ...op.get(m0), ...op.get(m1), ...op.v128AndNot, ...op.v128And]),
    ...op.get(cb), ...op.i32(16), ...op.add, ...op.set(cb),
    ...op.br(0),
    ...op.end, ...op.end,
    ...op.get(ow), ...op.i32(1), ...op.add, ...op.set(ow),
    ...op.br(0),
    ...op.end, ...op.end,
    ...op.end,
  ];
  const locals = [2, ...uleb(6), I32, ...uleb(10), V128];
  const bodyBytes = [...locals, ...code];
  return [...uleb(bodyBytes.length), ...bodyBytes];
}

/**
 * The body of rowSum64: params 0 x, 1 acc, 2 count, 3 vectors, 4 xStep (bytes); locals j, i, xp
 * (i32), v, lo, hi (v128). Vector j of every row is widened to two f64x2 and added there, so the
 * sum is float64 however many rows it covers.
 */
function rowSum64Body(): number[] {
  const [j, i, xp, v, lo, hi] = [5, 6, 7, 8, 9, 10];
  const code = [
    ...op.i32(0), ...op.set(j),
    ...op.block, ...op.loop,
    ...op.get(j), ...op.get(3), ...op.geU, ...op.brIf(1),
    ...op.zero, ...op.set(lo),
    ...op.zero, ...op.set(hi),
    ...op.get(0), ...op.get(j), ...op.i32(16), ...op.mul, ...op.add, ...op.set(xp),
    ...op.get(2), ...op.set(i),
    ...op.block, ...op.loop,
    ...op.get(i), ...op.eqz, ...op.brIf(1),
    ...op.get(xp), ...op.load, ...op.set(v),
    ...op.get(lo), ...op.get(v), ...op.f64x2PromoteLow, ...op.f64x2Add, ...op.set(lo),
    ...op.get(hi), ...op.get(v), ...op.get(v), ...op.highHalf, ...op.f64x2PromoteLow, ...op.f64x2Add, ...op.set(hi),
    ...op.get(xp), ...op.get(4), ...op.add, ...op.set(xp),
    ...op.get(i), ...op.i32(1), ...op.sub, ...op.set(i),
    ...op.br(0),
    ...op.end, ...op.end,
    ...op.get(1), ...op.get(j), ...op.i32(32), ...op.mul, ...op.add, ...op.get(lo), ...op.store,
    ...op.get(1), ...op.get(j), ...op.i32(32), ...op.mul, ...op.i32(16), ...op.add, ...op.add, ...op.get(hi), ...op.store,
    ...op.get(j), ...op.i32(1), ...op.add, ...op.set(j),
    ...op.br(0),
    ...op.end, ...op.end,
    ...op.end,
  ];
  const locals = [2, ...uleb(3), I32, ...uleb(3), V128];
  const bodyBytes = [...locals, ...code];
  return [...uleb(bodyBytes.length), ...bodyBytes];
}

/** The module's bytes: imports env.memory, exports rowDot, rowDotSplat, maxPool2x2GradRow and rowSum64. */
export function simdRowsModule(): Uint8Array {
  const types = [4, ...[7, 8, 6, 5].flatMap((params) => [0x60, params, ...new Array<number>(params).fill(I32), 0])];
  const imports = [1, ...name('env'), ...name('memory'), 0x02, 0x00, 0x00];
  const functions = [4, 0, 1, 2, 3];
  const exports = [4, ...name('rowDot'), 0x00, 0, ...name('rowDotSplat'), 0x00, 1, ...name('maxPool2x2GradRow'), 0x00, 2, ...name('rowSum64'), 0x00, 3];
  const code = [4, ...rowDotBody(false), ...rowDotBody(true), ...maxPoolGradBody(), ...rowSum64Body()];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, types),
    ...section(2, imports),
    ...section(3, functions),
    ...section(7, exports),
    ...section(10, code),
  ]);
}

/** The part of the WebAssembly JS API used here (this project's TypeScript lib declares none). */
interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
}
interface WasmApi {
  Memory: abstract new (...args: never[]) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { readonly exports: unknown };
  validate(bytes: Uint8Array): boolean;
}
const WASM = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** Instances by memory: one per backend, made on first use (instantiating takes ~0.1 ms). */
const INSTANCES = new WeakMap<WasmMemory, SimdRows | null>();

/**
 * The loops bound to `backend`'s heap, or undefined where that heap is not reachable (a future
 * tfjs-backend-wasm that hides its memory, or a shared memory of the threaded build) or the
 * engine lacks wasm SIMD: callers then keep a JS loop.
 */
export function simdRows(backend: BackendWasm): SimdRows | undefined {
  const memory = (backend.wasm as unknown as { asm?: { memory?: unknown } }).asm?.memory;
  if (!(memory instanceof WASM.Memory) || memory.buffer instanceof SharedArrayBuffer) return undefined;
  let rows = INSTANCES.get(memory);
  if (rows === undefined) {
    const bytes = simdRowsModule();
    rows = WASM.validate(bytes)
      ? (new WASM.Instance(new WASM.Module(bytes), { env: { memory } }).exports as SimdRows)
      : null;
    INSTANCES.set(memory, rows);
  }
  return rows ?? undefined;
}
