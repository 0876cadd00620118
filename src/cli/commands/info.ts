import { loadCheckpoint } from '../../checkpoint/checkpoint.js';
import { describePreprocessing, parsePreprocessing } from '../../data/preprocess.js';
import { getArchitecture } from '../../models/registry.js';
import { disposeTensors } from '../../models/tensor-map.js';
import { parseArgs, required } from '../args.js';
import type { Command } from './command.js';

export const infoCommand: Command = {
  summary: 'describe a checkpoint: architecture, config, layers, parameter counts, metadata',
  usage: 'CHECKPOINT [--arch A] [--json]',
  help: `options:
  --arch A     architecture of a foreign checkpoint (default: from its tensor names)
  --json       print the description as JSON`,
  async run(args, context) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: { arch: { type: 'string' }, json: { type: 'boolean', default: false } },
    });
    const path = required(positionals[0], 'CHECKPOINT (positional)');
    await context.initBackend();
    const { model, metadata, format } = await loadCheckpoint(path, values.arch === undefined ? {} : { architecture: values.arch });
    disposeTensors(model);
    const spec = getArchitecture(model.architecture).spec(model.config);
    const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
    const sizes = new Map(spec.params.map((s) => [s.name, size(s.shape)]));
    const layers = spec.layers.map((layer, index) => ({
      index,
      name: layer.name,
      parameters: layer.params.reduce((n, p) => n + (sizes.get(p) ?? 0), 0),
      tensors: [...layer.params, ...layer.buffers],
    }));
    const total = layers.reduce((n, l) => n + l.parameters, 0);
    // Everything is validated before the first line is printed: a failure leaves no partial description.
    const preprocessing = metadata.preprocessing === undefined ? undefined : describePreprocessing(parsePreprocessing(metadata.preprocessing, `${path} metadata preprocessing`));
    const description = {
      checkpoint: path,
      format,
      architecture: model.architecture,
      config: model.config,
      parameters: total,
      buffers: spec.buffers.reduce((n, s) => n + size(s.shape), 0),
      inputShape: spec.inputShape,
      classes: spec.classes,
      layers,
      metadata,
    };
    if (values.json) {
      console.log(JSON.stringify(description));
      return 0;
    }
    console.log(`${path} (${format})`);
    console.log(`architecture  ${model.architecture} ${JSON.stringify(model.config)}`);
    console.log(`parameters    ${total.toLocaleString('en-US')} (+ ${description.buffers.toLocaleString('en-US')} BatchNorm buffer values)`);
    console.log(`input         ${spec.inputShape.join('×')}, ${spec.classes} classes`);
    if (metadata.dataset !== undefined) console.log(`dataset       ${metadata.dataset}`);
    if (preprocessing !== undefined) console.log(`preprocessing ${preprocessing}`);
    if (metadata.seed !== undefined) console.log(`seed          ${metadata.seed}`);
    if (metadata.epoch !== undefined) console.log(`epoch         ${metadata.epoch}`);
    if (metadata.metrics !== undefined) console.log(`metrics       ${Object.entries(metadata.metrics).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(', ')}`);
    console.log(`layers (${layers.length}, input side first):`);
    for (const layer of layers) console.log(`  ${String(layer.index).padStart(3)}  ${layer.name.padEnd(28)} ${layer.parameters.toLocaleString('en-US').padStart(12)}`);
    return 0;
  },
};
