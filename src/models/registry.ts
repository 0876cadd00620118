/**
 * The architectures by name, and `createModel`, which turns a name, a raw config and a seed into
 * a fresh Model.
 */
import { cct } from './cct.js';
import { lenet5 } from './lenet5.js';
import { resnet18 } from './resnet18.js';
import { ARCHITECTURE_NAMES, type Architecture, type ArchitectureName, type InitOptions, type Model } from './types.js';

/** Every architecture this toolkit implements, by name. */
export const ARCHITECTURES: Readonly<Record<ArchitectureName, Architecture<unknown>>> = {
  lenet5,
  resnet18,
  cct,
};

/** The architecture called `name`; the error lists the known names. */
export function getArchitecture(name: string): Architecture<unknown> {
  if (!(ARCHITECTURE_NAMES as readonly string[]).includes(name)) {
    throw new Error(`unknown architecture "${name}"; known architectures: ${ARCHITECTURE_NAMES.join(', ')}`);
  }
  return ARCHITECTURES[name as ArchitectureName];
}

/**
 * A fresh model: the config is validated and completed with defaults, the tensors initialized
 * deterministically from `seed`.
 *
 * @example
 * const model = createModel('resnet18', { width: 0.25 }, 1);
 */
export function createModel(name: string, rawConfig: unknown, seed: number, options: InitOptions = {}): Model {
  const arch = getArchitecture(name);
  const config = arch.parseConfig(rawConfig);
  const state = arch.init(config, seed, options);
  return { architecture: arch.name, config, params: state.params, buffers: state.buffers };
}
