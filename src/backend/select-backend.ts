/**
 * Backend selection rules, apart from how each backend is loaded: the backend names, the `auto`
 * order, one short reason per skipped candidate, and the error for an explicit request that
 * cannot run.
 *
 *   auto: tensorflow-gpu → tensorflow → webgpu (only where an adapter is found) → wasm → cpu
 *
 * Each candidate is a {@link BackendLoader}; `initBackend` passes the real ones, tests pass
 * doubles, so the rules are tested without touching tfjs.
 */

export const BACKEND_NAMES = ['auto', 'tensorflow-gpu', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
export type ConcreteBackendName = Exclude<BackendName, 'auto'>;

/** The order `auto` tries: native TensorFlow first, then the GPU through WebGPU, then the CPU. */
export const AUTO_ORDER: readonly ConcreteBackendName[] = ['tensorflow-gpu', 'tensorflow', 'webgpu', 'wasm', 'cpu'];

export interface SkippedBackend {
  readonly name: ConcreteBackendName;
  /** One line: "package @tensorflow/tfjs-node not installed", "no WebGPU adapter (…)", … */
  readonly reason: string;
}

export interface BackendChoice {
  /** What was asked for. */
  readonly requested: BackendName;
  /** The backend now active, as tfjs names it (`tensorflow`, `webgpu`, `wasm`, `cpu`). */
  readonly active: string;
  /** The npm package that provides it. */
  readonly package: string;
  /** The device, where the backend names one (webgpu: the adapter's vendor, architecture, description). */
  readonly device?: string;
  /**
   * True when the backend keeps Node's event loop alive for the rest of the process (webgpu:
   * Dawn polls its instance until the process exits), so a program that has finished must
   * call `process.exit()`.
   */
  readonly holdsEventLoop: boolean;
  /** Candidates that were tried before the active one, each with one short reason. */
  readonly skipped: readonly SkippedBackend[];
}

/** What starting a backend reports. */
export interface StartedBackend {
  readonly active: string;
  readonly device?: string;
  readonly holdsEventLoop?: boolean;
}

export interface BackendLoader {
  /** The npm package that provides the backend. */
  readonly package: string;
  /** How to get it where it is missing (appended to the error of an explicit request). */
  readonly hint: string;
  /**
   * Starts the backend and makes it active, or rejects with an Error whose first line is the
   * short reason it cannot run here. `auto` is true when tried as an `auto` candidate, where a
   * loader may decline early on cheap evidence (webgpu: no Vulkan loader library) instead of
   * letting a native library print its own warnings.
   */
  start(context: { readonly auto: boolean }): Promise<StartedBackend>;
}

export type BackendLoaders = Readonly<Record<ConcreteBackendName, BackendLoader>>;

/** Parses a backend name from the CLI or the environment, with an error that lists the choices. */
export function parseBackendName(value: string, where = '--backend'): BackendName {
  if ((BACKEND_NAMES as readonly string[]).includes(value)) return value as BackendName;
  throw new Error(`${where}: unknown backend "${value}"; expected one of ${BACKEND_NAMES.join(', ')}`);
}

/** Backend name from MODECONN_BACKEND, or `auto`. */
export function backendFromEnv(env: NodeJS.ProcessEnv = process.env): BackendName {
  const value = env['MODECONN_BACKEND'];
  return value === undefined || value === '' ? 'auto' : parseBackendName(value, 'MODECONN_BACKEND');
}

/**
 * Starts `requested`, or for `auto` the first candidate of {@link AUTO_ORDER} that starts.
 * An explicit request that cannot run is an error naming the backend, its package, the reason and
 * the hint; `auto` records one reason per skipped candidate and fails only if none starts.
 */
export async function selectBackend(requested: BackendName, loaders: BackendLoaders): Promise<BackendChoice> {
  if (requested !== 'auto') {
    const loader = loaders[requested];
    let started: StartedBackend;
    try {
      started = await loader.start({ auto: false });
    } catch (error) {
      throw new Error(`backend "${requested}" is not available (${loader.package}): ${messageOf(error)}; ${loader.hint}`, { cause: error });
    }
    return choiceOf(requested, loader, started, []);
  }
  const skipped: SkippedBackend[] = [];
  for (const name of AUTO_ORDER) {
    const loader = loaders[name];
    try {
      return choiceOf(requested, loader, await loader.start({ auto: true }), skipped);
    } catch (error) {
      skipped.push({ name, reason: firstLine(messageOf(error)) });
    }
  }
  throw new Error(`no compute backend could start: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`);
}

function choiceOf(requested: BackendName, loader: BackendLoader, started: StartedBackend, skipped: readonly SkippedBackend[]): BackendChoice {
  return {
    requested,
    active: started.active,
    package: loader.package,
    ...(started.device === undefined ? {} : { device: started.device }),
    holdsEventLoop: started.holdsEventLoop ?? false,
    skipped,
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}
