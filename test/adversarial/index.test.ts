/**
 * Adversarial suite, index: the hostile-input cases that live beside the code they test rather
 * than in this folder. This file fails when one of them is renamed, moved or deleted, so that the
 * suite as a whole (this folder plus the tests listed here) cannot lose a case silently.
 *
 * In this folder: writers.test.ts (planted symlinks, folder as output, temp files), safetensors,
 * idx (IDX and CIFAR) and tfjs (shard confinement) readers, with hostile reads in capped children.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';

/** [case, test file (from the repository root), exact test title]. */
const ELSEWHERE: readonly (readonly [string, string, string])[] = [
  ['atomic writes: planted symlink at the old name', 'src/util/atomic-write.test.ts', 'does not write through a symlink planted at the old predictable name <out>.<pid>.tmp'],
  ['atomic writes: O_EXCL at the exact temporary name', 'src/util/atomic-write.test.ts', 'refuses to create its temporary file over anything planted at that exact name (O_EXCL), and removes nothing of it'],
  ['atomic writes: failure midway', 'src/util/atomic-write.test.ts', 'a failure midway leaves the old file intact and no temporary file'],
  ['atomic writes: stale temporary files', 'src/util/atomic-write.test.ts', 'removes our temporary files (new and old naming) and nothing else; a symlink is unlinked, not followed'],
  ['safetensors writer: disk full midway', 'src/checkpoint/safetensors.test.ts', 'is atomic: a write failing midway leaves the old file intact and no temporary file'],
  ['safetensors header reader: missing, empty, not safetensors', 'src/checkpoint/safetensors.test.ts', 'names the file when it is missing, empty, truncated in the header or in the data, or not safetensors'],
  ['checkpoint: missing, extra and misshapen tensors', 'src/checkpoint/checkpoint.test.ts', 'lists every missing, unexpected and misshapen tensor in one error and loads nothing'],
  ['checkpoint: wrong architecture or config', 'src/checkpoint/checkpoint.test.ts', 'refuses a native file asked for as another architecture or config, and a bad metadata version'],
  ['checkpoint: wrong --arch for a PyTorch file', 'src/checkpoint/checkpoint.test.ts', 'a wrong --arch lists the tensors that do not fit, and loads nothing'],
  ['PyTorch LeNet5: renamed, misshapen, NaN, truncated, other architecture', 'src/checkpoint/pytorch-lenet5.test.ts', 'names the tensor when a file is renamed, misshapen, NaN, truncated or of another architecture'],
  ['PyTorch ResNet18: BN buffer shape, missing downsample, wrong width', 'src/checkpoint/pytorch-resnet18.test.ts', 'errors name the tensor: wrong BN buffer shape, missing downsample, wrong width asked for'],
  ['curve file: not a curve, missing tensor', 'src/paths/curve-checkpoint.test.ts', 'refuses a file that is not a curve, and names a missing tensor without leaking'],
  ['NEB chain file: missing, truncated, not a chain', 'src/paths/neb-checkpoint.test.ts', 'refuses a missing, truncated or non-chain file, naming it, and a missing or misshapen tensor without leaking'],
  ['checkpoint metadata: bad values', 'src/checkpoint/metadata.test.ts', 'errors name the file and the key'],
  ['tfjs: wiring', 'src/checkpoint/tfjs-layers.test.ts', 'refuses a differently wired network, listing what differs'],
  ['tfjs: shapes, truncated and missing shard, quantized', 'src/checkpoint/tfjs-layers.test.ts', 'names the weight whose shape does not fit, a truncated shard, a missing shard, a quantized weight'],
  ['IDX: wrong magic', 'src/data/idx.test.ts', 'a wrong magic names the file, the expected and the found magic'],
  ['IDX: element type', 'src/data/idx.test.ts', 'a non-ubyte element type is refused'],
  ['IDX: truncated file', 'src/data/idx.test.ts', 'a truncated file names the file and expected vs found length'],
  ['IDX: truncated gzip stream', 'src/data/idx.test.ts', 'a truncated gzip stream names the file'],
  ['IDX: labels vs images', 'src/data/idx.test.ts', 'readIdxSplit pairs images and labels and checks their counts and label range'],
  ['CIFAR: record size', 'src/data/cifar.test.ts', 'a record size mismatch names the file and the sizes'],
  ['CIFAR: label range, missing file', 'src/data/cifar.test.ts', 'an out-of-range label and a missing file name the file'],
  ['train: kill and resume, bit for bit, stale temporary files removed', 'src/train/train-mode.test.ts', 'an interrupted run resumes from its last completed epoch and ends bit-identical to an uninterrupted one'],
  ['LLPF: stop and resume, identical, stale temporary files removed', 'src/paths/llpf.test.ts', 'a run stopped after tick 5 and resumed equals an uninterrupted 10-tick run (tensors, rows, iterations)'],
];

describe('adversarial: cases kept beside the code', () => {
  it.each(ELSEWHERE)('%s: %s still holds the test', async (_case, file, title) => {
    const text = await readFile(new URL(`../../${file}`, import.meta.url), 'utf8');
    const quoted = [`it('${title.replace(/'/g, "\\'")}'`, `it("${title}"`, `it(\`${title}\``];
    expect(quoted.some((q) => text.includes(q)), `${file} has no test titled ${JSON.stringify(title)}`).toBe(true);
  });
});
