/**
 * `npm run figures`: regenerates every figure of figures/ by running each script of
 * scripts/figures/ in its own process, one after the other. Checkpoints are trained once into
 * runs/figures/ (on the embedded data unless --dataset says otherwise) and shared by the scripts.
 *
 *   npm run figures                                   every figure on the embedded data
 *   npm run figures -- --only paths-lenet5,surface-lenet5
 *   npm run figures -- --dataset fashion-mnist        the full set (the figures of issue 4 §7)
 *   node --loader ts-node/esm scripts/figures.ts --list
 *
 * Options: --only NAMES (comma-separated), --skip NAMES, --list, --loader tsx|ts-node (how the
 * scripts are started; tsx by default). Every other option (e.g. --dataset, --epochs, --runs) is
 * passed to each script. A failing script does not stop the others; the exit code is 1 if any
 * failed.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The figure scripts, cheapest first; the vanishing-variance script has its own options. */
const ORDER = ['layerwise-lenet5', 'robustness-subspace-lenet5', 'surface-lenet5', 'paths-lenet5', 'llpf-origin-lenet5', 'alignment', 'architectures', 'vanishing-variance'];
/** Options the LeNet5 scripts share (scripts/figures/common.ts); the vanishing-variance script takes only --dataset/--data-dir of them. */
const VANISHING_VARIANCE_OPTIONS = new Set(['--dataset', '--data-dir']);

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const folder = join(root, 'scripts', 'figures');
const available = readdirSync(folder)
  .filter((f) => f.endsWith('.ts') && f !== 'common.ts')
  .map((f) => f.slice(0, -3));
const ordered = [...ORDER.filter((n) => available.includes(n)), ...available.filter((n) => !ORDER.includes(n)).sort()];

interface Parsed {
  only?: string[];
  skip: string[];
  list: boolean;
  loader: 'tsx' | 'ts-node';
  /** Options passed through, as [name, value] pairs. */
  passed: [string, string][];
}

function parse(argv: readonly string[]): Parsed {
  const parsed: Parsed = { skip: [], list: false, loader: 'tsx', passed: [] };
  const names = (text: string | undefined, option: string): string[] => {
    const list = (text ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
    const unknown = list.filter((n) => !available.includes(n));
    if (list.length === 0 || unknown.length > 0) throw new Error(`${option}: unknown figure "${unknown.join(', ') || text}"; available: ${ordered.join(', ')}`);
    return list;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [name, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string => {
      if (inline !== undefined) return inline;
      const next = argv[++i];
      if (next === undefined) throw new Error(`${name}: expected a value`);
      return next;
    };
    if (name === '--only') parsed.only = names(value(), name);
    else if (name === '--skip') parsed.skip = names(value(), name);
    else if (name === '--list') parsed.list = true;
    else if (name === '--loader') {
      const v = value();
      if (v !== 'tsx' && v !== 'ts-node') throw new Error(`--loader: expected tsx or ts-node, found "${v}"`);
      parsed.loader = v;
    } else if (name.startsWith('--')) parsed.passed.push([name, value()]);
    else throw new Error(`unexpected argument "${arg}" (options are --name value)`);
  }
  return parsed;
}

function run(script: string, args: readonly string[], loader: Parsed['loader']): Promise<number> {
  const file = join(folder, `${script}.ts`);
  const [command, commandArgs] =
    loader === 'tsx' ? [process.execPath, [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), file, ...args]] : [process.execPath, ['--loader', 'ts-node/esm', '--no-warnings', file, ...args]];
  return new Promise((resolve, reject) => {
    const child = spawn(command, commandArgs, { cwd: root, stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal === null ? 1 : 128)));
  });
}

let options: Parsed;
try {
  options = parse(process.argv.slice(2));
} catch (error) {
  console.error(`figures: ${(error as Error).message}`);
  process.exit(2);
}
const selected = (options.only ?? ordered).filter((n) => !options.skip.includes(n));
if (options.list) {
  console.log(ordered.join('\n'));
} else {
  const failed: string[] = [];
  for (const [i, script] of selected.entries()) {
    const passed = script === 'vanishing-variance' ? options.passed.filter(([n]) => VANISHING_VARIANCE_OPTIONS.has(n)) : options.passed;
    // On the embedded data the vanishing-variance figure is the short run of figures/vanishing-variance.
    const own: [string, string][] =
      script === 'vanishing-variance' && !passed.some(([n, v]) => n === '--dataset' && v !== 'fashion-mnist-small')
        ? [['--dataset', 'fashion-mnist-small'], ['--nodes', '10'], ['--degree', '6'], ['--ticks', '600'], ['--test-examples', '500'], ['--degrees', '2,4,8'], ['--level', '0.3']]
        : [];
    const args = [...own.filter(([n]) => !passed.some(([p]) => p === n)), ...passed].flat();
    console.error(`\n=== [${i + 1}/${selected.length}] ${script} ${args.join(' ')}`);
    const started = performance.now();
    const code = await run(script, args, options.loader);
    console.error(`=== ${script}: ${code === 0 ? 'done' : `FAILED (exit ${code})`} in ${((performance.now() - started) / 1000).toFixed(0)} s`);
    if (code !== 0) failed.push(script);
  }
  if (failed.length > 0) {
    console.error(`failed: ${failed.join(', ')}`);
    process.exitCode = 1;
  }
}
