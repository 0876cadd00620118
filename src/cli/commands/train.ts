import { getArchitecture } from '../../models/registry.js';
import { disposeTensors } from '../../models/tensor-map.js';
import type { OptimizerConfig } from '../../train/optimizer.js';
import { parseSchedule } from '../../train/schedule.js';
import { loadTrainingData, trainMode, validateTrainOptions, type EpochMetrics, type TrainModeOptions } from '../../train/train-mode.js';
import { integerListOption, jsonOption, numberOption, parseArgs, required } from '../args.js';
import { takeSubset } from '../../data/subset.js';
import { architecturesHelp } from '../architectures-help.js';
import { assertInputFits, DATA_OPTIONS, DATA_OPTIONS_HELP, dataDirOption, EMBEDDED_DATASET, preprocessingFlags, resolvePreprocessing } from '../data-options.js';
import { checkOutputPaths } from '../output-paths.js';
import { inFlagTermsSync } from '../option-flags.js';
import { createProgressBar } from '../progress.js';
import { INTERRUPTED, withInterrupt } from '../interrupt.js';
import { withResumeFlags } from '../resume-message.js';
import { checkWorkersOption, parseWorkers } from './barrier.js';
import type { Command } from './command.js';

/** The flags behind each field of the training recipe (src/train/train-mode.ts), for resume errors. */
const RECIPE_FLAGS: Readonly<Record<string, string>> = {
  architecture: '--arch',
  config: '--config',
  dataset: '--dataset',
  trainExamples: '--train-examples',
  preprocessing: '--normalize/--pad-to/--channels',
  epochs: '--epochs',
  batchSize: '--batch-size',
  lr: '--lr',
  optimizer: '--optimizer/--momentum/--weight-decay',
  schedule: '--schedule',
  init: '--init',
  seed: '--seeds',
};

/** The defaults the code below uses, shown in the help from here. */
const DEFAULTS = { seeds: '1', 'batch-size': 128, optimizer: 'sgd', momentum: 0.9, 'weight-decay': 5e-4, schedule: 'cosine', init: 'pytorch', workers: 'auto' } as const;
/** The base learning rate by optimizer. */
const DEFAULT_LR = { sgd: 0.05, adam: 0.001 } as const;

export const trainCommand: Command = {
  summary: 'train independent modes, one per seed, with checkpoints per epoch',
  usage: '--arch A --dataset D --seeds 1,2 --epochs N --out DIR [options]',
  // A getter, so that the list is the registry's when the help is printed.
  get help() {
    return `options:
  --arch A             a registered architecture, or one from --architecture-module (required);
                       the built-ins and their config fields with defaults:
${architecturesHelp()}
  --config JSON        architecture config, e.g. '{"width":0.25}' or '{"preset":"cct_2_3x2_32"}'
${DATA_OPTIONS_HELP}
  --seeds LIST         seeds, e.g. 1,2 or 1-4 (default ${DEFAULTS.seeds}); each drives init and data order
  --epochs N           epochs (required)
  --batch-size B       (default ${DEFAULTS['batch-size']})
  --optimizer O        sgd | adam (default ${DEFAULTS.optimizer})
  --lr LR              base learning rate (${DEFAULT_LR.sgd} for sgd, ${DEFAULT_LR.adam} for adam)
  --momentum M         sgd momentum (default ${DEFAULTS.momentum})
  --weight-decay WD    L2 weight decay (default ${DEFAULTS['weight-decay']})
  --schedule S         cosine | constant | garipov | step:SIZE:GAMMA (default ${DEFAULTS.schedule})
  --save-epochs LIST   epochs to checkpoint (default every epoch; the last always)
  --init I             pytorch | xavier (default ${DEFAULTS.init})
  --train-examples N   train on a seeded class-balanced subset of N training images (the same for every seed)
  --test-examples N    evaluate after each epoch on a seeded class-balanced subset of N test images
  --no-resume          start over even when a training state exists
  --workers N|auto     worker threads computing each step data-parallel (default ${DEFAULTS.workers}: one per
                       core on wasm/cpu; 1: this thread only). BatchNorm models use per-shard batch
                       statistics above 1, as PyTorch DDP does; results are deterministic per N
  --out DIR            output folder (required): DIR/seed-S/epoch-E.safetensors, metrics.json
  --json               print the final metrics as JSON

A rerun of the same command continues: an interrupted seed resumes from its last completed epoch,
a finished seed is skipped. Each seed folder records the recipe (every option above but --out,
--save-epochs, --test-examples and --json); a rerun with another recipe, --epochs included (the
schedule depends on it), is an error naming the differing flags: use --no-resume or another --out.`;
  },
  defaults: { '': DEFAULTS },
  async run(args, context) {
    const { values } = parseArgs({
      args,
      strict: true,
      options: {
        arch: { type: 'string' },
        config: { type: 'string' },
        ...DATA_OPTIONS,
        seeds: { type: 'string', default: DEFAULTS.seeds },
        epochs: { type: 'string' },
        'batch-size': { type: 'string' },
        optimizer: { type: 'string', default: DEFAULTS.optimizer },
        lr: { type: 'string' },
        momentum: { type: 'string' },
        'weight-decay': { type: 'string' },
        schedule: { type: 'string', default: DEFAULTS.schedule },
        'save-epochs': { type: 'string' },
        init: { type: 'string', default: DEFAULTS.init },
        'train-examples': { type: 'string' },
        'test-examples': { type: 'string' },
        'no-resume': { type: 'boolean', default: false },
        workers: { type: 'string' },
        out: { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    });
    const kind = values.optimizer;
    if (kind !== 'sgd' && kind !== 'adam') throw new Error(`--optimizer: expected sgd or adam, found "${kind}"`);
    if (values.init !== 'pytorch' && values.init !== 'xavier') throw new Error(`--init: expected pytorch or xavier, found "${values.init}"`);
    const weightDecay = numberOption(values['weight-decay'], 'weight-decay', { min: 0 }) ?? DEFAULTS['weight-decay'];
    const optimizer: OptimizerConfig =
      kind === 'sgd' ? { kind, momentum: numberOption(values.momentum, 'momentum', { min: 0 }) ?? DEFAULTS.momentum, weightDecay } : { kind, weightDecay };
    preprocessingFlags(values);
    const dataset = values.dataset ?? EMBEDDED_DATASET;
    const dataDir = dataDirOption(dataset, values['data-dir']).dataDir;
    const trainExamples = numberOption(values['train-examples'], 'train-examples', { integer: true, min: 1 });
    const testExamples = numberOption(values['test-examples'], 'test-examples', { integer: true, min: 1 });
    const seeds = integerListOption(values.seeds, 'seeds') ?? [1];
    const saveEpochs = integerListOption(values['save-epochs'], 'save-epochs');
    const options: TrainModeOptions = {
      architecture: required(values.arch, 'arch'),
      ...(values.config === undefined ? {} : { config: jsonOption(values.config, 'config') }),
      dataset,
      ...(dataDir === undefined ? {} : { dataDir }),
      epochs: required(numberOption(values.epochs, 'epochs', { integer: true, min: 1 }), 'epochs'),
      batchSize: numberOption(values['batch-size'], 'batch-size', { integer: true, min: 1 }) ?? DEFAULTS['batch-size'],
      lr: numberOption(values.lr, 'lr', { min: 0 }) ?? DEFAULT_LR[kind],
      optimizer,
      schedule: parseSchedule(values.schedule),
      ...(saveEpochs === undefined ? {} : { saveEpochs }),
      outDir: required(values.out, 'out'),
      init: values.init,
      resume: !values['no-resume'],
    };
    inFlagTermsSync(() => validateTrainOptions(options));
    await checkOutputPaths([{ path: options.outDir, kind: 'folder', option: '--out' }]);
    checkWorkersOption(values.workers);
    await context.initBackend();
    const workers = parseWorkers(values.workers ?? DEFAULTS.workers);
    const loaded = await loadTrainingData(options.dataset, options.dataDir === undefined ? {} : { dataDir: options.dataDir });
    // Subsets are seeded with 0, not with the training seed: every seed trains on the same images.
    const data = {
      train: trainExamples === undefined ? loaded.train : takeSubset(loaded.train, Math.min(trainExamples, loaded.train.count), 0),
      ...(loaded.test === undefined ? {} : { test: testExamples === undefined ? loaded.test : takeSubset(loaded.test, Math.min(testExamples, loaded.test.count), 0) }),
    };
    const preprocessing = resolvePreprocessing(values, undefined, data.train, 'training');
    const arch = getArchitecture(options.architecture);
    assertInputFits(arch.spec(arch.parseConfig(options.config ?? {})), preprocessing, data.train, options.architecture);
    const summaries: object[] = [];
    // Ctrl-C stops at the next step; the last completed epoch stays on disk and a rerun resumes.
    const code = await withInterrupt(async (signal) => {
      for (const seed of seeds) {
        // On a terminal a progress bar; otherwise (a log, CI) one line per epoch on stderr.
        const bar = context.quiet || process.stderr.isTTY !== true ? undefined : createProgressBar(`seed ${seed}`);
        const log = context.quiet || bar !== undefined ? undefined : (m: EpochMetrics): void => console.error(formatEpochLine(m, options.epochs));
        const result = await withResumeFlags(
          () =>
            trainMode(data, seed, {
              ...options,
              preprocessing,
              workers,
              signal,
              ...(bar === undefined ? {} : { progress: bar.progress }),
              ...(log === undefined ? {} : { onEpoch: log }),
            }),
          RECIPE_FLAGS,
          'use --no-resume',
        );
        bar?.done();
        if (!result.completed) {
          disposeTensors(result.model);
          console.error(`seed ${seed}: interrupted; run the same command again to resume from the last completed epoch`);
          return INTERRUPTED;
        }
        const last = result.metrics[result.metrics.length - 1];
        disposeTensors(result.model);
        summaries.push({ seed, checkpoints: Object.fromEntries(result.checkpoints), final: last, ...(result.alreadyFinished === true ? { alreadyFinished: true } : {}) });
        if (!values.json && last !== undefined) {
          const test = last.testAccuracy === undefined ? '' : ` test loss ${last.testLoss?.toFixed(4)} accuracy ${(last.testAccuracy * 100).toFixed(2)}%`;
          const finished = result.alreadyFinished === true ? 'already finished, ' : '';
          console.log(`seed ${seed}: ${finished}epoch ${last.epoch} train loss ${last.trainLoss.toFixed(4)}${test} (${last.imagesPerSecond.toFixed(0)} images/s) → ${result.checkpoints.get(last.epoch) ?? ''}`);
        }
      }
      return 0;
    });
    if (code !== 0) return code;
    if (values.json) console.log(JSON.stringify({ runs: summaries }));
    return 0;
  },
};

/** The line `train` logs per epoch without a terminal: `seed 1 epoch 3/10: train loss 0.4123 accuracy 85.20%, test loss … (2.1 s)`. */
export function formatEpochLine(m: EpochMetrics, epochs: number): string {
  const test = m.testLoss === undefined || m.testAccuracy === undefined ? '' : `, test loss ${m.testLoss.toFixed(4)} accuracy ${(100 * m.testAccuracy).toFixed(2)}%`;
  return `seed ${m.seed} epoch ${m.epoch}/${epochs}: train loss ${m.trainLoss.toFixed(4)} accuracy ${(100 * m.trainAccuracy).toFixed(2)}%${test} (${m.seconds.toFixed(1)} s)`;
}
