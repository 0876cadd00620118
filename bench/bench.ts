/**
 * `npm run bench`: images/second of evaluation (forward, eval mode) and training steps (forward,
 * backward, SGD momentum update) for LeNet5, ResNet18 (k = 1 and k = 1/4) and a small CCT on the
 * selected backend, with forward FLOPs per image. Where Debian's python3-torch is installed, the
 * same models run in PyTorch (2 threads) in the same invocation and the table shows the ratio.
 *
 *   npm run bench [-- --backend wasm --seconds 3 --models lenet5,resnet18-k0.25 --no-torch]
 *
 * Writes bench/results/bench-<backend>.json.
 */
import * as tf from '@tensorflow/tfjs-core';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { backendFromEnv, initBackend } from '../src/backend/init-backend.js';
import { createModel, getArchitecture } from '../src/models/registry.js';
import { disposeTensors } from '../src/models/tensor-map.js';
import type { ModelState } from '../src/models/types.js';
import { createOptimizer } from '../src/train/optimizer.js';
import { trainStep } from '../src/train/step.js';
import { forwardFlopsPerImage } from './flops.js';

interface BenchModel {
  readonly id: string;
  readonly architecture: string;
  readonly config: unknown;
  readonly batch: number;
}

const MODELS: readonly BenchModel[] = [
  { id: 'lenet5', architecture: 'lenet5', config: {}, batch: 128 },
  { id: 'resnet18-k0.25', architecture: 'resnet18', config: { width: 0.25 }, batch: 64 },
  { id: 'resnet18-k1', architecture: 'resnet18', config: { width: 1 }, batch: 32 },
  { id: 'cct_2_3x2_32', architecture: 'cct', config: { preset: 'cct_2_3x2_32' }, batch: 64 },
];

export interface BenchRow {
  readonly model: string;
  readonly mode: 'eval' | 'train';
  readonly batch: number;
  readonly flopsPerImage: number;
  readonly imagesPerSecond: number;
  readonly torchImagesPerSecond?: number;
  /** ours / PyTorch. */
  readonly ratio?: number;
}

async function measure(fn: () => void, seconds: number, batch: number): Promise<number> {
  fn();
  fn();
  const start = performance.now();
  let count = 0;
  for (;;) {
    fn();
    count += 1;
    const elapsed = (performance.now() - start) / 1000;
    if (elapsed >= seconds && count >= 3) return (count * batch) / elapsed;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function torchAvailable(): boolean {
  if (!existsSync('/usr/bin/python3')) return false;
  return spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
}

function runTorch(models: readonly BenchModel[], seconds: number): Map<string, number> {
  const out = new Map<string, number>();
  const arg = models.map((m) => `${m.id}:${m.batch}`).join(',');
  const result = spawnSync('/usr/bin/python3', ['bench/torch_bench.py', String(seconds), arg], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (result.status !== 0) {
    console.error(`PyTorch benchmark failed: ${result.stderr}`);
    return out;
  }
  for (const line of result.stdout.split('\n')) {
    if (line.trim() === '') continue;
    const row = JSON.parse(line) as { model: string; mode: string; imagesPerSecond: number };
    out.set(`${row.model}/${row.mode}`, row.imagesPerSecond);
  }
  return out;
}

function formatNumber(n: number | undefined, digits = 0): string {
  return n === undefined || !Number.isFinite(n) ? '—' : n.toFixed(digits);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      backend: { type: 'string' },
      threads: { type: 'string' },
      seconds: { type: 'string', default: '3' },
      models: { type: 'string' },
      'no-torch': { type: 'boolean', default: false },
    },
  });
  const seconds = Number(values.seconds);
  const choice = await initBackend(values.backend ?? backendFromEnv(), values.threads === undefined ? {} : { threads: Number(values.threads) });
  const selected = values.models === undefined ? MODELS : MODELS.filter((m) => values.models?.split(',').includes(m.id));
  console.error(`backend ${choice.active}; ${seconds} s per measurement`);

  const rows: BenchRow[] = [];
  for (const m of selected) {
    const arch = getArchitecture(m.architecture);
    const model = createModel(m.architecture, m.config, 1);
    const [h, w, c] = arch.spec(model.config).inputShape;
    const x = tf.randomUniform<tf.Rank.R4>([m.batch, h, w, c]);
    const y = tf.tensor1d(Array.from({ length: m.batch }, (_, i) => i % 10), 'int32');
    const flops = await forwardFlopsPerImage(arch, model.config, model);
    const evalIps = await measure(() => tf.tidy(() => arch.apply(model.config, model, x, { training: false }).logits.dataSync()), seconds, m.batch);
    rows.push({ model: m.id, mode: 'eval', batch: m.batch, flopsPerImage: flops, imagesPerSecond: evalIps });
    console.error(`  ${m.id} eval ${evalIps.toFixed(0)} images/s`);
    const optimizer = createOptimizer({ kind: 'sgd', momentum: 0.9, weightDecay: 5e-4 });
    let state: ModelState = model;
    const trainIps = await measure(
      () => {
        const result = trainStep(arch, model.config, state, { x, y }, optimizer, 0.01);
        result.loss.dataSync();
        tf.dispose([result.loss, result.correct]);
        disposeTensors(state);
        state = result.state;
      },
      seconds,
      m.batch,
    );
    rows.push({ model: m.id, mode: 'train', batch: m.batch, flopsPerImage: 3 * flops, imagesPerSecond: trainIps });
    console.error(`  ${m.id} train ${trainIps.toFixed(0)} images/s`);
    disposeTensors(state);
    optimizer.dispose();
    tf.dispose([x, y]);
  }

  const torch = !values['no-torch'] && torchAvailable() ? runTorch(selected, seconds) : new Map<string, number>();
  const final = rows.map((r) => {
    const t = torch.get(`${r.model}/${r.mode}`);
    return t === undefined ? r : { ...r, torchImagesPerSecond: t, ratio: r.imagesPerSecond / t };
  });

  console.log(`\nbackend: ${choice.active}   PyTorch: ${torch.size > 0 ? '2 threads, same machine, same run' : 'not available'}\n`);
  console.log('| model | mode | batch | GFLOPs/image | images/s | PyTorch images/s | ratio |');
  console.log('|---|---|---:|---:|---:|---:|---:|');
  for (const r of final) {
    console.log(
      `| ${r.model} | ${r.mode} | ${r.batch} | ${(r.flopsPerImage / 1e9).toFixed(4)} | ${formatNumber(r.imagesPerSecond)} | ${formatNumber(r.torchImagesPerSecond)} | ${formatNumber(r.ratio, 2)} |`,
    );
  }
  await mkdir('bench/results', { recursive: true });
  const file = `bench/results/bench-${choice.active}.json`;
  await writeFile(file, `${JSON.stringify({ backend: choice.active, date: new Date().toISOString(), seconds, rows: final }, null, 2)}\n`);
  console.log(`\n${file}`);
}

await main();
