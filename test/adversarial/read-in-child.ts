/**
 * Child-process entry of the adversarial suite: `node read-in-child.mjs <reader> <path>` runs one
 * reader of the package on one file and prints one JSON line, {ok, summary} or {error}, with the
 * peak resident memory (`maxRssMb`). Exit status 0: read; 2: refused with an error (the clean
 * outcome for a hostile file); anything else (a crash, a kill) is a failure of the reader.
 */
import { readSafetensors, readSafetensorsHeader } from '../../src/checkpoint/safetensors.js';
import { readCifarFile, CIFAR10_FORMAT } from '../../src/data/cifar.js';
import { readIdx } from '../../src/data/idx.js';

// tfjs-layers pulls in tfjs-core: imported only by the reader that needs it, to keep children fast.
const loadTfjsLayersModel = async (path: string) => (await import('../../src/checkpoint/tfjs-layers.js')).loadTfjsLayersModel(path);

const READERS: Readonly<Record<string, (path: string) => Promise<string>>> = {
  safetensors: async (path) => `${(await readSafetensors(path)).tensors.size} tensors`,
  'safetensors-header': async (path) => `${(await readSafetensorsHeader(path)).tensors.size} tensors`,
  idx: async (path) => `dims ${(await readIdx(path)).dims.join('x')}`,
  cifar10: async (path) => `${(await readCifarFile(path, CIFAR10_FORMAT)).count} records`,
  tfjs: async (path) => `config ${JSON.stringify((await loadTfjsLayersModel(path)).model.config)}`,
};

const [reader = '', path = ''] = process.argv.slice(2);
const maxRssMb = (): number => Math.round(process.resourceUsage().maxRSS / 1024);
const read = READERS[reader];
if (read === undefined) {
  console.log(JSON.stringify({ error: `unknown reader ${JSON.stringify(reader)}`, maxRssMb: maxRssMb() }));
  process.exit(3);
}
try {
  const summary = await read(path);
  console.log(JSON.stringify({ ok: true, summary, maxRssMb: maxRssMb() }));
  process.exit(0);
} catch (error) {
  console.log(JSON.stringify({ error: (error as Error).message, maxRssMb: maxRssMb() }));
  process.exit(2);
}
