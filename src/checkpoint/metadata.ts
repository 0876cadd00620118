/**
 * Checkpoint metadata: the in-memory `CheckpointMetadata` and its on-disk form
 * `CheckpointMetadataOnDisk`, the string → string `__metadata__` map of a safetensors file.
 *
 * On disk every value is a string; structured values (config, preprocessing, metrics, extra) are
 * JSON. Metric values that JSON cannot hold (NaN, ±Infinity, e.g. the loss of a diverged run) are
 * written as the strings "NaN", "Infinity", "-Infinity" and read back as numbers.
 */
import { hasArchitecture, listArchitectures } from '../models/registry.js';

/** Value of the `format` key that marks a file as a native checkpoint of this toolkit. */
export const CHECKPOINT_FORMAT = 'mode-connectivity';
/** Current version of the native checkpoint format. */
export const CHECKPOINT_FORMAT_VERSION = 1;

/** Any JSON value. */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** What the caller says about a checkpoint when saving it; the model gives architecture and config. */
export interface CheckpointInfo {
  /** Data set name, e.g. `fashion-mnist`. */
  readonly dataset?: string;
  /** How inputs were preprocessed (opaque here; defined by src/data). */
  readonly preprocessing?: JsonValue;
  /** Seed of the training run. */
  readonly seed?: number;
  /** Epochs trained. */
  readonly epoch?: number;
  /** Named scalar metrics, e.g. `{trainLoss: 0.31, testAccuracy: 0.89}`. */
  readonly metrics?: Readonly<Record<string, number>>;
  /** ISO 8601 creation time; `saveCheckpoint` fills in the current time when absent. */
  readonly createdAt?: string;
  /** Free-form JSON. */
  readonly extra?: JsonValue;
}

/** Checkpoint metadata in memory. */
export interface CheckpointMetadata extends CheckpointInfo {
  readonly architecture: string;
  /** The architecture's config, as parsed by `Architecture.parseConfig`. */
  readonly config: unknown;
}

/** The `__metadata__` map of a native checkpoint file: strings only. */
export interface CheckpointMetadataOnDisk {
  readonly format: typeof CHECKPOINT_FORMAT;
  /** Decimal integer, e.g. "1". */
  readonly format_version: string;
  readonly architecture: string;
  /** JSON object. */
  readonly config: string;
  readonly dataset?: string;
  /** JSON. */
  readonly preprocessing?: string;
  /** Decimal integer. */
  readonly seed?: string;
  /** Decimal integer. */
  readonly epoch?: string;
  /** JSON object of numbers (NaN and ±Infinity as strings). */
  readonly metrics?: string;
  /** ISO 8601. */
  readonly created_at: string;
  /** JSON. */
  readonly extra?: string;
}

/** True when a `__metadata__` map marks a native checkpoint (whatever its version). */
export function isNativeCheckpointMetadata(raw: Readonly<Record<string, string>>): boolean {
  return raw.format === CHECKPOINT_FORMAT;
}

function encodeMetric(value: number): number | string {
  return Number.isFinite(value) ? value : String(value);
}

/** The on-disk form of `metadata`. */
export function encodeCheckpointMetadata(metadata: CheckpointMetadata): CheckpointMetadataOnDisk {
  const onDisk: Record<string, string> = {
    format: CHECKPOINT_FORMAT,
    format_version: String(CHECKPOINT_FORMAT_VERSION),
    architecture: metadata.architecture,
    config: JSON.stringify(metadata.config),
    created_at: metadata.createdAt ?? new Date().toISOString(),
  };
  if (metadata.dataset !== undefined) onDisk.dataset = metadata.dataset;
  if (metadata.preprocessing !== undefined) onDisk.preprocessing = JSON.stringify(metadata.preprocessing);
  for (const key of ['seed', 'epoch'] as const) {
    const value = metadata[key];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value)) throw new Error(`checkpoint metadata: ${key} must be an integer, found ${value}`);
    onDisk[key] = String(value);
  }
  if (metadata.metrics !== undefined) {
    const metrics: Record<string, number | string> = {};
    for (const [key, value] of Object.entries(metadata.metrics)) {
      if (typeof value !== 'number') throw new Error(`checkpoint metadata: metric "${key}" must be a number, found ${typeof value}`);
      metrics[key] = encodeMetric(value);
    }
    onDisk.metrics = JSON.stringify(metrics);
  }
  if (metadata.extra !== undefined) onDisk.extra = JSON.stringify(metadata.extra);
  return onDisk as unknown as CheckpointMetadataOnDisk;
}

/**
 * The in-memory metadata of a native checkpoint (the config is returned raw: the caller parses it
 * with its architecture). Errors name `source` and the offending key.
 */
export function decodeCheckpointMetadata(raw: Readonly<Record<string, string>>, source: string): CheckpointMetadata {
  const fail = (message: string): never => {
    throw new Error(`checkpoint ${source}: metadata ${message}`);
  };
  if (raw.format !== CHECKPOINT_FORMAT) fail(`"format" is ${JSON.stringify(raw.format)}, expected "${CHECKPOINT_FORMAT}"`);
  const version = Number(raw.format_version);
  if (!Number.isInteger(version) || version < 1) fail(`"format_version" is ${JSON.stringify(raw.format_version)}, expected a positive integer`);
  if (version > CHECKPOINT_FORMAT_VERSION) {
    fail(`"format_version" is ${version}; this version of mode-connectivity reads up to ${CHECKPOINT_FORMAT_VERSION}`);
  }
  const json = (key: string): unknown => {
    const text = raw[key];
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      return fail(`"${key}" is not valid JSON (${(error as Error).message})`);
    }
  };
  const integer = (key: string): number | undefined => {
    const text = raw[key];
    if (text === undefined) return undefined;
    const value = Number(text);
    if (text.trim() === '' || !Number.isSafeInteger(value)) fail(`"${key}" is ${JSON.stringify(text)}, expected an integer`);
    return value;
  };
  const architecture = raw.architecture;
  if (architecture === undefined || !hasArchitecture(architecture)) {
    fail(`"architecture" is ${JSON.stringify(architecture)}, expected one of ${listArchitectures().join(', ')} (the registered architectures)`);
  }
  const createdAt = raw.created_at;
  if (createdAt === undefined) fail('"created_at" is missing');
  let metrics: Record<string, number> | undefined;
  const rawMetrics = json('metrics');
  if (rawMetrics !== undefined) {
    if (typeof rawMetrics !== 'object' || rawMetrics === null || Array.isArray(rawMetrics)) fail('"metrics" is not a JSON object');
    metrics = {};
    for (const [key, value] of Object.entries(rawMetrics as Record<string, unknown>)) {
      const number = typeof value === 'number' ? value : value === 'NaN' || value === 'Infinity' || value === '-Infinity' ? Number(value) : undefined;
      if (number === undefined) fail(`metric "${key}" is ${JSON.stringify(value)}, expected a number`);
      metrics[key] = number as number;
    }
  }
  const metadata: {
    -readonly [K in keyof CheckpointMetadata]: CheckpointMetadata[K];
  } = { architecture: architecture as string, config: json('config'), createdAt: createdAt as string };
  if (raw.dataset !== undefined) metadata.dataset = raw.dataset;
  const preprocessing = json('preprocessing');
  if (preprocessing !== undefined) metadata.preprocessing = preprocessing as JsonValue;
  const seed = integer('seed');
  if (seed !== undefined) metadata.seed = seed;
  const epoch = integer('epoch');
  if (epoch !== undefined) metadata.epoch = epoch;
  if (metrics !== undefined) metadata.metrics = metrics;
  const extra = json('extra');
  if (extra !== undefined) metadata.extra = extra as JsonValue;
  return metadata;
}
