/**
 * Last step of scripts/gpu-check.sh: gathers what the steps left in WORK into one JSON document
 * on stdout (the check's only result file besides its log).
 *
 *   npx tsx scripts/gpu/collect.ts WORK > gpu-check.json
 *
 * WORK holds, per step, NAME.status.json (exit status, seconds, timeout) and NAME.log (output),
 * plus what steps wrote: tests.json (vitest's JSON reporter), bench.json (bench/bench.ts),
 * demo-summary.json (scripts/demo.ts), env-*.txt (nvidia-smi, Vulkan ICDs, …), bundle-manifest.json.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { jsonLines, summaryRows, targets, type BenchRowLike, type TorchRowLike } from './check-report.js';

const work = process.argv[2];
if (work === undefined) throw new Error('usage: collect.ts WORK (the folder gpu-check.sh filled)');

// eslint-disable-next-line no-control-regex -- terminal colour codes, should a tool ignore NO_COLOR
const ANSI = /\x1b\[[0-9;]*m/g;
const read = (file: string): string | undefined => (existsSync(join(work, file)) ? readFileSync(join(work, file), 'utf8').replace(ANSI, '') : undefined);
const readJson = (file: string): unknown => {
  const text = read(file);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    return { unreadable: file, error: (error as Error).message };
  }
};
const tail = (text: string | undefined, lines: number) => (text === undefined ? undefined : text.split('\n').slice(-lines).join('\n'));

const files = readdirSync(work).sort();
const steps = files
  .filter((f) => f.endsWith('.status.json'))
  .map((f) => {
    const name = f.slice(0, -'.status.json'.length);
    return { ...(readJson(f) as { started?: number }), logTail: tail(read(`${name}.log`), 40) };
  })
  .sort((a, b) => (a.started ?? 0) - (b.started ?? 0));
const env = Object.fromEntries(files.filter((f) => f.startsWith('env-') && f.endsWith('.txt')).map((f) => [f.slice(4, -4), read(f)?.trim()]));

const probeLines = jsonLines(read('probe.log') ?? '');
const probe = probeLines[probeLines.length - 1];

interface VitestReport {
  numTotalTests?: number;
  numPassedTests?: number;
  numFailedTests?: number;
  numPendingTests?: number;
  testResults?: { name?: string; assertionResults?: { fullName?: string; status?: string; failureMessages?: string[] }[] }[];
}
const vitest = readJson('tests.json') as VitestReport | undefined;
const testsLog = read('tests.log') ?? '';
const tests =
  vitest === undefined
    ? undefined
    : {
        total: vitest.numTotalTests,
        passed: vitest.numPassedTests,
        failed: vitest.numFailedTests,
        skipped: vitest.numPendingTests,
        results: (vitest.testResults ?? []).flatMap((file) =>
          (file.assertionResults ?? []).map((a) => ({ name: a.fullName, status: a.status, ...(a.failureMessages?.length ? { failure: a.failureMessages.join('\n').slice(0, 2000) } : {}) })),
        ),
        // MODECONN_COMPARISON_REPORT lines: the largest error of each kind per model.
        comparisonErrors: jsonLines(testsLog).filter((o) => typeof o === 'object' && o !== null && 'id' in o),
        skipReasons: testsLog.split('\n').filter((l) => l.includes(' skipped: ')),
      };

const bench = readJson('bench.json') as { backend?: string; rows?: BenchRowLike[] } | undefined;
const torch = jsonLines(read('torch.log') ?? '') as TorchRowLike[];
const demo = readJson('demo-summary.json') as { seconds?: number } | undefined;
const benchRows = bench?.rows ?? [];

const report = {
  format: 'modeconn-gpu-check',
  version: 1,
  date: new Date().toISOString(),
  backend: bench?.backend,
  env,
  bundle: readJson('bundle-manifest.json'),
  probe,
  steps,
  summary: summaryRows(benchRows, torch),
  targets: targets(benchRows, demo?.seconds),
  tests,
  bench,
  analyses: (readJson('analyses.json') as { analyses?: unknown } | undefined)?.analyses,
  torch,
  demo,
};
console.log(JSON.stringify(report, null, 2));
