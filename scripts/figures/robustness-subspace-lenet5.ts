/**
 * Figure: why the interpolation direction is special (Adilova et al., ICLR 2024):
 *  1. robustness — layer l of A moved along the interpolation direction θ_B^l − θ_A^l versus along
 *     random Gaussian directions of the same norm (5 samples), test loss against the step t;
 *  2. subspaces — the whole of A perturbed along the interpolation direction, a random direction
 *     in the span of the saved training checkpoints of both runs, and a random direction in its
 *     orthogonal complement (null space), test loss against the magnitude (relative to ‖θ_B − θ_A‖).
 *
 *   npx tsx scripts/figures/robustness-subspace-lenet5.ts
 *   node --loader ts-node/esm scripts/figures/robustness-subspace-lenet5.ts --samples 3
 *
 * Options: --dataset, --epochs, --seeds, --points 6, --samples 5, --test-examples, --out, --runs.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  checkpointPath,
  disposeTensors,
  saveChart,
  type Model,
} from '../../src/index.js';
import type { RobustnessRow, SubspaceRow } from '../../src/entry/barriers.js';
import { layerRobustness, subspacePerturbations } from '../../src/entry/barriers.js';
import { robustnessChart, subspaceChart } from '../../src/entry/charts.js';
import { defaultEpochs, evaluationOptions, int, lenet5Training, loadEpochs, loadModes, outDir, parseOptions, seedList, startBackend, step, writeNumbers } from './common.js';

const values = parseOptions({ points: { type: 'string', default: '6' }, samples: { type: 'string', default: '5' } });

const started = performance.now();
const dataset = values.dataset;
const epochs = int('epochs', values.epochs, defaultEpochs(dataset));
const out = outDir('robustness-subspace-lenet5', values);
const samples = int('samples', values.samples);
const seeds = seedList(values.seeds);
const splits = ['test'] as const;

await startBackend();
const training = lenet5Training(dataset, epochs, values.runs, values['data-dir']);
const modes = await loadModes(training, seeds, undefined, evaluationOptions({ ...values, 'train-examples': '0' }));
const [a, b] = modes.models as [Model, Model];
const evaluation = modes.analysis.data;

const robustness = await step(`robustness (${samples} random directions per layer)`, (progress) =>
  layerRobustness(a, b, evaluation, { points: int('points', values.points), samples, splits, progress }),
);

// Training subspace: every saved checkpoint of both runs (final ones included).
const saved = Array.from({ length: epochs }, (_, i) => i + 1);
const checkpoints: Model[] = [];
for (const seed of seeds.slice(0, 2)) checkpoints.push(...(await loadEpochs(training, seed, saved.filter((e) => existsSync(checkpointPath(training.outDir, seed, e))))));
const subspace = await step(`subspace directions (${checkpoints.length} checkpoints span the training subspace)`, (progress) =>
  subspacePerturbations(a, b, checkpoints, evaluation, { samples, splits, progress }),
);
disposeTensors(...checkpoints);

/** Mean test loss over samples per (key, x). */
function meanBy<R>(rows: readonly R[], key: (r: R) => string, x: (r: R) => number, y: (r: R) => number): Record<string, Record<string, number>> {
  const sums = new Map<string, Map<number, [number, number]>>();
  for (const r of rows) {
    const k = key(r);
    const inner = sums.get(k) ?? new Map<number, [number, number]>();
    const [s, n] = inner.get(x(r)) ?? [0, 0];
    inner.set(x(r), [s + y(r), n + 1]);
    sums.set(k, inner);
  }
  return Object.fromEntries([...sums].map(([k, inner]) => [k, Object.fromEntries([...inner].map(([xv, [s, n]]) => [String(xv), s / n]))]));
}

await writeNumbers(out, {
  figure: 'robustness-subspace-lenet5',
  dataset,
  modes: modes.metrics,
  epochs,
  samples,
  trainingSubspaceCheckpoints: checkpoints.length,
  robustnessMeanTestLoss: meanBy<RobustnessRow>(robustness, (r) => `${r.layer} ${r.direction}`, (r) => r.t, (r) => r.loss),
  subspaceMeanTestLoss: meanBy<SubspaceRow>(subspace, (r) => r.direction, (r) => r.magnitude, (r) => r.loss),
  robustness,
  subspace,
  seconds: (performance.now() - started) / 1000,
});
await step('charts', async (progress) => {
  await saveChart(robustnessChart(robustness, { split: 'test' }), join(out, 'robustness'));
  progress({ task: 'charts', step: 1, total: 2, message: 'robustness' });
  await saveChart(subspaceChart(subspace, { split: 'test', log: true }), join(out, 'subspace'));
  progress({ task: 'charts', step: 2, total: 2, message: 'subspace' });
});
modes.analysis.dispose();
const sub = meanBy<SubspaceRow>(subspace, (r) => r.direction, (r) => r.magnitude, (r) => r.loss);
const peak = (byMagnitude: Record<string, number>) => Object.entries(byMagnitude).reduce((best, [m, loss]) => (loss > best[1] ? [m, loss] : best), ['', -Infinity] as [string, number]);
console.log(
  `subspace, highest mean test loss over magnitudes: ${Object.entries(sub).map(([k, v]) => `${k} ${peak(v)[1].toFixed(3)} (at ${peak(v)[0]})`).join(', ')}; ` +
    `${((performance.now() - started) / 1000).toFixed(0)} s → ${out}`,
);
