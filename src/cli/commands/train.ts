import { parseArgs } from 'node:util';
import { getArchitecture, listArchitectures } from '../../models/registry.js';
import { disposeTensors } from '../../models/tensor-map.js';
import type { OptimizerConfig } from '../../train/optimizer.js';
import { parseSchedule } from '../../train/schedule.js';
import { loadTrainingData, trainMode, validateTrainOptions, type TrainModeOptions } from '../../train/train-mode.js';
import { integerListOption, jsonOption, numberOption, required } from '../args.js';
import { takeSubset } from '../../data/subset.js';
import { assertInputFits, DATA_OPTIONS, DATA_OPTIONS_HELP, dataDirOption, EMBEDDED_DATASET, preprocessingFlags, resolvePreprocessing } from '../data-options.js';
import { checkOutputPaths } from '../output-paths.js';
import { createProgressBar } from '../progress.js';
import { withResumeFlags } from '../resume-message.js';
import { parseWorkers } from './barrier.js';
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

/** Each built-in architecture's config fields with their defaults, from the registry. */
const ARCHITECTURE_CONFIG_HELP = listArchitectures()
  .map((name) => {
    const defaults = getArchitecture(name).defaultConfig as Readonly<Record<string, unknown>>;
    return `                         ${name}: ${Object.entries(defaults).map(([field, value]) => `${field}=${JSON.stringify(value)}`).join(', ')}`;
  })
  .join('\n');

export const trainCommand: Command = {
  summary: 'train independent modes, one per seed, with checkpoints per epoch',
  usage: '--arch A --dataset D --seeds 1,2 --epochs N --out DIR [options]',
  help: `options:
  --arch A             ${listArchitectures().join(' | ')}, or one from --architecture-module (required)
  --config JSON        architecture config, e.g. '{"width":0.25}' or '{"preset":"cct_2_3x2_32"}'; fields (defaults):
${ARCHITECTURE_CONFIG_HELP}
${DATA_OPTIONS_HELP}
  --seeds LIST         seeds, e.g. 1,2 or 1-4 (default 1); each drives init and data order
  --epochs N           epochs (required)
  --batch-size B       default 128
  --optimizer O        sgd (default) | adam
  --lr LR              base learning rate (default 0.05 for sgd, 0.001 for adam)
  --momentum M         sgd momentum (default 0.9)
  --weight-decay WD    L2 weight decay (default 5e-4)
  --schedule S         cosine (default) | constant | garipov | step:SIZE:GAMMA
  --save-epochs LIST   epochs to checkpoint (default every epoch; the last always)
  --init I             pytorch (default) | xavier
  --train-examples N   train on a seeded class-balanced subset of N training images (the same for every seed)
  --test-examples N    evaluate after each epoch on a seeded class-balanced subset of N test images
  --no-resume          start over even when a training state exists
  --workers N|auto     worker threads computing each step data-parallel (default auto: one per
                       core on wasm/cpu; 1: this thread only). BatchNorm models use per-shard batch
                       statistics above 1, as PyTorch DDP does; results are deterministic per N
  --out DIR            output folder (required): DIR/seed-S/epoch-E.safetensors, metrics.json
  --json               print the final metrics as JSON

A rerun of the same command continues: an interrupted seed resumes from its last completed epoch,
a finished seed is skipped. Each seed folder records the recipe (every option above but --out,
--save-epochs, --test-examples and --json); a rerun with another recipe, --epochs included (the
schedule depends on it), is an error naming the differing flags: use --no-resume or another --out.`,
  async run(args, context) {
    const { values } = parseArgs({
      args,
      strict: true,
      options: {
        arch: { type: 'string' },
        config: { type: 'string' },
        ...DATA_OPTIONS,
        seeds: { type: 'string', default: '1' },
        epochs: { type: 'string' },
        'batch-size': { type: 'string' },
        optimizer: { type: 'string', default: 'sgd' },
        lr: { type: 'string' },
        momentum: { type: 'string' },
        'weight-decay': { type: 'string' },
        schedule: { type: 'string', default: 'cosine' },
        'save-epochs': { type: 'string' },
        init: { type: 'string', default: 'pytorch' },
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
    const weightDecay = numberOption(values['weight-decay'], 'weight-decay', { min: 0 }) ?? 5e-4;
    const optimizer: OptimizerConfig =
      kind === 'sgd' ? { kind, momentum: numberOption(values.momentum, 'momentum', { min: 0 }) ?? 0.9, weightDecay } : { kind, weightDecay };
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
      batchSize: numberOption(values['batch-size'], 'batch-size', { integer: true, min: 1 }) ?? 128,
      lr: numberOption(values.lr, 'lr', { min: 0 }) ?? (kind === 'sgd' ? 0.05 : 0.001),
      optimizer,
      schedule: parseSchedule(values.schedule),
      ...(saveEpochs === undefined ? {} : { saveEpochs }),
      outDir: required(values.out, 'out'),
      init: values.init,
      resume: !values['no-resume'],
    };
    validateTrainOptions(options);
    await checkOutputPaths([{ path: options.outDir, kind: 'folder', option: '--out' }]);
    await context.initBackend();
    const workers = parseWorkers(values.workers ?? 'auto');
    const loaded = await loadTrainingData(options.dataset, options.dataDir === undefined ? {} : { dataDir: options.dataDir });
    // Subsets are seeded with 0, not with the training seed: every seed trains on the same images.
    const data = {
      train: trainExamples === undefined ? loaded.train : takeSubset(loaded.train, Math.min(trainExamples, loaded.train.count), 0),
      ...(loaded.test === undefined ? {} : { test: testExamples === undefined ? loaded.test : takeSubset(loaded.test, Math.min(testExamples, loaded.test.count), 0) }),
    };
    const preprocessing = resolvePreprocessing(values, undefined, data.train, 'training');
    const arch = getArchitecture(options.architecture);
    assertInputFits(arch.spec(arch.parseConfig(options.config ?? {})), preprocessing, data.train, options.architecture);
    const summaries = [];
    // Ctrl-C stops at the next step; the last completed epoch stays on disk and a rerun resumes.
    const abort = new AbortController();
    const onSignal = (): void => abort.abort();
    process.once('SIGINT', onSignal);
    for (const seed of seeds) {
      const bar = context.quiet ? undefined : createProgressBar(`seed ${seed}`);
      const result = await withResumeFlags(
        () =>
          trainMode(data, seed, {
            ...options,
            preprocessing,
            workers,
            signal: abort.signal,
            ...(bar === undefined ? {} : { progress: bar.progress }),
          }),
        RECIPE_FLAGS,
        'use --no-resume',
      ).catch((error: unknown) => {
        process.off('SIGINT', onSignal);
        throw error;
      });
      bar?.done();
      if (!result.completed) {
        disposeTensors(result.model);
        process.off('SIGINT', onSignal);
        console.error(`seed ${seed}: interrupted; run the same command again to resume from the last completed epoch`);
        return 130;
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
    process.off('SIGINT', onSignal);
    if (values.json) console.log(JSON.stringify({ runs: summaries }));
    return 0;
  },
};
