/**
 * Averaging whole models (architecture + config + tensors), for `modeconn average`: checks that
 * the models are of one architecture and config, takes the tensor kinds from the architecture's
 * spec, and averages with `averageModels` (variance correction optional, see variance-correction.ts).
 */
import { getArchitecture } from '../models/registry.js';
import type { Architecture, Model } from '../models/types.js';
import { averageModels, tensorKinds, type AverageModelsOptions } from './variance-correction.js';

export interface AverageModelListResult<Config> {
  /** The averaged model; the caller owns its tensors. */
  readonly model: Model<Config>;
  /** Rescaling factor of every corrected tensor (empty without correction). */
  readonly factors: Map<string, number>;
}

/**
 * Averages models of one architecture and config.
 *
 * @example
 * const { model } = averageModelList([a, b, c], { correction: 'follow-others' });
 */
export function averageModelList<Config>(
  models: readonly Model<Config>[],
  options: Omit<AverageModelsOptions, 'kinds'> = {},
  architecture?: Architecture<Config>,
): AverageModelListResult<Config> {
  const first = models[0];
  if (first === undefined) throw new Error('averageModelList: no models given');
  const configJson = JSON.stringify(first.config);
  models.forEach((m, i) => {
    if (m.architecture !== first.architecture) throw new Error(`averageModelList: model ${i} is ${m.architecture}, model 0 is ${first.architecture}`);
    if (JSON.stringify(m.config) !== configJson) throw new Error(`averageModelList: model ${i} has config ${JSON.stringify(m.config)}, model 0 has ${configJson}`);
  });
  const arch = architecture ?? (getArchitecture(first.architecture) as Architecture<Config>);
  const { state, factors } = averageModels(models, { ...options, kinds: tensorKinds(arch.spec(first.config)) });
  return { model: { architecture: first.architecture, config: first.config, params: state.params, buffers: state.buffers }, factors };
}
