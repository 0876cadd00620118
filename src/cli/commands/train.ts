import { parseArgs } from 'node:util';
import { getArchitecture } from '../../models/registry.js';
import { disposeTensors } from '../../models/tensor-map.js';
import type { OptimizerConfig } from '../../train/optimizer.js';
import { parseSchedule } from '../../train/schedule.js';
import { loadTrainingData, trainMode, validateTrainOptions, type TrainModeOptions } from '../../train/train-mode.js';
import { integerListOption, jsonOption, numberOption, required } from '../args.js';
import { assertInputFits, DATA_OPTIONS, DATA_OPTIONS_HELP, preprocessingFlags, resolvePreprocessing } from '../data-options.js';
import { createProgressBar } from '../progress.js';
import { parseWorkers } from './barrier.js';
import type { Command } from './command.js';

export const trainCommand: Command = {
  summary: 'train independent modes, one per seed, with checkpoints per epoch',
  usage: '--arch A --dataset D --seeds 1,2 --epochs N --out DIR [options]',
  help: `options:
  --arch A             lenet5 | resnet18 | cct (required)
  --config JSON        architecture config, e.g. '{"width":0.25}' or '{"preset":"cct_2_3x2_32"}'
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
  --no-resume          start over even when a training state exists
  --workers N|auto     worker threads computing each step data-parallel (default auto: one per
                       core on wasm/cpu; 1: this thread only). BatchNorm models use per-shard batch
                       statistics above 1, as PyTorch DDP does; results are deterministic per N
  --out DIR            output folder (required): DIR/seed-S/epoch-E.safetensors, metrics.json
  --json               print the final metrics as JSON`,
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
    const dataset = values.dataset ?? 'fashion-mnist-small';
    const seeds = integerListOption(values.seeds, 'seeds') ?? [1];
    const saveEpochs = integerListOption(values['save-epochs'], 'save-epochs');
    const options: TrainModeOptions = {
      architecture: required(values.arch, 'arch'),
      ...(values.config === undefined ? {} : { config: jsonOption(values.config, 'config') }),
      dataset,
      ...(values['data-dir'] === undefined ? {} : { dataDir: values['data-dir'] }),
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
    await context.initBackend();
    const workers = parseWorkers(values.workers ?? 'auto');
    const data = await loadTrainingData(options.dataset, options.dataDir === undefined ? {} : { dataDir: options.dataDir });
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
      const result = await trainMode(data, seed, {
        ...options,
        preprocessing,
        workers,
        signal: abort.signal,
        progress: (p) => bar?.update((p.epoch - 1) * p.stepsPerEpoch + p.step, p.epochs * p.stepsPerEpoch, `epoch ${p.epoch}/${p.epochs} loss ${p.loss.toFixed(4)}`),
      });
      bar?.done();
      if (!result.completed) {
        disposeTensors(result.model);
        console.error(`seed ${seed}: interrupted; run the same command again to resume from the last completed epoch`);
        return 130;
      }
      const last = result.metrics[result.metrics.length - 1];
      disposeTensors(result.model);
      summaries.push({ seed, checkpoints: Object.fromEntries(result.checkpoints), final: last });
      if (!values.json && last !== undefined) {
        const test = last.testAccuracy === undefined ? '' : ` test loss ${last.testLoss?.toFixed(4)} accuracy ${(last.testAccuracy * 100).toFixed(2)}%`;
        console.log(`seed ${seed}: epoch ${last.epoch} train loss ${last.trainLoss.toFixed(4)}${test} (${last.imagesPerSecond.toFixed(0)} images/s) → ${result.checkpoints.get(last.epoch) ?? ''}`);
      }
    }
    process.off('SIGINT', onSignal);
    if (values.json) console.log(JSON.stringify({ runs: summaries }));
    return 0;
  },
};
