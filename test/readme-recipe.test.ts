/**
 * The README's `modeconn train` example trains the demo's two modes with the demo's recipe
 * (scripts/demo.ts reuses checkpoints it finds, so the two must agree field by field).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { demoTraining } from '../scripts/figures/common.js';
import { parseSchedule } from '../src/train/schedule.js';

/** The words of the README's `npx modeconn train …` command, backslash continuations joined. */
function readmeTrainCommand(): string[] {
  const readme = readFileSync('README.md', 'utf8').replace(/\\\n\s*/g, ' ');
  const line = readme.split('\n').find((l) => l.startsWith('npx modeconn train '));
  if (line === undefined) throw new Error('README.md: no line starting with "npx modeconn train"');
  return line.replace(/#.*$/, '').trim().split(/\s+/).slice(3);
}

describe("the README's training example", () => {
  it('is the demo recipe: architecture, data, seeds, epochs, optimizer, schedule, saved epochs and folder', () => {
    const words = readmeTrainCommand();
    const flag = (name: string): string | undefined => {
      const i = words.indexOf(`--${name}`);
      return i < 0 ? undefined : words[i + 1];
    };
    const { seeds, options } = demoTraining('runs/demo');
    expect(flag('arch')).toBe(options.architecture);
    expect(flag('dataset')).toBe(options.dataset);
    expect(flag('seeds')?.split(',').map(Number)).toEqual(seeds);
    expect(Number(flag('epochs'))).toBe(options.epochs);
    expect(Number(flag('batch-size'))).toBe(options.batchSize);
    expect(Number(flag('lr'))).toBe(options.lr);
    const optimizer = options.optimizer;
    expect(flag('optimizer')).toBe(optimizer?.kind);
    expect(Number(flag('momentum'))).toBe(optimizer?.kind === 'sgd' ? optimizer.momentum : NaN);
    expect(Number(flag('weight-decay'))).toBe(optimizer?.weightDecay);
    expect(parseSchedule(flag('schedule') ?? '')).toEqual(options.schedule);
    expect(flag('save-epochs')?.split(',').map(Number)).toEqual(options.saveEpochs);
    expect(flag('out')).toBe(options.outDir);
    // The demo trains in the calling thread; more workers sum gradients in another order.
    expect(flag('workers')).toBe('1');
    expect(options.init ?? 'pytorch').toBe(flag('init') ?? 'pytorch');
  });
});
