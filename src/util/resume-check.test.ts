import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestBackend } from '../../test/helpers.js';
import { canonicalJson, describeDifferences, recipeDifferences, resumeError, resumeProblemOf, tensorFingerprint } from './resume-check.js';

beforeAll(async () => {
  await useTestBackend();
});

describe('resume checks', () => {
  it('canonicalJson ignores key order at every depth but not array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: null } })).toBe(canonicalJson({ a: { c: null, d: [2, 1] }, b: 1 }));
    expect(canonicalJson({ a: [1, 2] })).not.toBe(canonicalJson({ a: [2, 1] }));
  });

  it('recipeDifferences lists changed, added and removed fields, in the recorded order first', () => {
    const recorded = { lr: 0.05, optimizer: { kind: 'sgd', momentum: 0.9 }, epochs: 2, seed: 1 };
    const given = { seed: 1, epochs: 2, optimizer: { momentum: 0.9, kind: 'sgd' }, lr: 0.01, batchSize: 32 };
    const differences = recipeDifferences(recorded, given);
    expect(differences).toEqual([
      { field: 'lr', recorded: 0.05, given: 0.01 },
      { field: 'batchSize', recorded: undefined, given: 32 },
    ]);
    expect(describeDifferences(differences, (f) => `--${f}`)).toBe('--lr: recorded 0.05, given 0.01; --batchSize: recorded nothing, given 32');
    expect(recipeDifferences(recorded, { ...recorded })).toEqual([]);
  });

  it('resumeError says what, where and how to start over, and carries the problem as data', () => {
    const problem = { file: 'runs/seed-1/train-state.safetensors', folder: 'runs/seed-1', reason: 'was written by a run with another recipe', differences: [{ field: 'lr', recorded: 0.05, given: 0.01 }] };
    const error = resumeError(problem, 'pass resume: false');
    expect(error.message).toBe('cannot resume: runs/seed-1/train-state.safetensors was written by a run with another recipe (lr: recorded 0.05, given 0.01); to start over, pass resume: false or delete runs/seed-1');
    expect(resumeProblemOf(error)).toEqual(problem);
    expect(resumeProblemOf(new Error('other'))).toBeUndefined();
    expect(resumeProblemOf('not an error')).toBeUndefined();
  });

  it('tensorFingerprint changes with any value, name or shape, and not with map order', () => {
    const a = tf.tensor([1, 2, 3, 4]);
    const b = tf.tensor([1, 2, 3, 4.0001]);
    const c = tf.tensor([1, 2, 3, 4], [2, 2]);
    const base = tensorFingerprint(new Map([['w', a], ['v', b]]));
    expect(base).toMatch(/^[0-9a-f]{16}$/);
    expect(tensorFingerprint(new Map([['v', b], ['w', a]]))).toBe(base);
    expect(tensorFingerprint(new Map([['w', b], ['v', b]]))).not.toBe(base);
    expect(tensorFingerprint(new Map([['x', a], ['v', b]]))).not.toBe(base);
    expect(tensorFingerprint(new Map([['w', c], ['v', b]]))).not.toBe(base);
    tf.dispose([a, b, c]);
  });
});
