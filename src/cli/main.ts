/**
 * The `modeconn` command line: `modeconn <command> [options]`.
 *
 * Every command checks its options first (an unknown one gets the nearest known flag, a retired
 * one its replacement), then selects the compute backend (`--backend`, env MODECONN_BACKEND,
 * default auto) and reports the choice and why each earlier candidate was skipped on stderr,
 * checks its inputs before any long computation, shows progress bars on a terminal, and prints
 * results on stdout (JSON with `--json`). Global options go before or after the command.
 *
 * Exit codes: 0 done; 1 an error (bad option values, global ones included, bad files, failed
 * work), one line on stderr; 2 an unknown command; 130 interrupted (Ctrl-C), resumable. A stdout
 * closed by its reader (`modeconn info A | head -1`) ends the process quietly with status 0.
 */
import * as tf from '@tensorflow/tfjs-core';
import { backendFromEnv, initBackend, parseBackendName, type BackendChoice } from '../backend/init-backend.js';
import { describeWasmFailure, wasmHeapBytes } from '../backend/wasm-failure.js';
import { loadArchitectureModule } from '../models/architecture-module.js';
import { suggestFlag } from './args.js';
import { COMMANDS, type Command, type CommandContext } from './commands/index.js';

const USAGE = `usage: modeconn <command> [options]

commands:
${Object.entries(COMMANDS)
  .map(([name, command]) => `  ${name.padEnd(10)} ${command.summary}`)
  .join('\n')}

global options (before or after the command):
  --backend NAME   auto | tensorflow-gpu | tensorflow | webgpu | wasm | cpu (env MODECONN_BACKEND;
                   default auto: the first that starts, in that order; webgpu needs a GPU adapter)
  --threads N      threads for the wasm backend
  --quiet          no progress bars or backend report
  --architecture-module FILE
                   register the architecture that FILE exports (default export or
                   \`architecture\`) before the command runs; repeatable. A .ts file
                   needs a TypeScript loader (tsx)

exit status: 0 done, 1 error (one line on stderr), 2 unknown command, 130 interrupted (resumable).

'modeconn <command> --help' describes a command, 'modeconn barrier linear --help' a subcommand.`;

/** Runs the CLI with `argv` (without node and script); returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  exitQuietlyWhenStdoutCloses();
  // Global options may stand anywhere: before the command (`modeconn --backend wasm info X`) or after it.
  let extracted: { global: GlobalOptions; remaining: string[] };
  try {
    extracted = extractGlobalOptions(argv);
  } catch (error) {
    const named = argv.find((a) => Object.hasOwn(COMMANDS, a));
    console.error(`modeconn${named === undefined ? '' : ` ${named}`}: ${(error as Error).message}`);
    return 1;
  }
  const { global, remaining } = extracted;
  const [name, ...rest] = remaining;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE);
    return name === undefined ? 1 : 0;
  }
  if (name === '--version') {
    console.log('0.1.0');
    return 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    const suggestion = suggestFlag(name, Object.keys(COMMANDS));
    console.error(`modeconn: unknown command "${name}"${suggestion === undefined ? '' : ` (did you mean ${suggestion}?)`}\n\n${USAGE}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(commandHelp(name, command, rest[0]));
    return 0;
  }
  let holdsEventLoop = false;
  let code: number;
  try {
    const context: CommandContext = {
      quiet: global.quiet,
      async initBackend() {
        const choice = await initBackend(global.backend ?? backendFromEnv(), global.threads === undefined ? {} : { threads: global.threads });
        holdsEventLoop = choice.holdsEventLoop;
        if (!global.quiet) console.error(describeBackendChoice(choice).join('\n'));
      },
    };
    for (const module of global.architectureModules) await loadArchitectureModule(module);
    code = await command.run(rest, context);
  } catch (error) {
    console.error(`modeconn ${name}: ${describeWasmFailure(error, wasmHeapBytes(tf.findBackend('wasm'))) ?? (error as Error).message}`);
    if (process.env['MODECONN_DEBUG'] !== undefined) console.error(error);
    code = 1;
  }
  // Dawn (webgpu) keeps the event loop alive until the process exits, so a finished command ends it.
  if (holdsEventLoop) process.exit(code);
  return code;
}

/**
 * `modeconn NAME --help`, or `modeconn NAME SUB --help` for a command with subcommands (`barrier
 * linear`): the subcommand's own usage, options and defaults.
 */
export function commandHelp(name: string, command: Command, first: string | undefined): string {
  const sub = first === undefined ? undefined : command.subcommands?.[first];
  if (sub !== undefined && first !== undefined) return `usage: modeconn ${name} ${first} ${sub.usage}\n\n${sub.summary}\n\n${sub.help}`;
  const subs = command.subcommands === undefined ? '' : `\n\n'modeconn ${name} <${Object.keys(command.subcommands).join('|')}> --help' lists the options of one with their defaults.`;
  return `usage: modeconn ${name} ${command.usage}\n\n${command.summary}\n\n${command.help}${subs}`;
}

/**
 * The backend report, one line for the choice and one per skipped candidate:
 *
 *   modeconn: backend wasm from @tensorflow/tfjs-backend-wasm
 *   modeconn:   skipped webgpu: no WebGPU adapter (…)
 */
export function describeBackendChoice(choice: BackendChoice): string[] {
  const device = choice.device === undefined ? '' : ` on ${choice.device}`;
  return [
    `modeconn: backend ${choice.active} from ${choice.package}${device}`,
    ...choice.skipped.map((s) => `modeconn:   skipped ${s.name}: ${s.reason}`),
  ];
}

/**
 * EPIPE on stdout means its reader has gone (`| head -1`): nothing more can be said, and saying so
 * on stderr would only be noise, so the process ends at once with status 0, as Unix tools do.
 */
function onStdoutError(error: NodeJS.ErrnoException): void {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
}

function exitQuietlyWhenStdoutCloses(): void {
  if (!process.stdout.listeners('error').includes(onStdoutError)) process.stdout.on('error', onStdoutError);
}

interface GlobalOptions {
  backend?: string;
  threads?: number;
  quiet: boolean;
  architectureModules: string[];
}

/**
 * Removes --backend, --threads, --quiet and --architecture-module from anywhere in the arguments
 * (before `--`, after which every word is a positional).
 */
function extractGlobalOptions(args: readonly string[]): { global: GlobalOptions; remaining: string[] } {
  const global: GlobalOptions = { quiet: false, architectureModules: [] };
  const remaining: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') {
      remaining.push(...args.slice(i));
      break;
    }
    const [key, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (key === '--backend' || key === '--threads' || key === '--architecture-module') {
      const value = inline ?? args[++i];
      // A bare flag before another option (`--backend --json`) has no value either.
      if (value === undefined || value === '' || (inline === undefined && value.startsWith('--'))) throw new Error(`${key} needs a value`);
      if (key === '--backend') global.backend = parseBackendName(value);
      else if (key === '--architecture-module') global.architectureModules.push(value);
      else {
        const n = Number(value);
        if (!Number.isInteger(n) || n < 1) throw new Error(`--threads: expected a positive integer, found "${value}"`);
        global.threads = n;
      }
    } else if (arg === '--quiet') {
      global.quiet = true;
    } else {
      remaining.push(arg);
    }
  }
  return { global, remaining };
}
