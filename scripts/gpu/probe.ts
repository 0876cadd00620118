/**
 * First step of the GPU check: does the webgpu backend start here, on which adapter, and does a
 * matMul agree with the cpu backend? Prints one JSON object on stdout, also when it fails.
 *
 *   npx tsx scripts/gpu/probe.ts
 *
 * Measures 1024×1024 matMul throughput (GFLOP/s = 2·n³ / seconds, after two warm-up runs that
 * include the shader compilation, reported apart).
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../src/backend/init-backend.js';

async function main(): Promise<number> {
  const started = performance.now();
  const report: Record<string, unknown> = { node: process.version, platform: `${process.platform}-${process.arch}` };
  try {
    const choice = await initBackend('webgpu');
    report['choice'] = choice;
    report['startSeconds'] = (performance.now() - started) / 1000;
  } catch (error) {
    report['error'] = (error as Error).message;
    const auto = await initBackend('auto');
    report['auto'] = auto;
    console.log(JSON.stringify(report));
    return 1;
  }
  const n = 1024;
  const a = tf.randomUniform<tf.Rank.R2>([n, n], -1, 1, 'float32', 1);
  const b = tf.randomUniform<tf.Rank.R2>([n, n], -1, 1, 'float32', 2);
  // Asynchronous reads only: webgpu cannot read a GPU tensor synchronously in Node.
  const product = async (): Promise<Float32Array> => {
    const p = tf.matMul(a, b);
    const values = (await p.data()) as Float32Array;
    p.dispose();
    return values;
  };
  const first = performance.now();
  const got = await product();
  report['firstMatMulSeconds'] = (performance.now() - first) / 1000;
  await product();
  const repeats = 20;
  const timed = performance.now();
  for (let i = 0; i < repeats; i++) await product();
  const seconds = (performance.now() - timed) / 1000 / repeats;
  report['matMul1024'] = { secondsEach: seconds, gflops: (2 * n ** 3) / seconds / 1e9, note: 'includes the read-back of 4 MiB each time' };
  const [av, bv] = [await a.data(), await b.data()];
  tf.dispose([a, b]);
  await tf.setBackend('cpu');
  const expected = tf.tidy(() => tf.matMul(tf.tensor2d(av, [n, n]), tf.tensor2d(bv, [n, n])).dataSync().slice());
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs((got[i] as number) - (expected[i] as number)) / Math.max(1, Math.abs(expected[i] as number)));
  report['matMulMaxRelativeErrorVsCpu'] = worst;
  report['ok'] = worst < 1e-3;
  console.log(JSON.stringify(report));
  return worst < 1e-3 ? 0 : 1;
}

// Dawn holds the event loop while its instance lives: end explicitly.
process.exit(await main());
