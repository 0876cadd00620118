import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadArchitectureModule } from './architecture-module.js';
import { getArchitecture, hasArchitecture } from './registry.js';

/** A plain-JS architecture module body; `apply`/`init` are never called here. */
const body = (name: string) => `{
  name: '${name}',
  defaultConfig: {},
  parseConfig: () => ({}),
  spec: () => ({ params: [], buffers: [], layers: [], inputShape: [1, 1, 1], classes: 2 }),
  init: () => { throw new Error('not used'); },
  apply: () => { throw new Error('not used'); },
}`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'modeconn-arch-module-unit-'));
  await writeFile(join(dir, 'default.mjs'), `export default ${body('from-default')};\n`);
  await writeFile(join(dir, 'named.mjs'), `export const architecture = ${body('from-named')};\nexport const other = 1;\n`);
  await writeFile(join(dir, 'self.mjs'), `import { registerArchitecture } from ${JSON.stringify(pathToFileURL(join(process.cwd(), 'src/models/registry.ts')).href)};\nexport const architecture = ${body('self-registered')};\nregisterArchitecture(architecture);\n`);
  await writeFile(join(dir, 'none.mjs'), `export const helper = 1;\nexport function other() {}\n`);
  await writeFile(join(dir, 'number.mjs'), `export default 42;\n`);
  await writeFile(join(dir, 'clash.mjs'), `export default ${body('lenet5')};\n`);
  await writeFile(join(dir, 'broken.mjs'), `export default ${body('Not Valid')};\n`);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('loadArchitectureModule', () => {
  it('registers the default export, or else the export named "architecture", with the module URL for worker threads', async () => {
    const fromDefault = await loadArchitectureModule('default.mjs', { cwd: dir });
    expect(fromDefault.name).toBe('from-default');
    expect(getArchitecture('from-default')).toBe(fromDefault);
    expect(fromDefault.module).toBe(pathToFileURL(join(dir, 'default.mjs')).href);
    const fromNamed = await loadArchitectureModule(join(dir, 'named.mjs'));
    expect(fromNamed.name).toBe('from-named');
    // Loading the same module again is harmless and gives the registered architecture.
    expect(await loadArchitectureModule(join(dir, 'named.mjs'))).toBe(fromNamed);
  });

  it('accepts a module that registers its architecture itself', async () => {
    const arch = await loadArchitectureModule(join(dir, 'self.mjs'));
    expect(arch.name).toBe('self-registered');
    expect(hasArchitecture('self-registered')).toBe(true);
    // The module's own object, not a copy registered by the loader.
    expect(arch.module).toBeUndefined();
  });

  it('says what is wrong with a module: missing, no usable export, not an object, a taken or invalid name', async () => {
    await expect(loadArchitectureModule('./nope.mjs', { cwd: dir })).rejects.toThrow(/architecture module \.\/nope\.mjs: not found \(file:/);
    await expect(loadArchitectureModule(join(dir, 'none.mjs'))).rejects.toThrow(/expected a default export or an export named "architecture" holding the architecture, found exports helper, other/);
    await expect(loadArchitectureModule(join(dir, 'number.mjs'))).rejects.toThrow(/number\.mjs: the export is a number, expected an architecture object/);
    await expect(loadArchitectureModule(join(dir, 'clash.mjs'))).rejects.toThrow(/clash\.mjs: registerArchitecture: the name "lenet5" is taken by another architecture/);
    await expect(loadArchitectureModule(join(dir, 'broken.mjs'))).rejects.toThrow(/broken\.mjs: registerArchitecture: invalid name "Not Valid"/);
  });
});
