/** Finds the implementation of an architecture by name, unless the caller supplies one (tests, custom models). */
import { getArchitecture } from './registry.js';
import type { Architecture } from './types.js';

/** `override` if given, else the toolkit's implementation of `name` (models/registry.ts). */
export function resolveArchitecture(name: string, override?: Architecture<unknown>): Architecture<unknown> {
  if (override !== undefined) {
    if (override.name !== name) throw new Error(`architecture: the models are ${name} but the given implementation is ${override.name}`);
    return override;
  }
  return getArchitecture(name);
}
