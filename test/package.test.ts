/**
 * The package as a dependency: `npm pack` (with its `prepack` build) in a staging copy of this
 * repository, the tarball installed into a fresh project outside the repository, and used there
 * the way a user would — a plain `.mjs` and a `.ts` script run with tsx import the main entry
 * and subpath exports, the shipped declarations type-check, `npx modeconn` runs (its worker
 * threads included), and the README's library example runs as written.
 *
 * Offline install: `npm install --offline <tarball>` resolves version ranges from registry
 * metadata, which `npm ci` never stores in the cache, so it fails with ENOTCACHED on a machine
 * whose cache was filled by `npm ci`. The fresh project instead gets a lockfile derived from ours
 * (every non-dev entry of package-lock.json, plus the tarball with its integrity), so that
 * `npm ci --offline` finds every tarball in the cache. `--ignore-scripts`: the package has no
 * install scripts; it skips the optional tfjs-node's libtensorflow download (network), which then
 * fails to load and the backend falls back to wasm, as on any machine where that download fails.
 * The project lives in the system temp folder, so nothing resolves from this repository's
 * node_modules: a missing dependency or a dev dependency needed at run time fails here.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as publicApi from '../src/index.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const SUBPATHS = ['backend', 'data', 'models', 'checkpoint', 'train', 'paths', 'evaluate', 'barriers', 'align', 'averaging', 'charts', 'simulate'] as const;
const FIXTURES = ['barriers-lenet5-a.safetensors', 'barriers-lenet5-b.safetensors'] as const;

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `command args` in `cwd` without a shell; never rejects (the exit code is in the result). */
function run(command: string, args: readonly string[], cwd: string, timeout = 240_000): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, MODECONN_BACKEND: 'wasm' };
  // Nothing from the test runner's loaders may help the installed package.
  delete env['NODE_OPTIONS'];
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env, timeout, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
      const killed = error?.killed === true ? `\n(killed by ${error.signal ?? 'a signal'} after the ${timeout / 1000} s limit)` : '';
      resolve({ code, stdout, stderr: (error !== null && stderr === '' ? error.message : stderr) + killed });
    });
  });
}

/** `run`, expecting exit code 0; otherwise an error with the command's output. */
async function ok(command: string, args: readonly string[], cwd: string): Promise<Run> {
  const result = await run(command, args, cwd);
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} (in ${cwd}) exited with ${result.code}:\n${result.stderr}\n${result.stdout}`);
  return result;
}

interface LockEntry {
  readonly dev?: boolean;
  readonly link?: boolean;
  readonly [key: string]: unknown;
}

/** package.json and package-lock.json of a project that depends only on `tarball`. */
async function writeProject(dir: string, tarball: string): Promise<void> {
  const lock = JSON.parse(await readFile(join(repo, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const pkg = JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as Record<string, unknown>;
  const integrity = `sha512-${createHash('sha512').update(await readFile(tarball)).digest('base64')}`;
  const spec = `file:${tarball}`;
  const packages: Record<string, unknown> = {
    '': { name: 'fresh-project', dependencies: { 'mode-connectivity': spec } },
    'node_modules/mode-connectivity': {
      version: pkg['version'],
      resolved: spec,
      integrity,
      license: pkg['license'],
      dependencies: pkg['dependencies'],
      optionalDependencies: pkg['optionalDependencies'],
      bin: pkg['bin'],
      engines: pkg['engines'],
    },
  };
  for (const [key, entry] of Object.entries(lock.packages)) {
    if (key !== '' && entry.dev !== true && entry.link !== true) packages[key] = entry;
  }
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'fresh-project', private: true, type: 'module', dependencies: { 'mode-connectivity': spec } }, null, 2));
  await writeFile(join(dir, 'package-lock.json'), JSON.stringify({ name: 'fresh-project', lockfileVersion: 3, requires: true, packages }, null, 2));
}

/** The code block that follows the `readme-example` marker in README.md. */
function readmeExample(readme: string): string {
  const marker = readme.indexOf('<!-- readme-example:');
  if (marker < 0) throw new Error('README.md: no "<!-- readme-example: … -->" marker before the library example');
  const match = /```ts\n([\s\S]*?)\n```/.exec(readme.slice(marker));
  if (match?.[1] === undefined) throw new Error('README.md: no ```ts block after the readme-example marker');
  return `${match[1]}\n`;
}

let dir: string;
let app: string;
let packed: { filename: string; size: number; unpackedSize: number; files: { path: string }[] };
/** Seconds of each set-up step, reported by the first test. */
const seconds: Record<string, number> = {};

async function timed<T>(step: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await work();
  seconds[step] = Math.round((performance.now() - started) / 100) / 10;
  return result;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'modeconn-package-'));
  const stage = join(dir, 'stage');
  app = join(dir, 'app');
  await mkdir(stage);
  await mkdir(app);
  // A copy of what the build and `files` need: packing here never touches this checkout's dist/.
  for (const entry of ['package.json', 'README.md', 'ARCHITECTURE.md', 'docs/algorithms.md', 'tsconfig.json', 'tsconfig.build.json', 'src', 'bin', 'data']) {
    await cp(join(repo, entry), join(stage, entry), { recursive: true });
  }
  await symlink(await realpath(join(repo, 'node_modules')), join(stage, 'node_modules'), 'dir');
  const pack = await timed('npm pack (prepack build)', () => ok('npm', ['pack', '--json', '--pack-destination', dir], stage));
  const [result] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as (typeof packed)[];
  if (result === undefined) throw new Error(`npm pack --json printed no package:\n${pack.stdout}`);
  packed = result;
  await writeProject(app, join(dir, packed.filename));
  await timed('npm ci --offline', () => ok('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], app));
}, 600_000);

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('ships the compiled entries, the worker, the bin and the data, and no sources or tests', async ({ annotate }) => {
    await annotate(`${packed.files.length} files, ${(packed.size / 1e6).toFixed(1)} MB packed, ${(packed.unpackedSize / 1e6).toFixed(1)} MB unpacked; ${Object.entries(seconds).map(([k, v]) => `${k} ${v} s`).join(', ')}`);
    const files = new Set(packed.files.map((f) => f.path));
    const expected = [
      'package.json',
      'README.md',
      'ARCHITECTURE.md',
      'docs/algorithms.md', // the README links it
      'bin/modeconn.js',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/cli/main.js',
      'dist/evaluate/evaluation-worker.js',
      'data/fashion-mnist-small/t10k-images-idx3-ubyte.gz',
      ...SUBPATHS.flatMap((s) => [`dist/entry/${s}.js`, `dist/entry/${s}.d.ts`]),
    ];
    for (const file of expected) expect(files, file).toContain(file);
    const unwanted = [...files].filter((f) => f.startsWith('src/') || f.startsWith('test/') || /\.test\.|__snapshots__|\.map$/.test(f));
    expect(unwanted).toEqual([]);
    // The embedded dataset is ~5.3 MB of gzip; the code well under 2 MB more.
    expect(packed.unpackedSize).toBeLessThan(8_000_000);
  });
});

// Independent programs in one project: run side by side.
describe.concurrent('installed into a fresh project', () => {
  it('a plain .mjs imports the main entry (the same names as src/index.ts) and a subpath export; internals stay private', async ({ expect }) => {
    await writeFile(
      join(app, 'check.mjs'),
      `import * as api from 'mode-connectivity';
import { lenet5, createModel, disposeTensors } from 'mode-connectivity/models';
const resolves = (s) => { try { import.meta.resolve(s); return true; } catch { return false; } };
await api.initBackend('wasm');
const model = createModel('lenet5', {}, 1);
const params = model.params.size;
disposeTensors(model);
console.log(JSON.stringify({
  names: Object.keys(api).sort(),
  lenet5: lenet5.name,
  params,
  internal: resolves('mode-connectivity/dist/evaluate/worker-pool.js'),
  tsx: resolves('tsx'),
}));
`,
    );
    const { stdout } = await ok('node', ['check.mjs'], app);
    const out = JSON.parse(stdout) as { names: string[]; lenet5: string; params: number; internal: boolean; tsx: boolean };
    expect(out.names).toEqual(Object.keys(publicApi).sort());
    expect(out.lenet5).toBe('lenet5');
    // conv1, conv2, fc1, fc2, fc3: a weight and a bias each.
    expect(out.params).toBe(10);
    expect(out.internal).toBe(false);
    expect(out.tsx, 'tsx (a dev dependency) must not be installed with the package').toBe(false);
  });

  it('a .ts script run with tsx imports it, and type-checks against the shipped declarations', async ({ expect }) => {
    await writeFile(
      join(app, 'check.ts'),
      `import { initBackend, linearPath, createModel, disposeTensors, type Model, type ParameterPath } from 'mode-connectivity';
import { barrierMetrics, type PathRow } from 'mode-connectivity/barriers';

await initBackend('wasm');
const a: Model = createModel('lenet5', {}, 1);
const b: Model = createModel('lenet5', {}, 2);
const path: ParameterPath = linearPath(a, b);
const mid = path.pointAt(0.5);
const rows: PathRow[] = [0, 0.5, 1].map((t) => ({ path: 'linear', t, split: 'test', loss: t === 0.5 ? 2 : 1, accuracy: 0.5 }));
const [m] = barrierMetrics(rows);
console.log(JSON.stringify({ tensors: mid.params.size, barrier: m?.lossBarrier }));
disposeTensors(mid);
path.dispose();
disposeTensors(a, b);
`,
    );
    await writeFile(
      join(app, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: [] }, files: ['check.ts'] }),
    );
    const tsx = join(repo, 'node_modules', 'tsx', 'dist', 'cli.mjs');
    const { stdout } = await ok('node', [tsx, 'check.ts'], app);
    // Barrier of the made-up rows: max_t L(t) − ((1−t)L(0) + tL(1)) = 2 − 1 at t = 0.5.
    expect(JSON.parse(stdout)).toEqual({ tensors: 10, barrier: 1 });
    const typecheck = await run('node', [join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], app);
    expect(typecheck.stdout + typecheck.stderr).toBe('');
    expect(typecheck.code).toBe(0);
  });

  it('npx modeconn --help lists the commands, and barrier linear runs its worker threads from dist/', async ({ expect }) => {
    const help = await ok('npx', ['--offline', 'modeconn', '--help'], app);
    for (const command of ['train', 'eval', 'info', 'convert', 'barrier', 'path', 'simulate']) expect(help.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    for (const fixture of FIXTURES) await cp(join(repo, 'test', 'fixtures', fixture), join(app, fixture));
    const barrier = await ok('npx', ['--offline', 'modeconn', 'barrier', 'linear', FIXTURES[0], FIXTURES[1], '--points', '3', '--test-examples', '200', '--workers', '2', '--json', '--quiet'], app);
    const out = JSON.parse(barrier.stdout) as { rows: { t: number; loss: number }[] };
    expect(out.rows.map((r) => r.t)).toEqual([0, 0.5, 1]);
    for (const row of out.rows) expect(Number.isFinite(row.loss) && row.loss > 0).toBe(true);
  });

  it("the README's library example runs as written: a linear barrier near PyTorch's, one layer-wise barrier per layer and rest below it, two PNG charts", async ({ expect }) => {
    const example = readmeExample(await readFile(join(repo, 'README.md'), 'utf8'));
    await mkdir(join(app, 'test', 'fixtures'), { recursive: true });
    for (const fixture of FIXTURES) await cp(join(repo, 'test', 'fixtures', fixture), join(app, 'test', 'fixtures', fixture));
    await writeFile(join(app, 'barriers.ts'), example);
    const { stdout } = await ok('node', [join(repo, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'barriers.ts'], app);

    // PyTorch's loss on the first 500 test images (test/fixtures/barriers-lenet5-expected.json);
    // the example's 500 are a class-balanced sample of the same 2,000, so the barrier is close, not equal.
    const expected = JSON.parse(await readFile(join(repo, 'test', 'fixtures', 'barriers-lenet5-expected.json'), 'utf8')) as { linear: { t: number; loss: number }[] };
    const first = expected.linear[0]?.loss ?? NaN;
    const last = expected.linear.at(-1)?.loss ?? NaN;
    const torchBarrier = Math.max(...expected.linear.map((p) => p.loss - ((1 - p.t) * first + p.t * last)));
    const linear = /^test: loss barrier ([\d.]+) at t = ([\d.]+)$/m.exec(stdout);
    expect(linear, stdout).not.toBeNull();
    expect(Math.abs(Number(linear?.[1]) - torchBarrier)).toBeLessThan(0.25 * torchBarrier);

    // One line per layer group and rest; each single-layer barrier far below the full one.
    const layerLines = [...stdout.matchAll(/^(\S+) \(rest ([AB])\): barrier (-?[\d.]+)$/gm)];
    expect(layerLines.map((l) => `${l[1]}/${l[2]}`).sort()).toEqual(['conv1', 'conv2', 'fc1', 'fc2', 'fc3'].flatMap((l) => [`${l}/A`, `${l}/B`]).sort());
    for (const line of layerLines) expect(Number(line[3])).toBeLessThan(Number(linear?.[1]));

    for (const name of ['linear', 'layerwise']) {
      const png = await readFile(join(app, 'barriers', `${name}.png`));
      expect(png.subarray(0, 8).toString('hex'), `${name}.png signature`).toBe('89504e470d0a1a0a');
      // IHDR width and height.
      expect(png.readUInt32BE(16)).toBeGreaterThan(100);
      expect(png.readUInt32BE(20)).toBeGreaterThan(100);
    }
  });
});
