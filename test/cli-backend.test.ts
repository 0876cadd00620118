import { describe, expect, it } from 'vitest';
import { describeBackendChoice } from '../src/cli/main.js';
import { runCli } from './run-cli.js';
import { reportSkip, webgpuAvailability } from './helpers.js';

const availability = await webgpuAvailability();
if (availability.available) reportSkip('cli-backend.test.ts', 'the no-adapter error test', 'this machine has a WebGPU adapter');

describe('the CLI backend report', () => {
  it('prints the choice and one line per skipped backend with its reason', () => {
    const lines = describeBackendChoice({
      requested: 'auto',
      active: 'wasm',
      package: '@tensorflow/tfjs-backend-wasm',
      holdsEventLoop: false,
      skipped: [
        { name: 'tensorflow-gpu', reason: 'package @tensorflow/tfjs-node-gpu not installed' },
        { name: 'tensorflow', reason: 'libtensorflow missing (libtensorflow.so.2)' },
        { name: 'webgpu', reason: 'no WebGPU adapter (Dawn found no usable Vulkan driver)' },
      ],
    });
    expect(lines).toEqual([
      'modeconn: backend wasm from @tensorflow/tfjs-backend-wasm',
      'modeconn:   skipped tensorflow-gpu: package @tensorflow/tfjs-node-gpu not installed',
      'modeconn:   skipped tensorflow: libtensorflow missing (libtensorflow.so.2)',
      'modeconn:   skipped webgpu: no WebGPU adapter (Dawn found no usable Vulkan driver)',
    ]);
    expect(describeBackendChoice({ requested: 'webgpu', active: 'webgpu', package: '@tensorflow/tfjs-backend-webgpu', device: 'nvidia hopper', holdsEventLoop: true, skipped: [] })).toEqual([
      'modeconn: backend webgpu from @tensorflow/tfjs-backend-webgpu on nvidia hopper',
    ]);
  });

  it.skipIf(availability.available)('--backend webgpu without an adapter fails with exit code 1 and the reason, before reading any input', async () => {
    const result = await runCli(['info', 'no-such-checkpoint.safetensors'], ['--backend', 'webgpu']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^modeconn info: backend "webgpu" is not available \(@tensorflow\/tfjs-backend-webgpu\): /);
    expect(result.stderr).not.toContain('no-such-checkpoint');
  });

  it('--help lists webgpu among the backends', async () => {
    const result = await runCli(['--help']);
    expect(result.stdout).toContain('auto | tensorflow-gpu | tensorflow | webgpu | wasm | cpu');
  });
});
