/**
 * The architecture registry: every architecture by name, the built-ins (LeNet5, ResNet18, CCT,
 * VGG, MobileNetV2 in two namings, EfficientNet-B0, DLA, ShuffleNet v1, ShuffleNetV2, RegNet)
 * registered here and only here, and `registerArchitecture` for the user's own. Everything else
 * finds an architecture by name through `getArchitecture` and asks it for what it needs (see
 * capabilities.ts); no code outside this file and an architecture's own folder compares names.
 *
 * This is the one piece of module-level mutable state in the toolkit, on purpose: a process has
 * one set of architectures, as it has one tfjs engine. It only grows — a name, once registered,
 * always means the same architecture — so nothing registered later changes what earlier code saw.
 *
 * @example
 * registerArchitecture(myMlp); // { name: 'my-mlp', defaultConfig, parseConfig, spec, init, apply }
 * const model = createModel('my-mlp', {}, 1);
 */
import { cct } from './cct/index.js';
import { dla } from './dla/index.js';
import { efficientNetB0 } from './efficientnet/index.js';
import { lenet5 } from './lenet5/index.js';
import { mobilenetv2, mobilenetv2Dfl } from './mobilenetv2/index.js';
import { regnet } from './regnet/index.js';
import { resnet18 } from './resnet18/index.js';
import { shufflenet } from './shufflenet/index.js';
import { shufflenetv2 } from './shufflenetv2/index.js';
import { vgg } from './vgg/index.js';
import type { Architecture, InitOptions, Model } from './types.js';

/** Registry names: a letter, then letters, digits, `.`, `_` or `-`; at most 64 characters. */
const NAME_PATTERN = /^[A-Za-z][A-Za-z0-9._-]{0,63}$/;

const REQUIRED_FUNCTIONS = ['parseConfig', 'spec', 'init', 'apply'] as const;
const OPTIONAL_FUNCTIONS = ['permutationSpec', 'blockOf'] as const;

const registry = new Map<string, Architecture<unknown>>();

/**
 * Checks that `arch` has the shape of an `Architecture` (a valid name, the four functions, well-
 * formed optional capabilities); the error says what is wrong and where.
 */
function checkArchitecture(arch: unknown): asserts arch is Architecture<unknown> {
  if (typeof arch !== 'object' || arch === null) throw new Error(`registerArchitecture: expected an architecture object, found ${arch === null ? 'null' : typeof arch}`);
  const a = arch as Record<string, unknown>;
  const name = a.name;
  if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
    throw new Error(`registerArchitecture: invalid name ${JSON.stringify(name)}; expected a letter, then letters, digits, ".", "_" or "-" (at most 64 characters)`);
  }
  const where = `registerArchitecture(${name})`;
  if (!('defaultConfig' in a)) throw new Error(`${where}: defaultConfig is missing`);
  for (const field of REQUIRED_FUNCTIONS) {
    if (typeof a[field] !== 'function') throw new Error(`${where}: ${field} must be a function, found ${typeof a[field]}`);
  }
  for (const field of OPTIONAL_FUNCTIONS) {
    if (a[field] !== undefined && typeof a[field] !== 'function') throw new Error(`${where}: ${field} must be a function when given, found ${typeof a[field]}`);
  }
  const checkObject = (field: string, functions: readonly string[]): void => {
    const value = a[field];
    if (value === undefined) return;
    if (typeof value !== 'object' || value === null) throw new Error(`${where}: ${field} must be an object when given, found ${value === null ? 'null' : typeof value}`);
    for (const f of functions) {
      const member = (value as Record<string, unknown>)[f];
      if (typeof member !== 'function') throw new Error(`${where}: ${field}.${f} must be a function, found ${typeof member}`);
    }
  };
  checkObject('pytorch', ['matches', 'inferConfig']);
  checkObject('activations', ['preActivations']);
  checkObject('llpfStages', ['stageOf']);
  if (a.activations !== undefined && !Array.isArray((a.activations as Record<string, unknown>).hidden)) {
    throw new Error(`${where}: activations.hidden must be an array of hidden layers`);
  }
  if (a.llpfStages !== undefined) {
    const ticks = (a.llpfStages as Record<string, unknown>).defaultStageTicks;
    if (typeof ticks !== 'number' || !Number.isInteger(ticks) || ticks < 0) throw new Error(`${where}: llpfStages.defaultStageTicks must be a non-negative integer, found ${JSON.stringify(ticks)}`);
  }
  if (a.module !== undefined && typeof a.module !== 'string') throw new Error(`${where}: module must be a string (a module URL) when given, found ${typeof a.module}`);
}

/**
 * Registers an architecture under its `name`, for every analysis, path method, checkpoint reader
 * and CLI command. Registering the same object again is a no-op; another architecture under a
 * registered name is refused, as are invalid names and objects that are not architectures.
 */
export function registerArchitecture<Config>(arch: Architecture<Config>): void {
  checkArchitecture(arch);
  const existing = registry.get(arch.name);
  if (existing === (arch as Architecture<unknown>)) return;
  if (existing !== undefined) {
    throw new Error(`registerArchitecture: the name "${arch.name}" is taken by ${existing.module === undefined ? 'another architecture' : `the architecture of ${existing.module}`}; choose another name`);
  }
  registry.set(arch.name, arch);
}

// The built-ins, in this order (it is the order of listings and of PyTorch detection).
const BUILT_IN: readonly Architecture<unknown>[] = [lenet5, resnet18, cct, vgg, mobilenetv2, mobilenetv2Dfl, efficientNetB0, dla, shufflenet, shufflenetv2, regnet] as Architecture<unknown>[];
for (const arch of BUILT_IN) registerArchitecture(arch);

/** The registered architecture called `name`; the error lists the registered names. */
export function getArchitecture(name: string): Architecture<unknown> {
  const arch = registry.get(name);
  if (arch === undefined) throw new Error(`unknown architecture "${name}"; known architectures: ${listArchitectures().join(', ')}`);
  return arch;
}

/** The names of every registered architecture, built-ins first, then in registration order. */
export function listArchitectures(): string[] {
  return [...registry.keys()];
}

/** Whether `name` is one of the toolkit's own architectures (registered by this module, in every thread). */
export function isBuiltInArchitecture(name: string): boolean {
  return BUILT_IN.some((arch) => arch.name === name);
}

/** Whether `name` is a registered architecture. */
export function hasArchitecture(name: string): boolean {
  return registry.has(name);
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
