/**
 * Interleaved A/B of our wasm kernels against the paths they replace, on the real layer shapes of
 * ResNet-18 (k = 1 and k = 1/4, 32×32 inputs) and CCT-2: in one process, old and new alternate,
 * and each reports the median and the minimum of `--reps` timings. On a shared machine only the
 * ratio old/new means anything, and on an oversubscribed one (CPU pressure near 100%, where a
 * call is preempted for tens of ms at random) the minimum, the least-disturbed run, is the more
 * faithful of the two: preemption hits long calls more often than short ones, so it biases
 * medians against the slower variant. The load average is printed beside every row.
 *
 * Run: `npx tsx bench/ab-kernels.ts [--kernel filter|input|bmm|bn|all] [--reps 7] [--batch-k1 8] [--batch-k4 32]`.
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';

import './tfjs-core-resolve.js';
const tf = await import('@tensorflow/tfjs-core');
const { initBackend } = await import('../src/backend/init-backend.js');
const { filterGradientByConvolution } = await import('../src/backend/wasm-conv2d-backprop-filter.js');
const { filterGradientByIm2col } = await import('../src/backend/wasm-im2col-filter-gradient.js');
const { writeRotatedSubFilter } = await import('../src/backend/wasm-conv2d-backprop-input.js');
const { callWasmKernel } = await import('../src/backend/wasm-kernel-calls.js');
const { batchNormTrain, BATCH_NORM_EPSILON } = await import('../src/models/batch-norm.js');
const { createRandom, normalArray } = await import('../src/util/random.js');

type TensorInfo = import('@tensorflow/tfjs-core').TensorInfo;
type Tensor = import('@tensorflow/tfjs-core').Tensor;
type Tensor1D = import('@tensorflow/tfjs-core').Tensor1D;
type Tensor4D = import('@tensorflow/tfjs-core').Tensor4D;
type BackendWasm = import('@tensorflow/tfjs-backend-wasm').BackendWasm;

const { values } = parseArgs({
  options: {
    kernel: { type: 'string', default: 'all' },
    reps: { type: 'string', default: '7' },
    'batch-k1': { type: 'string', default: '8' },
    'batch-k4': { type: 'string', default: '32' },
  },
});
const REPS = Number(values.reps);
// tfjs-backend-wasm's own BatchMatMul, captured before our registration replaces it (its setup
// still runs at backend start: the replacement keeps the original's setupFunc).
await import('@tensorflow/tfjs-backend-wasm');
const originalBatchMatMul = tf.getKernel(tf.BatchMatMul, 'wasm');
await initBackend('wasm');
const backend = tf.backend() as BackendWasm;
const random = createRandom(3);

/** One convolution layer: input [n, size, size, cin], k×k filter to cout, stride, 'same' padding. */
interface Layer {
  readonly name: string;
  readonly n: number;
  readonly size: number;
  readonly cin: number;
  readonly cout: number;
  readonly k: number;
  readonly stride: number;
}

/** ResNet-18's distinct convolutions at width multiplier `width` (CIFAR stem: 3×3, stride 1). */
function resnetLayers(width: number, n: number, tag: string): Layer[] {
  const w = [64, 128, 256, 512].map((c) => Math.round(c * width)) as [number, number, number, number];
  const layers: Layer[] = [{ name: `${tag} stem`, n, size: 32, cin: 3, cout: w[0], k: 3, stride: 1 }];
  let size = 32;
  let cin = w[0];
  for (let s = 0; s < 4; s++) {
    const cout = w[s] as number;
    if (s > 0) {
      layers.push({ name: `${tag} layer${s + 1}.0.conv1`, n, size, cin, cout, k: 3, stride: 2 });
      layers.push({ name: `${tag} layer${s + 1}.0.shortcut`, n, size, cin, cout, k: 1, stride: 2 });
      size /= 2;
    }
    layers.push({ name: `${tag} layer${s + 1} 3×3`, n, size, cin: cout, cout, k: 3, stride: 1 });
    cin = cout;
  }
  void cin;
  return layers;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

/** Times `a` and `b` alternately (`REPS` each, after one warm-up each) and prints medians, minima and their ratios. */
function abRuns(name: string, a: () => void, b: () => void): void {
  const times: [number[], number[]] = [[], []];
  const runs = [a, b] as const;
  for (const f of runs) f();
  for (let r = 0; r < REPS; r++) {
    for (let v = 0; v < 2; v++) {
      const start = performance.now();
      (runs[v] as () => void)();
      times[v]?.push(performance.now() - start);
    }
  }
  const [ma, mb] = [median(times[0]), median(times[1])];
  const [fa, fb] = [Math.min(...times[0]), Math.min(...times[1])];
  const f = (ms: number): string => ms.toFixed(ms < 10 ? 2 : 1).padStart(7);
  console.log(
    `${name.padEnd(44)} median old ${f(ma)} new ${f(mb)} ms, old/new ${(ma / mb).toFixed(2).padStart(6)}×; ` +
      `min old ${f(fa)} new ${f(fb)} ms, old/new ${(fa / fb).toFixed(2).padStart(6)}×; load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`,
  );
}

/** `abRuns` for two kernel-level producers of a TensorInfo (read back from the heap, then freed). */
function ab(name: string, a: () => TensorInfo, b: () => TensorInfo): void {
  const run = (f: () => TensorInfo) => (): void => {
    const out = f();
    backend.typedArrayFromHeap(out);
    backend.disposeData(out.dataId);
  };
  abRuns(name, run(a), run(b));
}

/** LeNet-5's two convolutions (batch 128) and CCT-2's tokenizer (batch 32), with their own paddings. */
const otherLayers: (Layer & { readonly pad: 'same' | 'valid' })[] = [
  { name: 'LeNet-5 conv1', n: 128, size: 28, cin: 1, cout: 6, k: 5, stride: 1, pad: 'same' },
  { name: 'LeNet-5 conv2', n: 128, size: 14, cin: 6, cout: 16, k: 5, stride: 1, pad: 'valid' },
  { name: 'CCT-2 conv1', n: 32, size: 32, cin: 3, cout: 64, k: 3, stride: 1, pad: 'same' },
  { name: 'CCT-2 conv2', n: 32, size: 16, cin: 64, cout: 128, k: 3, stride: 1, pad: 'same' },
];
const layers: (Layer & { readonly pad?: 'same' | 'valid' })[] = [
  ...resnetLayers(1, Number(values['batch-k1']), 'k=1'),
  ...resnetLayers(0.25, Number(values['batch-k4']), 'k=1/4'),
  ...otherLayers,
];
const kernel = values.kernel;

if (kernel === 'filter' || kernel === 'all') {
  console.log(`Conv2DBackpropFilter: old = transposed XNNPACK convolution, new = im2col + GEMM; ${REPS} reps`);
  for (const l of layers) {
    const x = tf.tensor4d(normalArray(l.n * l.size * l.size * l.cin, 0, 1, random), [l.n, l.size, l.size, l.cin]);
    const info = tf.backend_util.computeConv2DInfo(x.shape, [l.k, l.k, l.cin, l.cout], l.stride, 1, l.pad ?? 'same');
    const dy = tf.tensor4d(normalArray(l.n * info.outHeight * info.outWidth * l.cout, 0, 1, random), [l.n, info.outHeight, info.outWidth, l.cout]);
    ab(
      `${l.name} [${x.shape.join(',')}] ${l.k}×${l.k}/${l.stride}→${l.cout}`,
      () => filterGradientByConvolution(backend, x, dy, info),
      () => filterGradientByIm2col(backend, x, dy, info),
    );
    tf.dispose([x, dy]);
  }
}

if (kernel === 'input' || kernel === 'all') {
  console.log(`Conv2DBackpropInput's filter rotation (per residue class): old = StridedSlice + Reverse + Transpose kernels, new = one JS pass; ${REPS} reps`);
  const seen = new Set<string>();
  for (const l of layers) {
    const key = `${l.k} ${l.cin} ${l.cout} ${l.stride}`;
    if (l.pad !== undefined) continue;
    if (seen.has(key)) continue;
    seen.add(key);
    const filter = tf.tensor4d(normalArray(l.k * l.k * l.cin * l.cout, 0, 1, random), [l.k, l.k, l.cin, l.cout]);
    const taps = Math.ceil(l.k / l.stride);
    ab(
      `${l.name} filter [${filter.shape.join(',')}] stride ${l.stride}`,
      () => {
        const sub = l.stride === 1 ? filter : callWasmKernel(tf.StridedSlice, { x: filter }, { begin: [0, 0, 0, 0], end: filter.shape, strides: [l.stride, l.stride, 1, 1] }, backend);
        const reversed = callWasmKernel(tf.Reverse, { x: sub }, { dims: [0, 1] }, backend);
        if (sub !== filter) backend.disposeData(sub.dataId);
        const rotated = callWasmKernel(tf.Transpose, { x: reversed }, { perm: [0, 1, 3, 2] }, backend);
        backend.disposeData(reversed.dataId);
        return rotated;
      },
      () => {
        const out = backend.makeOutput([taps, taps, l.cout, l.cin], 'float32');
        writeRotatedSubFilter(backend.typedArrayFromHeap(filter) as Float32Array, [l.k, l.k, l.cin, l.cout], [0, 0], [l.stride, l.stride], backend.typedArrayFromHeap(out) as Float32Array);
        return out;
      },
    );
    filter.dispose();
  }
}

if (kernel === 'bmm' || kernel === 'all') {
  console.log(`batched BatchMatMul (CCT-2 attention, batch 32 × 2 heads, T 64, d 64): old = tfjs-backend-wasm's C++ loop, new = matrix by matrix through XNNPACK; ${REPS} reps`);
  if (originalBatchMatMul === undefined) throw new Error('tfjs-backend-wasm registered no BatchMatMul');
  const ours = tf.getKernel(tf.BatchMatMul, 'wasm');
  if (ours === undefined) throw new Error('no BatchMatMul on wasm');
  const a = tf.tensor3d(normalArray(64 * 64 * 64, 0, 1, random), [64, 64, 64]);
  const b = tf.tensor3d(normalArray(64 * 64 * 64, 0, 1, random), [64, 64, 64]);
  for (const [transposeA, transposeB] of [[false, false], [false, true], [true, false]] as const) {
    const attrs = { transposeA, transposeB };
    ab(
      `[64,64,64]${transposeA ? 'ᵀ' : ''}·[64,64,64]${transposeB ? 'ᵀ' : ''}`,
      () => originalBatchMatMul.kernelFunc({ inputs: { a, b }, attrs, backend }) as TensorInfo,
      () => ours.kernelFunc({ inputs: { a, b }, attrs, backend }) as TensorInfo,
    );
  }
  tf.dispose([a, b]);
}


if (kernel === 'bn' || kernel === 'all') {
  console.log(`training-mode BatchNorm forward + gradient (x, γ, β): old = tf.moments + tf.batchNorm differentiated op by op, new = batchNormTrain's closed-form custom gradient; ${REPS} reps`);
  const seen = new Set<string>();
  for (const l of layers) {
    if (l.pad !== undefined) continue;
    const shape: [number, number, number, number] = [l.n, l.size / l.stride, l.size / l.stride, l.cout];
    const key = shape.join(',');
    if (seen.has(key)) continue;
    seen.add(key);
    const x = tf.tensor4d(normalArray(tf.util.sizeFromShape(shape), 0, 1, random), shape);
    const dy = tf.tensor4d(normalArray(tf.util.sizeFromShape(shape), 0, 1, random), shape);
    const gamma = tf.tensor1d(normalArray(l.cout, 1, 0.1, random));
    const beta = tf.tensor1d(normalArray(l.cout, 0, 0.1, random));
    const gradients = (f: (x: Tensor4D, g: Tensor1D, b: Tensor1D) => Tensor) => (): void => {
      tf.tidy(() => {
        const grads = tf.grads((xx: Tensor, g: Tensor, b: Tensor) => tf.sum(tf.mul(f(xx as Tensor4D, g as Tensor1D, b as Tensor1D), dy)))([x, gamma, beta]);
        for (const g of grads) g.dataSync();
      });
    };
    abRuns(
      `${l.name.split(' ')[0]} BN on [${shape.join(',')}]`,
      gradients((xx, g, b) => {
        const { mean, variance } = tf.moments(xx, [0, 1, 2]);
        return tf.batchNorm4d(xx, mean as Tensor1D, variance as Tensor1D, b, g, BATCH_NORM_EPSILON);
      }),
      gradients((xx, g, b) => batchNormTrain(xx, g, b).y),
    );
    tf.dispose([x, dy, gamma, beta]);
  }
}
