/**
 * The demo (the README's main command): two LeNet5 modes trained on the embedded Fashion-MNIST
 * subset, evaluated, and compared. Checkpoints go to runs/demo/ and are reused when present;
 * a summary goes to figures/demo/summary.json.
 *
 *   npx tsx scripts/demo.ts            (or: npm run demo)
 *   node --loader ts-node/esm scripts/demo.ts
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createProgressBar } from '../src/cli/progress.js';
import { initBackend, backendFromEnv } from '../src/backend/init-backend.js';
import { loadCheckpoint } from '../src/checkpoint/checkpoint.js';
import { checkpointPath, loadTrainingData, trainMode, type TrainModeOptions } from '../src/train/train-mode.js';
import { disposeTensors } from '../src/models/tensor-map.js';
import type { Model } from '../src/models/types.js';

const OUT = 'runs/demo';
const FIGURES = 'figures/demo';
const SEEDS = [1, 2];

const training: TrainModeOptions = {
  architecture: 'lenet5',
  dataset: 'fashion-mnist-small',
  epochs: 12,
  batchSize: 64,
  lr: 0.03,
  optimizer: { kind: 'sgd', momentum: 0.9, weightDecay: 5e-4 },
  schedule: { kind: 'cosine' },
  saveEpochs: [1, 2, 4, 8, 12],
  outDir: OUT,
};

async function main(): Promise<void> {
  const started = performance.now();
  const backend = await initBackend(backendFromEnv());
  console.error(`backend: ${backend.active} (${backend.package})`);
  const data = await loadTrainingData(training.dataset);

  const modes: Model[] = [];
  const summary: Record<string, unknown>[] = [];
  for (const seed of SEEDS) {
    const final = checkpointPath(OUT, seed, training.epochs);
    if (!existsSync(final)) {
      const bar = createProgressBar(`train LeNet5 seed ${seed}`);
      const run = await trainMode(data, seed, {
        ...training,
        progress: (p) => bar.update((p.epoch - 1) * p.stepsPerEpoch + p.step, p.epochs * p.stepsPerEpoch, `epoch ${p.epoch} loss ${p.loss.toFixed(3)}`),
      });
      bar.done();
      disposeTensors(run.model);
    }
    const { model, metadata } = await loadCheckpoint(final);
    modes.push(model);
    summary.push({ seed, checkpoint: final, ...metadata.metrics });
    const accuracy = metadata.metrics?.['testAccuracy'] ?? Number.NaN;
    console.log(`mode seed ${seed}: test accuracy ${(100 * accuracy).toFixed(2)}%  test loss ${(metadata.metrics?.['testLoss'] ?? Number.NaN).toFixed(4)}  (${final})`);
  }

  await mkdir(FIGURES, { recursive: true });
  await writeFile(`${FIGURES}/summary.json`, `${JSON.stringify({ modes: summary, seconds: (performance.now() - started) / 1000 }, null, 2)}\n`);
  disposeTensors(...modes);
  console.log(`demo finished in ${((performance.now() - started) / 1000).toFixed(0)} s; summary in ${FIGURES}/summary.json`);
}

await main();
