import { loadCheckpoint, saveCheckpoint } from '../../checkpoint/checkpoint.js';
import { savePyTorchStateDict } from '../../checkpoint/pytorch.js';
import type { CheckpointMetadata } from '../../checkpoint/metadata.js';
import { loadTfjsLayersModel } from '../../checkpoint/tfjs-layers.js';
import type { LeNet5Config } from '../../models/lenet5/index.js';
import { disposeTensors } from '../../models/tensor-map.js';
import { namingsHelp, pytorchNamings } from '../architectures-help.js';
import { jsonOption, parseArgs, required } from '../args.js';
import { preprocessingFlags } from '../data-options.js';
import { checkOutputPaths } from '../output-paths.js';
import type { Command } from './command.js';

export const convertCommand: Command = {
  summary: 'convert between native checkpoints and PyTorch state dicts (safetensors)',
  usage: 'INPUT OUTPUT [--to native|pytorch] [--arch A] [--naming N]',
  help: `INPUT is a native checkpoint, a PyTorch state dict saved as safetensors, or a tfjs LayersModel
(model.json with its weight shards; a Sequential LeNet5).

options:
  --to F          native (default) | pytorch
  --arch A        architecture of a foreign input (default: from its tensor names)
  --config JSON   config fields of a foreign input (default: inferred from shapes)
  --naming N      PyTorch names when writing, for the architectures with several namings
                  (${namingsHelp()}); the other architectures have one naming
  --dataset D     dataset to record in a native output
  --normalize N, --pad-to S, --channels C
                  preprocessing to record in a native output (a checkpoint is only meaningful
                  with the preprocessing it was trained with)`,
  async run(args, context) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        to: { type: 'string', default: 'native' },
        arch: { type: 'string' },
        config: { type: 'string' },
        naming: { type: 'string' },
        dataset: { type: 'string' },
        normalize: { type: 'string' },
        'pad-to': { type: 'string' },
        channels: { type: 'string' },
      },
    });
    const input = required(positionals[0], 'INPUT (positional)');
    const output = required(positionals[1], 'OUTPUT (positional)');
    if (values.to !== 'native' && values.to !== 'pytorch') throw new Error(`--to: expected native or pytorch, found "${values.to}"`);
    const namings = [...new Set(pytorchNamings().flatMap((a) => a.namings))];
    if (values.naming !== undefined && !namings.includes(values.naming)) throw new Error(`--naming: expected one of ${namings.join(', ')} (${namingsHelp()}), found "${values.naming}"`);
    const flags = preprocessingFlags(values);
    await checkOutputPaths([{ path: output, kind: 'file', option: 'OUTPUT' }]);
    const config = jsonOption(values.config, 'config');
    await context.initBackend();
    const { model, metadata } = input.endsWith('.json')
      ? { model: (await loadTfjsLayersModel(input, config === undefined ? {} : { config: config as Partial<LeNet5Config> })).model, metadata: {} as Partial<CheckpointMetadata> }
      : await loadCheckpoint(input, {
          ...(values.arch === undefined ? {} : { architecture: values.arch }),
          ...(config === undefined ? {} : { config }),
        });
    try {
      if (values.to === 'pytorch') {
        await savePyTorchStateDict(output, model, values.naming === undefined ? {} : { naming: values.naming });
      } else {
        const preprocessing = metadata.preprocessing ?? (Object.keys(flags).length > 0 ? { normalize: 'unit', ...flags } : undefined);
        await saveCheckpoint(output, model, {
          ...metadata,
          ...(values.dataset === undefined ? {} : { dataset: values.dataset }),
          ...(preprocessing === undefined ? {} : { preprocessing }),
        });
      }
      console.log(`${input} → ${output} (${values.to}, ${model.architecture})`);
      return 0;
    } finally {
      disposeTensors(model);
    }
  },
};
