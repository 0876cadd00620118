/**
 * The checkpoints a recorded command line reads (`modeconn chart --command "…"`, for the report's
 * checkpoint descriptions). Each command says which of its arguments are checkpoints
 * (`Command.checkpointArguments`: its positionals and checkpoint-list options), parsing them with
 * its own option table, so the value of `--out`, `--csv`, `--path` or `--chart` is never taken for
 * a checkpoint, whatever its extension.
 */
import { parseArgs as parseNodeArgs, type ParseArgsConfig } from 'node:util';
import { COMMANDS } from './commands/index.js';

type OptionTable = NonNullable<ParseArgsConfig['options']>;

/** The global options (main.ts), which may stand anywhere in a command line. */
const GLOBAL_OPTIONS = {
  backend: { type: 'string' },
  threads: { type: 'string' },
  quiet: { type: 'boolean' },
  'architecture-module': { type: 'string', multiple: true },
} as const satisfies OptionTable;

/**
 * `args` parsed leniently with the command's `options` (and the global ones): the positionals and
 * the string values by option name. An unknown flag counts as a boolean, so a recorded line with
 * a typo still gives its checkpoints.
 */
export function parseRecordedArgs(args: readonly string[], options: OptionTable): { positionals: string[]; values: Record<string, string | undefined> } {
  const { values, positionals } = parseNodeArgs({ args: [...args], options: { ...options, ...GLOBAL_OPTIONS }, allowPositionals: true, strict: false });
  const strings = Object.fromEntries(Object.entries(values).map(([name, value]) => [name, typeof value === 'string' ? value : undefined]));
  return { positionals, values: strings };
}

/** The non-empty items of a comma-separated list option (`--checkpoints A,B`). */
export function listValue(text: string | undefined): string[] {
  return text === undefined ? [] : text.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/**
 * The checkpoint files named by `words`, a command line split into words (`modeconn barrier
 * linear A B --out x.json`, with or without `npx`, `node bin/modeconn.js` or global options before
 * the command): the arguments its command reads as checkpoints, in its order. A line without a
 * known command, or of a command that reads none, gives none.
 */
export function commandLineCheckpoints(words: readonly string[]): string[] {
  const at = words.findIndex((w) => Object.hasOwn(COMMANDS, w));
  if (at < 0) return [];
  const command = COMMANDS[words[at] as string];
  return command?.checkpointArguments?.(words.slice(at + 1)) ?? [];
}
