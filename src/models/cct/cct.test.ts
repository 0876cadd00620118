import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRandom, normalArray } from '../../util/random.js';
import { erfSeries, expectEveryGradientNonZero, expectNoLeakedTensors, maxRelativeError, useTestBackend } from '../../../test/helpers.js';
import { CCT_PRESETS, cct, cctClassify, cctGeometry, cctTokenize } from './index.js';
import { countSpecScalars } from '../model-spec.js';
import { disposeTensors } from '../tensor-map.js';
import type { ModelState } from '../types.js';

beforeAll(async () => {
  await useTestBackend();
});

/**
 * Parameter count derived by hand from the reference code (src/cct.py, utils/tokenizer.py,
 * utils/transformers.py): tokenizer convs without bias, learnable positional embedding [1, T, D],
 * per block pre_norm 2D + qkv 3D² + proj D²+D + linear1 DF+F + norm1 2D + linear2 FD+D, then
 * norm 2D, attention_pool D+1, fc D·C+C.
 */
function referenceCount(p: { layers: number; d: number; f: number; convs: [number, number, number][]; tokens: number; classes: number }): number {
  const convs = p.convs.reduce((a, [k, i, o]) => a + k * k * i * o, 0);
  const block = 2 * p.d + 3 * p.d * p.d + p.d * p.d + p.d + p.d * p.f + p.f + 2 * p.d + p.f * p.d + p.d;
  return convs + p.tokens * p.d + p.layers * block + 2 * p.d + p.d + 1 + p.d * p.classes + p.classes;
}



/**
 * The reference TransformerClassifier.forward written out in plain JS doubles (rows = tokens):
 * x += pos; per block x = x + proj(attn(pre_norm(x))); x = norm1(x); x = x + linear2(gelu(linear1(x)));
 * x = norm(x); softmax-pool; fc.
 */
function naiveClassifier(params: Map<string, Float32Array>, tokens: Float32Array, n: number, t: number, d: number, heads: number, layers: number): number[] {
  const P = (name: string) => params.get(name)!;
  const dense = (x: number[][], w: Float32Array, b: Float32Array | undefined, nOut: number) =>
    x.map((row) => Array.from({ length: nOut }, (_, o) => row.reduce((s, v, i) => s + v * w[i * nOut + o]!, b === undefined ? 0 : b[o]!)));
  const ln = (x: number[][], name: string) =>
    x.map((row) => {
      const mu = row.reduce((a, v) => a + v, 0) / row.length;
      const v = row.reduce((a, u) => a + (u - mu) ** 2, 0) / row.length;
      return row.map((u, i) => ((u - mu) / Math.sqrt(v + 1e-5)) * P(`${name}.weight`)[i]! + P(`${name}.bias`)[i]!);
    });
  const softmax = (v: number[]) => {
    const m = Math.max(...v);
    const e = v.map((u) => Math.exp(u - m));
    const s = e.reduce((a, u) => a + u, 0);
    return e.map((u) => u / s);
  };
  const pos = P('classifier.positional_emb');
  let x = Array.from({ length: n * t }, (_, r) => Array.from({ length: d }, (_, c) => tokens[r * d + c]! + pos[(r % t) * d + c]!));
  const dh = d / heads, f = P('classifier.blocks.0.linear1.bias').length;
  for (let j = 0; j < layers; j++) {
    const b = `classifier.blocks.${j}`;
    const qkv = dense(ln(x, `${b}.pre_norm`), P(`${b}.self_attn.qkv.weight`), undefined, 3 * d);
    const merged = x.map(() => new Array<number>(d).fill(0));
    for (let e = 0; e < n; e++)
      for (let h = 0; h < heads; h++)
        for (let i = 0; i < t; i++) {
          const scores = Array.from({ length: t }, (_, k) => {
            let s = 0;
            for (let c = 0; c < dh; c++) s += qkv[e * t + i]![h * dh + c]! * qkv[e * t + k]![d + h * dh + c]!;
            return s / Math.sqrt(dh);
          });
          const a = softmax(scores);
          for (let c = 0; c < dh; c++) merged[e * t + i]![h * dh + c] = a.reduce((s, w, k) => s + w * qkv[e * t + k]![2 * d + h * dh + c]!, 0);
        }
    const attn = dense(merged, P(`${b}.self_attn.proj.weight`), P(`${b}.self_attn.proj.bias`), d);
    x = ln(x.map((row, r) => row.map((v, c) => v + attn[r]![c]!)), `${b}.norm1`);
    const hidden = dense(x, P(`${b}.linear1.weight`), P(`${b}.linear1.bias`), f).map((row) => row.map((v) => 0.5 * v * (1 + erfSeries(v / Math.SQRT2))));
    const mlp = dense(hidden, P(`${b}.linear2.weight`), P(`${b}.linear2.bias`), d);
    x = x.map((row, r) => row.map((v, c) => v + mlp[r]![c]!));
  }
  x = ln(x, 'classifier.norm');
  const scores = dense(x, P('classifier.attention_pool.weight'), P('classifier.attention_pool.bias'), 1).map((r) => r[0]!);
  const pooled: number[][] = [];
  for (let e = 0; e < n; e++) {
    const w = softmax(scores.slice(e * t, (e + 1) * t));
    pooled.push(Array.from({ length: d }, (_, c) => w.reduce((s, wi, i) => s + wi * x[e * t + i]![c]!, 0)));
  }
  const classes = P('classifier.fc.bias').length;
  return dense(pooled, P('classifier.fc.weight'), P('classifier.fc.bias'), classes).flat();
}

describe('cct', () => {
  it('cct_7_3x1_32 has 3,760,139 parameters (16×16 = 256 tokens), cct_2_3x2_32 has 283,723 (spec only)', () => {
    const c7 = cct.parseConfig({ preset: 'cct_7_3x1_32' });
    expect(cctGeometry(c7)).toEqual({ stride: 1, padding: 1, sequenceLength: 256, feedforward: 512 });
    const n7 = countSpecScalars(cct.spec(c7).params);
    expect(n7).toBe(referenceCount({ layers: 7, d: 256, f: 512, convs: [[3, 3, 256]], tokens: 256, classes: 10 }));
    expect(n7).toBe(3760139);
    const c2 = cct.parseConfig({ preset: 'cct_2_3x2_32' });
    expect(cctGeometry(c2).sequenceLength).toBe(64);
    const n2 = countSpecScalars(cct.spec(c2).params);
    expect(n2).toBe(referenceCount({ layers: 2, d: 128, f: 128, convs: [[3, 3, 64], [3, 64, 128]], tokens: 64, classes: 10 }));
    expect(n2).toBe(283723);
    expect(cct.parseConfig({})).toEqual({ ...CCT_PRESETS.cct_7_3x1_32, inputChannels: 3, inputSize: 32, classes: 10 });
  });

  it('uses the reference names, our layouts, and groups each block into attention, norm1 and mlp', () => {
    const spec = cct.spec(cct.parseConfig({ preset: 'cct_2_3x2_32' }));
    const shape = (name: string) => spec.params.find((p) => p.name === name)?.shape;
    expect(shape('tokenizer.conv_layers.0.0.weight')).toEqual([3, 3, 3, 64]);
    expect(shape('tokenizer.conv_layers.1.0.weight')).toEqual([3, 3, 64, 128]);
    expect(shape('classifier.positional_emb')).toEqual([1, 64, 128]);
    expect(shape('classifier.blocks.1.self_attn.qkv.weight')).toEqual([128, 384]);
    expect(shape('classifier.blocks.1.self_attn.qkv.bias')).toBeUndefined();
    expect(shape('classifier.attention_pool.weight')).toEqual([128, 1]);
    expect(shape('classifier.fc.weight')).toEqual([128, 10]);
    expect(spec.buffers).toEqual([]);
    expect(spec.layers.map((l) => l.name)).toEqual([
      'tokenizer.conv_layers.0', 'tokenizer.conv_layers.1', 'classifier.positional_emb',
      'classifier.blocks.0.self_attn', 'classifier.blocks.0.norm1', 'classifier.blocks.0.mlp',
      'classifier.blocks.1.self_attn', 'classifier.blocks.1.norm1', 'classifier.blocks.1.mlp',
      'classifier.norm', 'classifier.attention_pool', 'classifier.fc',
    ]);
    expect(spec.layers[3]!.params).toEqual([
      'classifier.blocks.0.pre_norm.weight', 'classifier.blocks.0.pre_norm.bias', 'classifier.blocks.0.self_attn.qkv.weight',
      'classifier.blocks.0.self_attn.proj.weight', 'classifier.blocks.0.self_attn.proj.bias',
    ]);
    expect(spec.params.find((p) => p.name === 'classifier.positional_emb')!.kind).toBe('embedding');
  });

  it('parseConfig: explicit fields override the preset; errors name the field', () => {
    expect(cct.parseConfig({ preset: 'cct_tiny', classes: 4, inputSize: 16 }).embeddingDim).toBe(16);
    expect(cct.parseConfig({ preset: 'cct_2_3x2_32', layers: 4 }).layers).toBe(4);
    expect(() => cct.parseConfig({ preset: 'cct_99' })).toThrow(/preset must be one of cct_7_3x1_32, cct_2_3x2_32, cct_tiny/);
    expect(() => cct.parseConfig({ embeddingDim: 30 })).toThrow(/embeddingDim 30 must be divisible by heads 4/);
    expect(() => cct.parseConfig({ dropout: 0.1 })).toThrow(/unknown field\(s\) dropout/);
  });

  it('init follows the reference: kaiming-normal convs, trunc-normal(0.02) Linear weights, zero biases, trunc-normal(0.2) positions', () => {
    const config = cct.parseConfig({ preset: 'cct_2_3x2_32' });
    const state = cct.init(config, 1);
    const std = (name: string) => tf.tidy(() => tf.moments(state.params.get(name)!).variance.sqrt()).dataSync()[0]!;
    expect(std('tokenizer.conv_layers.1.0.weight') / Math.sqrt(2 / (9 * 64))).toBeCloseTo(1, 1);
    expect(std('classifier.blocks.0.linear1.weight') / 0.02).toBeCloseTo(1, 1);
    expect(std('classifier.positional_emb') / 0.2).toBeCloseTo(1, 1);
    expect(tf.tidy(() => tf.max(tf.abs(state.params.get('classifier.blocks.1.linear2.bias')!))).dataSync()[0]).toBe(0);
    expect(Array.from(state.params.get('classifier.norm.weight')!.dataSync().slice(0, 3))).toEqual([1, 1, 1]);
    const xavier = cct.init(config, 1, { scheme: 'xavier' });
    const bound = Math.fround(Math.sqrt(6 / (128 + 384)));
    expect(tf.tidy(() => tf.max(tf.abs(xavier.params.get('classifier.blocks.0.self_attn.qkv.weight')!))).dataSync()[0]).toBeLessThanOrEqual(bound);
    disposeTensors(state, xavier);
  });

  const tiny = cct.parseConfig({ preset: 'cct_tiny', inputSize: 8, classes: 3 });

  it('tokenizer equals a naive conv → ReLU → maxpool(3, 2, pad 1) in JS', () => {
    const state = cct.init(tiny, 2);
    const data = normalArray(2 * 8 * 8 * 3, 0, 1, createRandom(3));
    const x = tf.tensor4d(data, [2, 8, 8, 3]);
    const tokens = cctTokenize(tiny, state.params, x);
    expect(tokens.shape).toEqual([2, 4, 16]); // 8 → pool 4 → pool 2: 2×2 tokens
    let maps = { data: Float64Array.from(data), h: 8, c: 3 };
    for (let layer = 0; layer < 2; layer++) {
      const k = state.params.get(`tokenizer.conv_layers.${layer}.0.weight`)!.dataSync();
      const out = layer === 0 ? 8 : 16;
      const s = maps.h;
      const conv = new Float64Array(2 * s * s * out);
      for (let n = 0; n < 2; n++) for (let i = 0; i < s; i++) for (let j = 0; j < s; j++) for (let o = 0; o < out; o++) {
        let v = 0;
        for (let di = 0; di < 3; di++) for (let dj = 0; dj < 3; dj++) {
          const yi = i + di - 1, xj = j + dj - 1;
          if (yi < 0 || yi >= s || xj < 0 || xj >= s) continue;
          for (let c = 0; c < maps.c; c++) v += maps.data[((n * s + yi) * s + xj) * maps.c + c]! * k[((di * 3 + dj) * maps.c + c) * out + o]!;
        }
        conv[((n * s + i) * s + j) * out + o] = Math.max(0, v);
      }
      const p = Math.floor((s - 1) / 2) + 1;
      const pooled = new Float64Array(2 * p * p * out);
      for (let n = 0; n < 2; n++) for (let i = 0; i < p; i++) for (let j = 0; j < p; j++) for (let o = 0; o < out; o++) {
        let m = -Infinity;
        for (let di = -1; di <= 1; di++) for (let dj = -1; dj <= 1; dj++) {
          const yi = 2 * i + di, xj = 2 * j + dj;
          if (yi >= 0 && yi < s && xj >= 0 && xj < s) m = Math.max(m, conv[((n * s + yi) * s + xj) * out + o]!);
        }
        pooled[((n * p + i) * p + j) * out + o] = m;
      }
      maps = { data: pooled, h: p, c: out };
    }
    expect(maxRelativeError(tokens.dataSync(), maps.data)).toBeLessThan(1e-5);
    disposeTensors(state);
    tf.dispose([x, tokens]);
  });


  it('the classifier equals the reference forward written out in plain JS (residual and norm placement)', () => {
    const state = cct.init(tiny, 12);
    // non-trivial norm parameters and biases, so that every term matters
    const random = createRandom(13);
    const params = new Map<string, tf.Tensor>();
    for (const [name, t] of state.params) params.set(name, name.startsWith('classifier.') && !name.endsWith('positional_emb') ? tf.tensor(normalArray(t.size, 0, 0.4, random), t.shape) : t.clone());
    const tokens = tf.tensor3d(normalArray(2 * 4 * 16, 0, 1, random), [2, 4, 16]);
    const { logits, poolWeights } = cctClassify(tiny, params, tokens);
    const plain = new Map([...params].map(([k, t]) => [k, t.dataSync() as Float32Array]));
    const want = naiveClassifier(plain, tokens.dataSync() as Float32Array, 2, 4, 16, 2, 2);
    expect(maxRelativeError(logits.dataSync(), want)).toBeLessThan(1e-4);
    disposeTensors(state, params);
    tf.dispose([tokens, logits, poolWeights]);
  });

  it('the classifier is permutation-invariant in the tokens without positional embedding and not with it', () => {
    const state = cct.init(tiny, 4);
    const tokens = tf.randomNormal<tf.Rank.R3>([2, 4, 16], 0, 1, 'float32', 5);
    const permuted = tf.gather(tokens, tf.tensor1d([2, 0, 3, 1], 'int32'), 1);
    const run = (s: ModelState, t: tf.Tensor3D) => {
      const r = cctClassify(tiny, s.params, t);
      r.poolWeights.dispose();
      return r.logits;
    };
    const withPos = [run(state, tokens), run(state, permuted)];
    expect(maxRelativeError(withPos[0]!.dataSync(), withPos[1]!.dataSync())).toBeGreaterThan(1e-3);
    const params = new Map(state.params);
    const zero = tf.zeros([1, 4, 16]);
    params.set('classifier.positional_emb', zero);
    const noPos = [run({ params, buffers: state.buffers }, tokens), run({ params, buffers: state.buffers }, permuted)];
    expect(maxRelativeError(noPos[0]!.dataSync(), noPos[1]!.dataSync())).toBeLessThan(1e-5);
    disposeTensors(state);
    tf.dispose([tokens, permuted, zero, ...withPos, ...noPos]);
  });

  it('sequence pooling weights are a distribution over the tokens of each example', () => {
    const state = cct.init(tiny, 6);
    const x = tf.randomNormal<tf.Rank.R4>([3, 8, 8, 3], 0, 1, 'float32', 7);
    const tokens = cctTokenize(tiny, state.params, x);
    const { logits, poolWeights } = cctClassify(tiny, state.params, tokens);
    expect(poolWeights.shape).toEqual([3, 4]);
    expect(logits.shape).toEqual([3, 3]);
    for (const s of tf.tidy(() => tf.sum(poolWeights, 1)).dataSync()) expect(s).toBeCloseTo(1, 5);
    expect(Math.min(...poolWeights.dataSync())).toBeGreaterThan(0);
    disposeTensors(state);
    tf.dispose([x, tokens, logits, poolWeights]);
  });

  it('apply: shapes, permuting pixels changes the output, deterministic, no leaks, inputs unchanged', async () => {
    const state = cct.init(tiny, 8);
    const data = normalArray(2 * 8 * 8 * 3, 0, 1, createRandom(9));
    const x = tf.tensor4d(data, [2, 8, 8, 3]);
    // reverse the pixel order of each image
    const flipped = new Float32Array(data.length);
    for (let n = 0; n < 2; n++) for (let p = 0; p < 64; p++) for (let c = 0; c < 3; c++) flipped[(n * 64 + p) * 3 + c] = data[(n * 64 + 63 - p) * 3 + c]!;
    const xf = tf.tensor4d(flipped, [2, 8, 8, 3]);
    const a = cct.apply(tiny, state, x, { training: true });
    const b = cct.apply(tiny, state, x, { training: false }).logits;
    const f = cct.apply(tiny, state, xf, { training: false }).logits;
    expect(a.logits.shape).toEqual([2, 3]);
    expect(a.batchStats.size).toBe(0);
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.logits.dataSync()));
    expect(maxRelativeError(f.dataSync(), b.dataSync())).toBeGreaterThan(1e-4);
    const before = [...state.params].map(([k, t]) => [k, Array.from(t.dataSync())]);
    await expectNoLeakedTensors(() => cct.apply(tiny, state, x, { training: false }).logits.dispose());
    expect([...state.params].map(([k, t]) => [k, Array.from(t.dataSync())])).toEqual(before);
    expect(Array.from(x.dataSync())).toEqual(Array.from(data));
    disposeTensors(state);
    tf.dispose([x, xf, a.logits, b, f]);
  });

  it('gradients exist and are non-zero for every parameter', () => {
    const state = cct.init(tiny, 10);
    const x = tf.randomNormal<tf.Rank.R4>([4, 8, 8, 3], 0, 1, 'float32', 11);
    expectEveryGradientNonZero(cct, tiny, state, x, [0, 1, 2, 0], 3);
    disposeTensors(state);
    x.dispose();
  });
});
