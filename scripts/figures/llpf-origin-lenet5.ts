/**
 * Figure: LLPF from a LeNet5 mode toward the origin (Tian et al., "Low-loss space in neural
 * networks is continuous and fully connected"): each tick moves every tensor a step
 * max(step_f, step_a·‖θ_l‖) toward 0, then trains until the moving-average training loss is under
 * the threshold. The path runs in stages of growing step_a, each from the last point of the one
 * before (one continuous path): with a fixed step the norm settles where the shrinking and the
 * training balance, so a larger step carries it further toward the origin, at a higher loss.
 * Panels: test/train loss and accuracy per recorded tick (points: the highest loss measured on the
 * segment from the previous recorded point, i.e. continuity), the weight norm ‖θ‖₂ per tick, and
 * loss against weight norm, with models trained from scratch under stronger weight decay as an
 * independent reference for the lowest loss reachable at a given norm.
 *
 *   npx tsx scripts/figures/llpf-origin-lenet5.ts                          (embedded subset)
 *   npx tsx scripts/figures/llpf-origin-lenet5.ts --dataset fashion-mnist  (issue 4 §7 evidence)
 *   node --loader ts-node/esm scripts/figures/llpf-origin-lenet5.ts
 *
 * Options: --dataset, --epochs, --seeds (the first is the start mode), --stages
 * 250x0.01,100x0.04,100x0.16 (TICKSxSTEP_A, each a multiple of --record-every), --lr 0.02,
 * --threshold 0.3, --max-iterations 60, --record-every 25, --weight-decay-check 0.01,0.03,0.05 (''
 * for none; the modes' recipe with weight decay λ instead of 5e-4),
 * --segment-points 3, --lr-scaling auto|on|off (scale each weight's lr by its variance ratio; auto =
 * the library default, off for LeNet5), --train-examples 2000, --test-examples, --out, --runs.
 */
import { join } from 'node:path';
import {
  disposeTensors,
  getArchitecture,
  llpfChart,
  saveChart,
  splitBatchSource,
  type LlpfRow,
  type Model,
  type ModelState,
} from '../../src/index.js';
import { disposeLlpfRun, defaultLrVarianceScaling, runLlpf } from '../../src/entry/paths.js';
import { cloneTensors, squaredNorm } from '../../src/entry/models.js';
import { createEvaluator } from '../../src/entry/evaluate.js';
import { lossVersusNorm } from './loss-vs-norm-chart.js';
import { defaultEpochs, evaluationOptions, int, lenet5Training, loadModes, maxOf, num, outDir, parseOptions, seedList, startBackend, step, writeNumbers } from './common.js';

const values = parseOptions({
  lr: { type: 'string', default: '0.02' },
  threshold: { type: 'string', default: '0.3' },
  'max-iterations': { type: 'string', default: '60' },
  'record-every': { type: 'string', default: '25' },
  'segment-points': { type: 'string', default: '3' },
  'lr-scaling': { type: 'string', default: 'auto' },
  stages: { type: 'string', default: '250x0.01,100x0.04,100x0.16' },
  'weight-decay-check': { type: 'string', default: '0.01,0.03,0.05' },
});
const lrScalingOption = values['lr-scaling'];
if (lrScalingOption !== 'auto' && lrScalingOption !== 'on' && lrScalingOption !== 'off') throw new Error(`--lr-scaling: expected auto, on or off, found "${lrScalingOption}"`);

const started = performance.now();
const dataset = values.dataset;
const epochs = int('epochs', values.epochs, defaultEpochs(dataset));
const out = outDir('llpf-origin-lenet5', values);

/** "250x0.01,100x0.04" → stages of (ticks, step_a). */
function parseStages(text: string): { ticks: number; stepAdaptive: number }[] {
  return text.split(',').map((part) => {
    const match = /^(\d+)x([0-9.eE-]+)$/.exec(part.trim());
    const ticks = Number(match?.[1]);
    const stepAdaptive = Number(match?.[2]);
    if (match === null || !(ticks >= 1) || !(stepAdaptive > 0 && stepAdaptive < 1)) throw new Error(`--stages: expected TICKSxSTEP with STEP in (0, 1), e.g. 250x0.01, found "${part}"`);
    return { ticks, stepAdaptive };
  });
}
const stages = parseStages(values.stages);
const weightDecays = values['weight-decay-check'] === '' ? [] : values['weight-decay-check'].split(',').map((w) => num('weight-decay-check', w));
const settings = {
  stages,
  recordEvery: int('record-every', values['record-every']),
  segmentPoints: int('segment-points', values['segment-points']),
  training: { lr: num('lr', values.lr), minIterations: 5, maxIterations: int('max-iterations', values['max-iterations']), lossThreshold: num('threshold', values.threshold) },
};
for (const stage of stages) {
  if (stage.ticks % settings.recordEvery !== 0) throw new Error(`--stages: every stage's ticks must be a multiple of --record-every ${settings.recordEvery}, found ${stage.ticks}`);
}

await startBackend();
const training = lenet5Training(dataset, epochs, values.runs, values['data-dir']);
const seeds = seedList(values.seeds);
const modes = await loadModes(training, [seeds[0] as number], undefined, evaluationOptions(values));
const start = modes.models[0];
if (start === undefined) throw new Error('no start mode');
const arch = getArchitecture(start.architecture);
// auto = the library's default: no variance-ratio lr scaling for LeNet5 (no normalization layers).
const lrScaling = lrScalingOption === 'auto' ? defaultLrVarianceScaling(arch.spec(start.config), { kind: 'origin' }) : lrScalingOption === 'on';
const llpfTraining = { ...settings.training, lrVarianceScaling: lrScaling };
const evaluation = modes.analysis.data;

// The stages run one after another, each from the last point of the one before: one continuous path.
const rows: LlpfRow[] = [];
let iterations = 0;
let from: ModelState = start;
let offset = 0;
let runDir = join(training.outDir, `llpf-origin-s${seeds[0]}-lr${settings.training.lr}-th${settings.training.lossThreshold}-it${settings.training.maxIterations}${lrScaling ? '-lrs' : '-nolrs'}`);
for (const [index, stage] of stages.entries()) {
  runDir = join(runDir, `${stage.ticks}x${stage.stepAdaptive}`);
  const run = await step(`LLPF toward the origin, stage ${index + 1}/${stages.length}: ${stage.ticks} ticks of step_a ${stage.stepAdaptive}`, (progress) =>
    runLlpf(arch, start.config, from, { kind: 'origin' }, { train: splitBatchSource(modes.data.train, modes.analysis.preprocessing, { batchSize: 64, seed: 1 + index }), evaluation }, {
      ticks: stage.ticks,
      stepAdaptive: stage.stepAdaptive,
      recordEvery: settings.recordEvery,
      segmentPoints: settings.segmentPoints,
      training: llpfTraining,
      checkpoint: { directory: runDir, every: settings.recordEvery },
      resume: true,
      progress,
    }),
  );
  // A later stage's tick 0 is the previous stage's last point: keep it once.
  rows.push(...run.rows.filter((r) => index === 0 || r.tick > 0).map((r) => ({ ...r, tick: r.tick + offset })));
  iterations += run.iterations;
  offset += stage.ticks;
  if (from !== start) disposeTensors(from);
  from = { params: cloneTensors(run.current.params), buffers: cloneTensors(run.current.buffers) };
  disposeLlpfRun(run);
}
if (from !== start) disposeTensors(from);

// Independent reference for the norm–loss trade-off: the same recipe as the modes, trained from
// scratch with a stronger weight decay (no LLPF involved), evaluated on the same examples.
const reference: { weightDecay: number; weightNorm: number; testLoss: number; testAccuracy: number }[] = [];
if (weightDecays.length > 0) {
  const evaluator = createEvaluator(arch, start.config, evaluation);
  for (const weightDecay of weightDecays) {
    const options = { ...training, optimizer: { kind: 'sgd' as const, momentum: 0.9, weightDecay }, outDir: `${training.outDir}-wd${weightDecay}` };
    const trained = await loadModes(options, [seeds[0] as number], modes.data);
    const model = trained.models[0] as Model;
    const metrics = await evaluator.evaluate(model);
    reference.push({ weightDecay, weightNorm: Math.sqrt(squaredNorm(model.params)), testLoss: metrics.test?.loss ?? NaN, testAccuracy: metrics.test?.accuracy ?? NaN });
    trained.analysis.dispose();
  }
  evaluator.dispose();
}

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
  directory: runDir,
  start: { weightNorm: first.weightNorm, testLoss: first.loss, testAccuracy: first.accuracy },
  end: { tick: last.tick, weightNorm: last.weightNorm, normRatio: last.weightNorm / first.weightNorm, testLoss: last.loss, testAccuracy: last.accuracy },
  maxTestLoss: maxOf(test.map((r) => r.loss)),
  maxSegmentTestLoss: maxOf(test.map((r) => r.segmentMaxLoss ?? r.loss)),
  normVersusLoss: test.map((r) => ({ tick: r.tick, weightNorm: r.weightNorm, normRatio: r.weightNorm / first.weightNorm, testLoss: r.loss, testAccuracy: r.accuracy, segmentMaxLoss: r.segmentMaxLoss ?? null })),
  weightDecayReference: reference,
  rows,
  seconds: (performance.now() - started) / 1000,
};
await writeNumbers(out, numbers);

await step('charts', async (progress) => {
  await saveChart(llpfChart(rows, { panels: ['loss', 'accuracy', 'weightNorm'] }), join(out, 'llpf-origin-ticks'));
  progress({ task: 'charts', step: 1, total: 2, message: 'ticks' });
  await saveChart(lossVersusNorm(rows, reference), join(out, 'loss-vs-norm'));
  progress({ task: 'charts', step: 2, total: 2, message: 'loss vs norm' });
});
modes.analysis.dispose();
console.log(
  `LLPF → origin: ‖θ‖ ${first.weightNorm.toFixed(2)} → ${last.weightNorm.toFixed(2)} (×${(last.weightNorm / first.weightNorm).toFixed(3)}), test loss ${first.loss.toFixed(3)} → ${last.loss.toFixed(3)}, accuracy ${(100 * first.accuracy).toFixed(1)}% → ${(100 * last.accuracy).toFixed(1)}%, max segment loss ${numbers.maxSegmentTestLoss.toFixed(3)}; ${numbers.seconds.toFixed(0)} s → ${out}`,
);
