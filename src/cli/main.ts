/**
 * The `modeconn` command line: `modeconn <command> [options]`.
 *
 * Every command selects the compute backend first (`--backend`, env MODECONN_BACKEND, default
 * auto), reports the choice on stderr, checks its inputs before any long computation, shows
 * progress bars on a terminal, and prints results on stdout (JSON with `--json`).
 */
import { backendFromEnv, initBackend, parseBackendName } from '../backend/init-backend.js';
import { loadArchitectureModule } from '../models/architecture-module.js';
import { COMMANDS, type CommandContext } from './commands/index.js';

const USAGE = `usage: modeconn <command> [options]

commands:
${Object.entries(COMMANDS)
  .map(([name, command]) => `  ${name.padEnd(10)} ${command.summary}`)
  .join('\n')}

global options:
  --backend NAME   auto | tensorflow-gpu | tensorflow | wasm | cpu (env MODECONN_BACKEND; default auto)
  --threads N      threads for the wasm backend
  --quiet          no progress bars or backend report
  --architecture-module FILE
                   register the architecture that FILE exports (default export or
                   \`architecture\`) before the command runs; repeatable. A .ts file
                   needs a TypeScript loader (tsx)

'modeconn <command> --help' describes a command.`;

/** Runs the CLI with `argv` (without node and script); returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
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
    console.error(`modeconn: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(`usage: modeconn ${name} ${command.usage}\n\n${command.summary}\n\n${command.help}`);
    return 0;
  }
  const { global, remaining } = extractGlobalOptions(rest);
  const context: CommandContext = {
    quiet: global.quiet,
    async initBackend() {
      const choice = await initBackend(global.backend ?? backendFromEnv(), global.threads === undefined ? {} : { threads: global.threads });
      if (!global.quiet) {
        const skipped = choice.skipped.length === 0 ? '' : ` (skipped: ${choice.skipped.map((s) => s.name).join(', ')})`;
        console.error(`modeconn: backend ${choice.active} from ${choice.package}${skipped}`);
      }
    },
  };
  try {
    for (const module of global.architectureModules) await loadArchitectureModule(module);
    return await command.run(remaining, context);
  } catch (error) {
    console.error(`modeconn ${name}: ${(error as Error).message}`);
    if (process.env['MODECONN_DEBUG'] !== undefined) console.error(error);
    return 1;
  }
}

interface GlobalOptions {
  backend?: string;
  threads?: number;
  quiet: boolean;
  architectureModules: string[];
}

/** Removes --backend, --threads, --quiet and --architecture-module from anywhere in the arguments. */
function extractGlobalOptions(args: readonly string[]): { global: GlobalOptions; remaining: string[] } {
  const global: GlobalOptions = { quiet: false, architectureModules: [] };
  const remaining: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const [key, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (key === '--backend' || key === '--threads' || key === '--architecture-module') {
      const value = inline ?? args[++i];
      if (value === undefined) throw new Error(`${key} needs a value`);
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
