/**
 * The `--arch` lines of the CLI help, from the registry: every registered architecture with its
 * config fields and their defaults, so a new architecture shows up in `--help` by being registered.
 */
import { getArchitecture, listArchitectures } from '../models/registry.js';

/** One line per architecture, `name  {"field":default,…}`, indented to the help's option column. */
export function architecturesHelp(indent = 23): string {
  const names = listArchitectures();
  const column = Math.max(...names.map((n) => n.length)) + 2;
  return names.map((name) => `${' '.repeat(indent)}${name.padEnd(column)}${JSON.stringify(getArchitecture(name).defaultConfig)}`).join('\n');
}
