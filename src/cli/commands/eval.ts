import { createEvaluator } from '../../evaluate/evaluate.js';
import { loadCheckpoint } from '../../checkpoint/checkpoint.js';
import { createEvaluationData, DEFAULT_BN_BATCHES, disposeEvaluationData } from '../../evaluate/evaluation-data.js';
import { loadDataset } from '../../data/datasets.js';
import { SPLIT_NAMES, type SplitName } from '../../data/types.js';
import { getArchitecture } from '../../models/registry.js';
import { disposeTensors } from '../../models/tensor-map.js';
import { jsonOption, numberOption, parseArgs, required } from '../args.js';
import { BN_OPTIONS_HELP } from '../endpoints.js';
import { assertInputFits, DATA_OPTIONS, DATA_OPTIONS_HELP, dataDirOption, EMBEDDED_DATASET, preprocessingFlags, resolvePreprocessing } from '../data-options.js';
import type { Command } from './command.js';

/** The defaults the code below uses, shown in the help from here. */
const DEFAULTS = { split: 'test', 'batch-size': 1000, 'bn-batches': DEFAULT_BN_BATCHES } as const;

export const evalCommand: Command = {
  summary: 'evaluate a checkpoint: mean cross-entropy and accuracy on a split',
  usage: 'CHECKPOINT [--arch A] [--dataset D] [--split train|test] [--json]',
  help: `CHECKPOINT is a native checkpoint or a PyTorch state dict saved as safetensors.

options:
  --arch A             architecture of a foreign checkpoint (default: from its tensor names)
  --config JSON        config fields of a foreign checkpoint (default: inferred from shapes)
${DATA_OPTIONS_HELP}
                       (native checkpoints carry their dataset and preprocessing)
  --split S            test | train (default ${DEFAULTS.split})
  --batch-size B       evaluation batch size (default ${DEFAULTS['batch-size']})
  --train-examples N   with --split train: a seeded class-balanced subset of N training images
  --test-examples N    a seeded class-balanced subset of N test images (the same as barrier's and path's)
${BN_OPTIONS_HELP}
  --json               print {"loss","accuracy","examples",...} as JSON`,
  defaults: { '': DEFAULTS },
  async run(args, context) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        arch: { type: 'string' },
        config: { type: 'string' },
        ...DATA_OPTIONS,
        split: { type: 'string', default: DEFAULTS.split },
        'batch-size': { type: 'string' },
        'train-examples': { type: 'string' },
        'test-examples': { type: 'string' },
        'bn-batches': { type: 'string' },
        'no-bn-reset': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
      },
    });
    const path = required(positionals[0], 'CHECKPOINT (positional)');
    if (positionals.length > 1) throw new Error(`expected one checkpoint, found ${positionals.length}: ${positionals.join(' ')}`);
    const split = values.split as SplitName;
    if (!SPLIT_NAMES.includes(split)) throw new Error(`--split: expected train or test, found "${values.split}"`);
    const batchSize = numberOption(values['batch-size'], 'batch-size', { integer: true, min: 1 }) ?? DEFAULTS['batch-size'];
    const trainExamples = numberOption(values['train-examples'], 'train-examples', { integer: true, min: 1 });
    const testExamples = numberOption(values['test-examples'], 'test-examples', { integer: true, min: 1 });
    const bnBatchCount = numberOption(values['bn-batches'], 'bn-batches', { integer: true, min: 1 }) ?? DEFAULTS['bn-batches'];
    preprocessingFlags(values);
    const config = jsonOption(values.config, 'config');
    await context.initBackend();
    const { model, metadata } = await loadCheckpoint(path, {
      ...(values.arch === undefined ? {} : { architecture: values.arch }),
      ...(config === undefined ? {} : { config }),
    });
    try {
      const dataset = values.dataset ?? metadata.dataset ?? EMBEDDED_DATASET;
      const loadOptions = dataDirOption(dataset, values['data-dir']);
      const arch = getArchitecture(model.architecture);
      const spec = arch.spec(model.config);
      // BatchNorm statistics are re-estimated on training batches, as in barrier and path (openAnalysis).
      const bnReset = spec.buffers.length > 0 && !values['no-bn-reset'];
      const needTrain = bnReset || (values.normalize === 'standardize' && metadata.preprocessing === undefined) || split === 'train';
      const train = needTrain ? await loadDataset(dataset, 'train', loadOptions) : undefined;
      const data = split === 'train' && train !== undefined ? train : await loadDataset(dataset, split, loadOptions);
      const preprocessing = resolvePreprocessing(values, metadata.preprocessing ?? undefined, train, path);
      assertInputFits(spec, preprocessing, data, `${path} (${model.architecture})`);
      const evaluation = createEvaluationData(
        { ...(train === undefined ? {} : { train }), ...(split === 'test' ? { test: data } : {}), evaluateTrain: split === 'train' },
        preprocessing,
        {
          batchSize,
          bnBatches: bnReset ? bnBatchCount : 0,
          ...(trainExamples === undefined ? {} : { trainExamples }),
          ...(testExamples === undefined ? {} : { testExamples }),
        },
      );
      const evaluator = createEvaluator(arch, model.config, evaluation, { bnReset });
      const result = await evaluator.evaluate(model).then((r) => r[split]).finally(() => {
        evaluator.dispose();
        disposeEvaluationData(evaluation);
      });
      if (result === undefined) throw new Error(`no ${split} result`);
      const out = { checkpoint: path, architecture: model.architecture, dataset, split, loss: result.loss, accuracy: result.accuracy, examples: result.count };
      if (values.json) console.log(JSON.stringify(out));
      else console.log(`${path}: ${dataset}/${split} loss ${result.loss.toFixed(4)} accuracy ${(100 * result.accuracy).toFixed(2)}% (${result.count} examples)`);
      return 0;
    } finally {
      disposeTensors(model);
    }
  },
};
