/**
 * Figure: LLPF from a LeNet5 mode toward the origin (Tian et al., "Low-loss space in neural
 * networks is continuous and fully connected"): each tick moves every tensor a step
 * max(step_f, step_a·‖θ_l‖) toward 0, then trains until the moving-average training loss is under
 * the threshold. Panels: test/train loss and accuracy per recorded tick (points: the highest loss
 * measured on the segment from the previous recorded point, i.e. continuity), the weight norm
 * ‖θ‖₂ per tick, and loss against weight norm.
 *
 *   npx tsx scripts/figures/llpf-origin-lenet5.ts                          (embedded subset)
 *   npx tsx scripts/figures/llpf-origin-lenet5.ts --dataset fashion-mnist  (issue 4 §7 evidence)
 *   node --loader ts-node/esm scripts/figures/llpf-origin-lenet5.ts
 *
 * Options: --dataset, --epochs, --seeds (the first is the start mode), --ticks 250, --step 0.01
 * (step_a), --lr 0.02, --threshold 0.3, --max-iterations 60, --record-every 25,
 * --segment-points 3, --lr-scaling auto|on|off (scale each weight's lr by its variance ratio; auto =
 * the library default, off for LeNet5), --train-examples 2000, --test-examples, --out, --runs.
 */
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import {
  disposeEvaluationData,
  disposeLlpfRun,
  defaultLrVarianceScaling,
  disposeTensors,
  getArchitecture,
  llpfChart,
  runLlpf,
  saveChart,
  splitBatchSource,
  DEFAULT_PREPROCESSING,
  type LlpfRow,
} from '../../src/index.js';
import { paperConfig, SCHEMA_URL } from '../../src/charts/theme.js';
import { defaultEpochs, evaluationData, int, lenet5Training, loadModes, maxOf, num, outDir, parseOptions, seedList, startBackend, step, writeNumbers } from './common.js';

const values = parseOptions({
  ticks: { type: 'string', default: '250' },
  step: { type: 'string', default: '0.01' },
  lr: { type: 'string', default: '0.02' },
  threshold: { type: 'string', default: '0.3' },
  'max-iterations': { type: 'string', default: '60' },
  'record-every': { type: 'string', default: '25' },
  'segment-points': { type: 'string', default: '3' },
  'lr-scaling': { type: 'string', default: 'auto' },
});
const lrScalingOption = values['lr-scaling'];
if (lrScalingOption !== 'auto' && lrScalingOption !== 'on' && lrScalingOption !== 'off') throw new Error(`--lr-scaling: expected auto, on or off, found "${lrScalingOption}"`);

const started = performance.now();
const dataset = values.dataset;
const epochs = int('epochs', values.epochs, defaultEpochs(dataset));
const out = outDir('llpf-origin-lenet5', values);
const settings = {
  ticks: int('ticks', values.ticks),
  stepAdaptive: num('step', values.step),
  recordEvery: int('record-every', values['record-every']),
  segmentPoints: int('segment-points', values['segment-points']),
  training: { lr: num('lr', values.lr), minIterations: 5, maxIterations: int('max-iterations', values['max-iterations']), lossThreshold: num('threshold', values.threshold) },
};

await startBackend();
const training = lenet5Training(dataset, epochs, values.runs, values['data-dir']);
const seeds = seedList(values.seeds);
const modes = await loadModes(training, [seeds[0] as number]);
const start = modes.models[0];
if (start === undefined) throw new Error('no start mode');
const arch = getArchitecture(start.architecture);
// auto = the library's default: no variance-ratio lr scaling for LeNet5 (no normalization layers).
const lrScaling = lrScalingOption === 'auto' ? defaultLrVarianceScaling(arch.spec(start.config), { kind: 'origin' }) : lrScalingOption === 'on';
const llpfTraining = { ...settings.training, lrVarianceScaling: lrScaling };
const evaluation = evaluationData(modes.data, values);

const dir = join(training.outDir, `llpf-origin-s${seeds[0]}-${settings.ticks}x${settings.stepAdaptive}-lr${settings.training.lr}-th${settings.training.lossThreshold}-it${settings.training.maxIterations}${lrScaling ? '-lrs' : '-nolrs'}`);
const run = await step(`LLPF toward the origin (${settings.ticks} ticks)`, (progress) =>
  runLlpf(arch, start.config, start, { kind: 'origin' }, { train: splitBatchSource(modes.data.train, DEFAULT_PREPROCESSING, { batchSize: 64, seed: 1 }), evaluation }, {
    ...settings,
    training: llpfTraining,
    checkpoint: { directory: dir, every: settings.recordEvery },
    resume: true,
  }, progress),
);
const rows: LlpfRow[] = run.rows;
const iterations = run.iterations;
disposeLlpfRun(run);

// Numbers: norm versus loss at every recorded tick, and the continuity check.
const test = rows.filter((r) => r.split === 'test');
const first = test[0];
const last = test.at(-1);
if (first === undefined || last === undefined) throw new Error('LLPF run recorded no test rows');
const numbers = {
  figure: 'llpf-origin-lenet5',
  dataset,
  startMode: modes.metrics[0],
  settings: { ...settings, training: llpfTraining },
  iterations,
  directory: dir,
  start: { weightNorm: first.weightNorm, testLoss: first.loss, testAccuracy: first.accuracy },
  end: { tick: last.tick, weightNorm: last.weightNorm, normRatio: last.weightNorm / first.weightNorm, testLoss: last.loss, testAccuracy: last.accuracy },
  maxTestLoss: maxOf(test.map((r) => r.loss)),
  maxSegmentTestLoss: maxOf(test.map((r) => r.segmentMaxLoss ?? r.loss)),
  normVersusLoss: test.map((r) => ({ tick: r.tick, weightNorm: r.weightNorm, testLoss: r.loss, testAccuracy: r.accuracy, segmentMaxLoss: r.segmentMaxLoss ?? null })),
  rows,
  seconds: (performance.now() - started) / 1000,
};
await writeNumbers(out, numbers);

/** Loss against weight norm, one point per recorded tick, joined in tick order (the norm falls from right to left). */
function lossVersusNorm(data: readonly LlpfRow[]): TopLevelSpec {
  return {
    $schema: SCHEMA_URL,
    config: paperConfig(),
    title: { text: 'LLPF toward the origin: loss against weight norm', subtitle: '△ highest test loss measured on the segment from the previous recorded point', subtitleFontSize: 12 },
    width: 440,
    height: 280,
    data: { values: data.map((r) => ({ tick: r.tick, split: r.split, weightNorm: r.weightNorm, loss: r.loss, segmentMaxLoss: r.segmentMaxLoss ?? null })) },
    layer: [
      {
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'weightNorm', type: 'quantitative', title: 'weight norm ‖θ‖₂', scale: { zero: false } },
          y: { field: 'loss', type: 'quantitative', title: 'loss (nats, mean cross-entropy)' },
          order: { field: 'tick', type: 'quantitative' },
          color: { field: 'split', type: 'nominal', title: 'split', sort: ['train', 'test'] },
        },
      },
      {
        transform: [{ filter: 'datum.segmentMaxLoss != null && datum.split === "test"' }],
        mark: { type: 'point', shape: 'triangle-up', filled: false, size: 60, color: 'black' },
        encoding: {
          x: { field: 'weightNorm', type: 'quantitative' },
          y: { field: 'segmentMaxLoss', type: 'quantitative' },
        },
      },
    ],
  };
}

await step('charts', async (progress) => {
  await saveChart(llpfChart(rows, { panels: ['loss', 'accuracy', 'weightNorm'] }), join(out, 'llpf-origin-ticks'));
  progress(1, 2, 'ticks');
  await saveChart(lossVersusNorm(rows), join(out, 'loss-vs-norm'));
  progress(2, 2, 'loss vs norm');
});
disposeEvaluationData(evaluation);
disposeTensors(...modes.models);
console.log(
  `LLPF → origin: ‖θ‖ ${first.weightNorm.toFixed(2)} → ${last.weightNorm.toFixed(2)} (×${(last.weightNorm / first.weightNorm).toFixed(3)}), test loss ${first.loss.toFixed(3)} → ${last.loss.toFixed(3)}, accuracy ${(100 * first.accuracy).toFixed(1)}% → ${(100 * last.accuracy).toFixed(1)}%, max segment loss ${numbers.maxSegmentTestLoss.toFixed(3)}; ${numbers.seconds.toFixed(0)} s → ${out}`,
);
