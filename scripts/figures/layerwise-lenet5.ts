/**
 * Figure: layer-wise linear mode connectivity of two LeNet5 modes (Adilova et al., ICLR 2024):
 *  1. single-layer interpolation heatmap — test loss with only one layer group at t, the others
 *     from A (left panel) or B (right), next to the full-model barrier;
 *  2. cumulative barriers — midpoint barrier as layer groups are added from the input side, the
 *     output side and in a seeded random order;
 *  3. layer × epoch heatmap — the single-layer barrier of every saved epoch pair.
 *
 *   npx tsx scripts/figures/layerwise-lenet5.ts
 *   node --loader ts-node/esm scripts/figures/layerwise-lenet5.ts --dataset fashion-mnist
 *
 * Options: --dataset, --epochs, --seeds, --points 11, --train-examples 2000 (used for the
 * train rows; the figures show test), --test-examples, --out, --runs.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  barrierMetrics,
  checkpointPath,
  cumulativeBarriers,
  cumulativeChart,
  disposeTensors,
  layerHeatmap,
  layerwiseBarriers,
  saveChart,
  type Model,
} from '../../src/index.js';
import { layerwiseBarriersByEpoch } from '../../src/entry/barriers.js';
import { defaultEpochs, evaluateLinear, evaluationOptions, int, lenet5Training, loadEpochs, loadModes, maxOf, outDir, parseOptions, seedList, startBackend, step, writeNumbers } from './common.js';

const values = parseOptions({ points: { type: 'string', default: '11' } });

const started = performance.now();
const dataset = values.dataset;
const epochs = int('epochs', values.epochs, defaultEpochs(dataset));
const out = outDir('layerwise-lenet5', values);
const points = int('points', values.points);
const seeds = seedList(values.seeds);

await startBackend();
const training = lenet5Training(dataset, epochs, values.runs, values['data-dir']);
const modes = await loadModes(training, seeds, undefined, evaluationOptions({ ...values, 'train-examples': '0' }));
const [a, b] = modes.models as [Model, Model];
const evaluation = modes.analysis.data;
const splits = ['test'] as const;

const linearRows = await step(`full-model linear path (${points} points)`, (progress) => evaluateLinear(a, b, evaluation, { points, splits, progress }));
const layerRows = await step(`single-layer barriers (${points} points)`, (progress) => layerwiseBarriers(a, b, evaluation, { points, splits, progress }));
const cumulativeRows = await step('cumulative barriers', (progress) => cumulativeBarriers(a, b, evaluation, { splits, progress }));

// Layer × epoch: every epoch saved for both seeds.
const savedEpochs = Array.from({ length: epochs }, (_, i) => i + 1).filter((e) => seeds.slice(0, 2).every((s) => existsSync(checkpointPath(training.outDir, s, e))));
const runA = await loadEpochs(training, seeds[0] as number, savedEpochs);
const runB = await loadEpochs(training, seeds[1] as number, savedEpochs);
const epochRows = await step(`single-layer barriers per epoch (${savedEpochs.join(', ')})`, (progress) =>
  layerwiseBarriersByEpoch(runA, runB, evaluation, { epochs: savedEpochs, points: 5, splits, progress }),
);
disposeTensors(...runA, ...runB);

const linear = barrierMetrics(linearRows).find((m) => m.split === 'test');
const perLayer = Object.fromEntries(
  (['A', 'B'] as const).map((rest) => [
    rest,
    Object.fromEntries([...new Set(layerRows.map((r) => r.layer))].map((layer) => [layer, layerRows.find((r) => r.layer === layer && r.rest === rest)?.barrier ?? null])),
  ]),
);
const epochBarriers = savedEpochs.map((epoch) => ({
  epoch,
  ...Object.fromEntries([...new Set(epochRows.map((r) => r.layer))].map((layer) => [layer, epochRows.find((r) => r.layer === layer && r.epoch === epoch && r.rest === 'A')?.barrier ?? null])),
}));
await writeNumbers(out, {
  figure: 'layerwise-lenet5',
  dataset,
  modes: modes.metrics,
  epochs,
  points,
  fullModelTestLossBarrier: linear?.lossBarrier ?? null,
  maxSingleLayerTestLossBarrier: maxOf(layerRows.map((r) => r.barrier ?? -Infinity)),
  singleLayerTestLossBarrier: perLayer,
  cumulative: cumulativeRows.map((r) => ({ order: r.order, step: r.step, addedLayer: r.addedLayer, barrier: r.barrier })),
  singleLayerBarrierByEpoch_restA: epochBarriers,
  layerRows,
  epochRows,
  seconds: (performance.now() - started) / 1000,
});

await step('charts', async (progress) => {
  const charts = [
    ['layer-heatmap', layerHeatmap(layerRows, { split: 'test', value: 'loss' })],
    ['cumulative', cumulativeChart(cumulativeRows, { split: 'test' })],
    ['layer-epoch-heatmap', layerHeatmap(epochRows, { split: 'test', value: 'barrier', x: 'epoch' })],
  ] as const;
  for (const [i, [name, spec]] of charts.entries()) {
    await saveChart(spec, join(out, name));
    progress({ task: 'charts', step: i + 1, total: charts.length, message: name });
  }
});
modes.analysis.dispose();
console.log(
  `full-model test loss barrier ${linear?.lossBarrier.toFixed(3)} nats; largest single-layer barrier ${maxOf(layerRows.map((r) => r.barrier ?? -Infinity)).toFixed(3)}; ${((performance.now() - started) / 1000).toFixed(0)} s → ${out}`,
);
