/**
 * Loading a user's architecture from an ES module (the CLI's `--architecture-module`): the
 * module's default export, or its named export `architecture`, is registered with
 * `registerArchitecture` under its own name. A module that registers its architecture itself
 * when imported is accepted too.
 *
 * TypeScript modules need a TypeScript loader: under tsx (how the CLI runs in development) a
 * `.ts` module just works; plain Node (the installed CLI, from dist/) needs the module compiled
 * to `.js`, or Node started with a loader (`NODE_OPTIONS="--import tsx"`), and the error says so.
 *
 * @example
 * const arch = await loadArchitectureModule('./my-arch.ts'); // relative to the working directory
 * const model = createModel(arch.name, {}, 1);
 */
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { getArchitecture, hasArchitecture, registerArchitecture } from './registry.js';
import type { Architecture } from './types.js';
import type { WorkerArchitecture } from '../util/worker-group.js';

export interface LoadArchitectureModuleOptions {
  /** Directory that relative paths are resolved against (default: the working directory). */
  readonly cwd?: string;
}

const TYPESCRIPT = /\.(ts|mts|cts|tsx)$/;

/**
 * A file URL for paths (`./x.ts`, `/abs/x.js`, `C:\x.js`, or any existing file relative to `cwd`,
 * e.g. `lib/my-arch.ts`); a URL or a package name as given.
 */
function moduleUrl(specifier: string, cwd: string): string {
  const drive = /^[a-z]:[\\/]/i.test(specifier);
  if (/^[a-z][a-z0-9+.-]*:/i.test(specifier) && !drive) return specifier;
  const path = resolve(cwd, specifier);
  if (specifier.startsWith('.') || isAbsolute(specifier) || drive || existsSync(path) || /\.(m?js|cjs|ts|mts|cts)$/.test(specifier)) return pathToFileURL(path).href;
  return specifier;
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Imports `specifier` (a path relative to `cwd` — anything ending in .js/.mjs/.ts/… or naming an
 * existing file —, an absolute path, a file URL, or else a package name)
 * and registers the architecture it exports; returns the registered architecture. Errors name the
 * module and say what was expected.
 */
export async function loadArchitectureModule(specifier: string, options: LoadArchitectureModuleOptions = {}): Promise<Architecture<unknown>> {
  const url = moduleUrl(specifier, options.cwd ?? process.cwd());
  let namespace: Record<string, unknown>;
  try {
    namespace = (await import(url)) as Record<string, unknown>;
  } catch (error) {
    const message = (error as Error).message;
    const code = errorCode(error);
    if (TYPESCRIPT.test(specifier) && (code === 'ERR_UNKNOWN_FILE_EXTENSION' || code === 'ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING' || /Unknown file extension/.test(message))) {
      throw new Error(
        `architecture module ${specifier}: a TypeScript module needs a TypeScript loader, and this Node has none ` +
          `(run the CLI under tsx, e.g. NODE_OPTIONS="--import tsx" modeconn …, or compile the module to .js); ${message}`,
        { cause: error },
      );
    }
    if (code === 'ERR_MODULE_NOT_FOUND') throw new Error(`architecture module ${specifier}: not found (${url}); ${message}`, { cause: error });
    throw new Error(`architecture module ${specifier}: importing it failed: ${message}`, { cause: error });
  }
  const exported = namespace.default ?? namespace.architecture;
  if (exported === undefined) {
    const names = Object.keys(namespace);
    throw new Error(
      `architecture module ${specifier}: expected a default export or an export named "architecture" holding the architecture, ` +
        `found ${names.length === 0 ? 'no exports' : `exports ${names.join(', ')}`}`,
    );
  }
  if (typeof exported !== 'object' || exported === null) {
    throw new Error(`architecture module ${specifier}: the export is ${exported === null ? 'null' : `a ${typeof exported}`}, expected an architecture object`);
  }
  const name = (exported as { readonly name?: unknown }).name;
  if (typeof name === 'string' && hasArchitecture(name)) {
    const registered = getArchitecture(name);
    // A module that registered its architecture itself when imported, or one loaded before.
    if (registered === exported || Object.getPrototypeOf(registered) === exported) return registered;
  }
  // Registered with the module's URL (the export itself is its prototype), so that worker threads can import it too.
  const arch = Object.assign(Object.create(exported) as Architecture<unknown>, { module: url });
  try {
    registerArchitecture(arch);
  } catch (error) {
    throw new Error(`architecture module ${specifier}: ${(error as Error).message}`, { cause: error });
  }
  return arch;
}

/**
 * The architecture a worker thread runs, from its pool's {@link WorkerArchitecture}: a user
 * architecture's module is imported first (it registers the architecture in the worker's own
 * registry), then the name is looked up. Both pools' worker entries call it while setting up.
 */
export async function loadWorkerArchitecture(init: WorkerArchitecture): Promise<Architecture<unknown>> {
  if (init.architectureModule !== undefined) await loadArchitectureModule(init.architectureModule);
  return getArchitecture(init.architecture);
}
