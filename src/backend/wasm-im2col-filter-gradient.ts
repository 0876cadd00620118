/**
 * The filter gradient of a convolution as one matrix product through XNNPACK, for the wasm
 * backend: im2col of the input, transposed, times the output gradient.
 *
 * For y = conv2d(x, W) with stride s, dilation 1 and padding (top p_t, left p_l), NHWC:
 *
 *   dW[kh, kw, ci, co] = Σ_{n, oh, ow} x[n, oh·s_h + kh − p_t, ow·s_w + kw − p_l, ci] · dy[n, oh, ow, co]
 *
 * With the patch matrix Pᵀ[(kh, kw, ci), (n, oh, ow)] = x[n, oh·s_h + kh − p_t, ow·s_w + kw − p_l, ci]
 * (zero outside the input) and dy read as a matrix [(n, oh, ow), co],
 *
 *   dW = Pᵀ · dy   : [KH·KW·Cin, N·OH·OW] · [N·OH·OW, Cout] → [KH·KW·Cin, Cout] = HWIO, no transpose after.
 *
 * Pᵀ is written directly in its row-major layout (so the product runs untransposed, the fast path
 * of tfjs-backend-wasm's BatchMatMul, XNNPACK's GEMM): x is first transposed to [Cin, N, H, W],
 * which makes every run of Pᵀ along ow a contiguous (stride 1) or strided copy of one input row.
 * This is the im2col formulation of Chellapilla, Puri & Simard, "High Performance Convolutional
 * Neural Networks for Document Processing" (2006). The images are split into chunks so Pᵀ stays
 * under `maxPatchElements`; the chunks' products are summed.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { callWasmKernel, disposeWasmIntermediates } from './wasm-kernel-calls.js';

/** Default cap on the elements of one chunk's patch matrix: 2^23 floats, 32 MiB of wasm heap. */
export const DEFAULT_MAX_PATCH_ELEMENTS = 1 << 23;

/** The geometry `writeTransposedPatches` needs (a subset of tfjs's Conv2DInfo). */
export interface PatchGeometry {
  readonly batchSize: number;
  readonly inHeight: number;
  readonly inWidth: number;
  readonly inChannels: number;
  readonly outHeight: number;
  readonly outWidth: number;
  readonly filterHeight: number;
  readonly filterWidth: number;
  readonly strideHeight: number;
  readonly strideWidth: number;
  readonly padTop: number;
  readonly padLeft: number;
}

/**
 * Writes Pᵀ for images [first, first + count) into `heap` at element `outAt` ([KH·KW·Cin,
 * count·OH·OW], row-major) from xT = x transposed to [Cin, N, H, W], stored in `heap` at `xAt`;
 * every element of Pᵀ is written (zeros for padding). Both live in one array (the wasm heap), so
 * runs move with `copyWithin` (a memmove, no view allocated per run).
 *
 * At stride 1 with OW = W (e.g. 'same' padding) the rows of one (kh, kw, ci, n) are one shifted
 * contiguous run of xT: one copy, then the |kw − p_l| columns per row that the shift pulled in
 * from the neighbouring row are zeroed; with OH = H too, all images of one channel are one run
 * (the |kh − p_t| rows per image pulled in from the neighbouring image zeroed alike). Otherwise
 * each output row is a (strided) gather.
 */
export function writeTransposedPatches(heap: Float32Array, xAt: number, outAt: number, g: PatchGeometry, first: number, count: number): void {
  const { inHeight: h, inWidth: w, outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = g;
  const columns = count * oh * ow;
  const wholeRows = sh === 1 && sw === 1 && ow === w;
  const wholeImages = wholeRows && oh === h;
  for (let kh = 0; kh < g.filterHeight; kh++) {
    // Output rows whose input row r·s_h + kh − p_t lies inside [0, h).
    const down = kh - g.padTop;
    const rLo = Math.min(oh, Math.max(0, Math.ceil(-down / sh)));
    const rHi = Math.max(rLo, Math.min(oh, Math.floor((h - 1 - down) / sh) + 1));
    for (let kw = 0; kw < g.filterWidth; kw++) {
      const shift = kw - g.padLeft;
      const owLo = Math.min(ow, Math.max(0, Math.ceil(-shift / sw)));
      const owHi = Math.max(owLo, Math.min(ow, Math.floor((w - 1 - shift) / sw) + 1));
      for (let ci = 0; ci < g.inChannels; ci++) {
        const row = outAt + ((kh * g.filterWidth + kw) * g.inChannels + ci) * columns;
        if (wholeImages) {
          // All `count` images of channel ci are one run of xT and one run of Pᵀ's row.
          const images = xAt + (ci * g.batchSize + first) * h * w;
          const src = images + down * w + shift;
          const length = count * h * w;
          const from = Math.max(src, images);
          const to = Math.min(src + length, images + length);
          heap.copyWithin(row + (from - src), from, to);
          for (let n = 0; n < count; n++) {
            const block = row + n * oh * ow;
            for (let i = block; i < block + rLo * ow; i++) heap[i] = 0;
            for (let i = block + rHi * ow; i < block + oh * ow; i++) heap[i] = 0;
            for (let r = rLo; r < rHi; r++) {
              const at = block + r * ow;
              for (let c = 0; c < owLo; c++) heap[at + c] = 0;
              for (let c = owHi; c < ow; c++) heap[at + c] = 0;
            }
          }
          continue;
        }
        for (let n = 0; n < count; n++) {
          const image = xAt + (ci * g.batchSize + first + n) * h * w;
          const block = row + n * oh * ow;
          heap.fill(0, block, block + rLo * ow);
          heap.fill(0, block + rHi * ow, block + oh * ow);
          if (rHi === rLo) continue;
          if (wholeRows) {
            const src = image + (rLo * sh + down) * w + shift;
            const dst = block + rLo * ow;
            const length = (rHi - rLo) * ow;
            // Clamped to the image; what the clamp leaves out are padding columns, zeroed below.
            const from = Math.max(src, image);
            const to = Math.min(src + length, image + h * w);
            heap.copyWithin(dst + (from - src), from, to);
            for (let r = rLo; r < rHi; r++) {
              const at = block + r * ow;
              for (let c = 0; c < owLo; c++) heap[at + c] = 0;
              for (let c = owHi; c < ow; c++) heap[at + c] = 0;
            }
            continue;
          }
          for (let r = rLo; r < rHi; r++) {
            const dst = block + r * ow;
            const src = image + (r * sh + down) * w + shift;
            for (let c = 0; c < owLo; c++) heap[dst + c] = 0;
            for (let c = owHi; c < ow; c++) heap[dst + c] = 0;
            if (sw === 1 && owHi - owLo >= 16) {
              heap.copyWithin(dst + owLo, src + owLo, src + owHi);
            } else {
              for (let c = owLo; c < owHi; c++) heap[dst + c] = heap[src + c * sw] as number;
            }
          }
        }
      }
    }
  }
}

/**
 * dW [KH, KW, Cin, Cout] of a dilation-1 NHWC float32 convolution by im2col + GEMM (module
 * comment); the caller frees the result. `convInfo` must describe x and dy.
 */
export function filterGradientByIm2col(
  backend: BackendWasm,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  convInfo: tf.backend_util.Conv2DInfo,
  maxPatchElements = DEFAULT_MAX_PATCH_ELEMENTS,
): tf.TensorInfo {
  const g: PatchGeometry = { ...convInfo, padTop: convInfo.padInfo.top, padLeft: convInfo.padInfo.left };
  const { batchSize, outHeight, outWidth, filterHeight, filterWidth, inChannels, outChannels } = convInfo;
  const rows = filterHeight * filterWidth * inChannels;
  const perImage = outHeight * outWidth;
  const imagesPerChunk = Math.max(1, Math.min(batchSize, Math.floor(maxPatchElements / (rows * perImage))));
  const xT = callWasmKernel(tf.Transpose, { x }, { perm: [3, 0, 1, 2] }, backend);
  let sum: tf.TensorInfo | undefined;
  for (let first = 0; first < batchSize; first += imagesPerChunk) {
    const count = Math.min(imagesPerChunk, batchSize - first);
    const patches = backend.makeOutput([1, rows, count * perImage], 'float32');
    const dyShape = [1, count * perImage, outChannels];
    const dyChunk = count === batchSize ? callWasmKernel(tf.Reshape, { x: dy }, { shape: dyShape }, backend) : backend.makeOutput(dyShape, 'float32');
    if (count !== batchSize) {
      // Views only after every makeOutput: allocating may grow (and detach) the heap.
      const start = first * perImage * outChannels;
      const dyAll = backend.typedArrayFromHeap(dy) as Float32Array;
      (backend.typedArrayFromHeap(dyChunk) as Float32Array).set(dyAll.subarray(start, start + count * perImage * outChannels));
    }
    const xView = backend.typedArrayFromHeap(xT) as Float32Array;
    const outView = backend.typedArrayFromHeap(patches) as Float32Array;
    const heap = new Float32Array(outView.buffer);
    writeTransposedPatches(heap, xView.byteOffset / 4, outView.byteOffset / 4, g, first, count);
    const product = callWasmKernel(tf.BatchMatMul, { a: patches, b: dyChunk }, { transposeA: false, transposeB: false }, backend);
    disposeWasmIntermediates(backend, patches, dyChunk);
    if (sum === undefined) {
      sum = product;
    } else {
      const next = callWasmKernel(tf.Add, { a: sum, b: product }, {}, backend);
      disposeWasmIntermediates(backend, sum, product);
      sum = next;
    }
  }
  disposeWasmIntermediates(backend, xT);
  if (sum === undefined) throw new Error(`Conv2DBackpropFilter on wasm: empty batch in x [${x.shape.join(', ')}]`);
  const dw = callWasmKernel(tf.Reshape, { x: sum }, { shape: [filterHeight, filterWidth, inChannels, outChannels] }, backend);
  disposeWasmIntermediates(backend, sum);
  return dw;
}
