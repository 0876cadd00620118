/**
 * Node-steps per second of LeNet5 training in the simulator: K nodes' SGD steps (batch B each) run
 * as one batched computation (batched-lenet5.ts) versus K separate `trainStep` calls. Random
 * inputs; the numbers measure the arithmetic, not the data pipeline.
 */
import * as tf from '@tensorflow/tfjs-core';
import { lenet5 } from '../src/models/lenet5/index.js';
import { disposeTensors } from '../src/models/tensor-map.js';
import type { ModelState } from '../src/models/types.js';
import { createOptimizer } from '../src/train/optimizer.js';
import { trainStep } from '../src/train/step.js';
import { createRandom, uniformArray } from '../src/util/random.js';
import { batchedLossAndGradients, stackParams } from '../src/simulate/batched-lenet5.js';

export interface BenchSimulatorOptions {
  /** Nodes training in the same tick (default 5: 50 nodes, one step every 8–12 ticks). */
  readonly nodes?: number;
  /** Batch per node (default 64). */
  readonly batchSize?: number;
  /** Seconds per measurement (default 2). */
  readonly seconds?: number;
}

export interface BenchSimulatorResult {
  readonly nodes: number;
  readonly batchSize: number;
  /** Node-steps (one node, one batch, forward + backward + SGD) per second, batched. */
  readonly batchedNodeStepsPerSecond: number;
  /** The same, one node at a time with `trainStep`. */
  readonly separateNodeStepsPerSecond: number;
}

async function timeSteps(step: () => void, seconds: number): Promise<number> {
  step();
  const start = performance.now();
  let count = 0;
  for (;;) {
    step();
    count += 1;
    const elapsed = (performance.now() - start) / 1000;
    if (elapsed >= seconds && count >= 2) return count / elapsed;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Measures batched vs separate node-steps/second on the active backend. */
export async function benchSimulator(options: BenchSimulatorOptions = {}): Promise<BenchSimulatorResult> {
  const k = options.nodes ?? 5;
  const b = options.batchSize ?? 64;
  const seconds = options.seconds ?? 2;
  const config = lenet5.defaultConfig;
  const states: ModelState[] = Array.from({ length: k }, (_, i) => lenet5.init(config, i + 1, { scheme: 'xavier' }));
  const names = [...(states[0] as ModelState).params.keys()];
  const r = createRandom(0);
  const x = tf.tensor4d(uniformArray(k * b * 28 * 28, 0, 1, r), [k * b, 28, 28, 1]);
  const labels = tf.tensor2d(Int32Array.from({ length: k * b }, () => r.int(10)), [k, b], 'int32');
  const xs = Array.from({ length: k }, (_, i) => tf.slice(x, [i * b, 0, 0, 0], [b, 28, 28, 1]));
  const ys = Array.from({ length: k }, (_, i) => tf.reshape<tf.Rank.R1>(tf.slice(labels, [i, 0], [1, b]), [b]));
  const sgd = { kind: 'sgd', momentum: 0.9, weightDecay: 1e-4 } as const;
  try {
    const batchedOptimizer = createOptimizer(sgd);
    const batched = await timeSteps(() => {
      const stacked = stackParams(states, names);
      const { loss, grads } = batchedLossAndGradients(config, stacked, x, labels);
      const updated = batchedOptimizer.step(stacked, grads, 0.01);
      const parts = [...updated.values()].map((t) => tf.unstack(t));
      parts.flat().at(-1)?.dataSync();
      tf.dispose([loss, ...grads.values(), ...stacked.values(), ...updated.values(), ...parts.flat()]);
    }, seconds);
    batchedOptimizer.dispose();
    const optimizers = states.map(() => createOptimizer(sgd));
    const separate = await timeSteps(() => {
      states.forEach((state, i) => {
        const out = trainStep(lenet5, config, state, { x: xs[i] as tf.Tensor4D, y: ys[i] as tf.Tensor1D }, optimizers[i] as ReturnType<typeof createOptimizer>, 0.01);
        out.loss.dataSync();
        tf.dispose([out.loss, out.correct]);
        disposeTensors(out.state);
      });
    }, seconds);
    optimizers.forEach((o) => o.dispose());
    return { nodes: k, batchSize: b, batchedNodeStepsPerSecond: batched * k, separateNodeStepsPerSecond: separate * k };
  } finally {
    tf.dispose([x, labels, ...xs, ...ys]);
    disposeTensors(...states);
  }
}
