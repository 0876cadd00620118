/**
 * The CLI on VGG and MobileNetV2 at tiny width: `train --arch`, `info`, `convert` to PyTorch and
 * back (the round trip keeps the model's predictions), `barrier linear` and `path llpf` between
 * two trained modes, and `train --help` listing the architecture with its config fields. One
 * epoch of two steps on 32 images, 20 test and 20 training images for evaluation.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint, saveCheckpoint } from '../src/checkpoint/checkpoint.js';
import { createModel } from '../src/models/registry.js';
import { disposeTensors } from '../src/models/tensor-map.js';
import { expectDescribed, expectLinearBarrier, runQuiet } from './cli-family.js';
import { useTestBackend } from './helpers.js';

const run = runQuiet;

let dir: string;
beforeAll(async () => {
  await useTestBackend();
  dir = await mkdtemp(join(tmpdir(), 'modeconn-vgg-mnv2-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const FAMILIES = [
  { arch: 'vgg', config: { depth: 11, width: 0.0625 }, layers: 9, analyses: true },
  // stem + 17 blocks × 3 convs + 4 conv shortcuts + head + classifier
  { arch: 'mobilenetv2', config: { width: 0.0625 }, layers: 1 + 51 + 4 + 2, analyses: true },
  // Same code paths as mobilenetv2 for train and the analyses (~25 s on 2 cores): a fresh
  // checkpoint through info and convert only.
  { arch: 'mobilenetv2-dfl', config: { width: 0.0625 }, layers: 1 + 51 + 2, analyses: false },
] as const;

describe('CLI on the CNN families of the layer-wise connectivity paper', () => {
  it('train --help lists every family with its config fields', async () => {
    const { code, stdout } = await run(['train', '--help']);
    expect(code).toBe(0);
    for (const f of FAMILIES) expect(stdout).toMatch(new RegExp(`\\n +${f.arch} +\\{"${Object.keys(f.config)[0]}"`));
  });

  for (const family of FAMILIES) {
    it(`${family.arch}: ${family.analyses ? 'train, ' : ''}info, convert both ways${family.analyses ? ', barrier linear and path llpf' : ''}`, async () => {
      const out = join(dir, family.arch);
      const common = ['--test-examples', '20', '--pad-to', '32', '--channels', '3'];
      const a = join(out, 'seed-1', 'epoch-1.safetensors');
      const b = join(out, 'seed-2', 'epoch-1.safetensors');
      if (family.analyses) {
        const trained = await run(['train', '--arch', family.arch, '--config', JSON.stringify(family.config), '--seeds', '1,2', '--epochs', '1', '--train-examples', '32', '--batch-size', '16', '--lr', '0.01', '--workers', '1', '--out', out, '--json', ...common]);
        expect(trained.code, trained.stderr).toBe(0);
      } else {
        await mkdir(join(out, 'seed-1'), { recursive: true });
        const model = createModel(family.arch, family.config, 1);
        await saveCheckpoint(a, model, { dataset: 'fashion-mnist-small', preprocessing: { normalize: 'unit', padTo: 32, channels: 3 } });
        disposeTensors(model);
      }

      const described = await expectDescribed(a, family.arch, family.config);
      expect(described.layers).toHaveLength(family.layers);

      // native → PyTorch (architecture detected back from the names) → native: same predictions
      const torch = join(dir, `${family.arch}-torch.safetensors`);
      const back = join(dir, `${family.arch}-back.safetensors`);
      expect((await run(['convert', a, torch, '--to', 'pytorch'])).code).toBe(0);
      const torchInfo = JSON.parse((await run(['info', torch, '--json'])).stdout) as { architecture: string; format: string };
      expect(torchInfo).toMatchObject({ architecture: family.arch, format: 'pytorch' });
      const converted = await run(['convert', torch, back, '--pad-to', '32', '--channels', '3']);
      expect(converted.code, converted.stderr).toBe(0);
      const [ma, mb] = [(await loadCheckpoint(a)).model, (await loadCheckpoint(back)).model];
      expect(mb.config).toEqual(ma.config);
      for (const [name, t] of [...ma.params, ...ma.buffers]) {
        const other = mb.params.get(name) ?? mb.buffers.get(name);
        expect(Array.from(other?.dataSync() ?? []), name).toEqual(Array.from(t.dataSync()));
      }
      disposeTensors(ma, mb);

      if (!family.analyses) return;
      await expectLinearBarrier(a, b, ['--train-examples', '20', '--test-examples', '20', '--bn-batches', '1', '--workers', '1', '--json']);

      const llpf = await run(['path', 'llpf', a, '--to', `model:${b}`, '--ticks', '2', '--stage-ticks', '1', '--no-train', '--step-adaptive', '0.5', '--out', join(dir, `${family.arch}-llpf`), '--points', '3', '--train-examples', '20', '--test-examples', '20', '--bn-batches', '1', '--batch-size', '16', '--workers', '1', '--json']);
      expect(llpf.code, llpf.stderr).toBe(0);
    });
  }
});
