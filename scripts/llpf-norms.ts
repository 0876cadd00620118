/**
 * Parameter norms along a saved LLPF run, split by tensor kind: the total ‖θ‖₂ that the run's rows
 * report can hide what moved. Toward the origin LLPF moves weights and biases but leaves BatchNorm
 * affine parameters where they are (ALGORITHMS.md §5), and in a small ResNet18 those fixed γ = 1
 * entries dominate ‖θ‖₂.
 *
 *   npx tsx scripts/llpf-norms.ts RUN_DIR START_CHECKPOINT [--json]
 *
 * RUN_DIR is the folder of `modeconn path llpf --out` (or `checkpoint.directory` of runLlpf);
 * START_CHECKPOINT the run's start model (it gives the architecture and each tensor's kind). Prints,
 * per recorded tick: ‖θ‖₂ over all parameters, over the tensors LLPF moves toward the origin, and
 * per kind (weight, bias, norm-scale, …), with the test loss and accuracy of the row.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend } from '../src/backend/init-backend.js';
import { loadCheckpoint } from '../src/checkpoint/checkpoint.js';
import { readSafetensors } from '../src/checkpoint/safetensors.js';
import { getArchitecture } from '../src/models/registry.js';
import { movementUnits } from '../src/paths/llpf-move.js';
import { LLPF_FILES, readLlpfRows } from '../src/paths/llpf.js';

const { positionals, values } = parseArgs({ allowPositionals: true, options: { json: { type: 'boolean', default: false } } });
const [dir, startPath] = positionals;
if (dir === undefined || startPath === undefined) {
  console.error('usage: npx tsx scripts/llpf-norms.ts RUN_DIR START_CHECKPOINT [--json]');
  process.exit(2);
}
if (!existsSync(join(dir, LLPF_FILES.state))) throw new Error(`${dir}: not an LLPF run folder (no ${LLPF_FILES.state})`);

await initBackend('cpu');
const { model: start } = await loadCheckpoint(startPath);
const spec = getArchitecture(start.architecture).spec(start.config);
const kinds = new Map(spec.params.map((p) => [p.name, p.kind]));
// Every group active (schedule empty = all groups from tick 0): the tensors the origin target moves.
const moved = new Set(movementUnits(spec, { kind: 'origin' }, 0, new Map()).flatMap((u) => u.names));

const rows = await readLlpfRows(dir);
const ticks = [...new Set(rows.map((r) => r.tick))];
const table = [];
for (const tick of ticks) {
  const file = join(dir, LLPF_FILES.point(tick));
  if (!existsSync(file)) continue;
  const { tensors } = await readSafetensors(file);
  const sums = new Map<string, number>();
  const add = (key: string, value: number) => sums.set(key, (sums.get(key) ?? 0) + value);
  for (const [key, tensor] of tensors) {
    if (!key.startsWith('params/')) continue;
    const name = key.slice('params/'.length);
    const kind = kinds.get(name);
    if (kind === undefined) throw new Error(`${file}: tensor "${name}" is not a parameter of ${start.architecture}`);
    let s = 0;
    for (const v of tensor.data) s += v * v;
    add('all', s);
    add(kind, s);
    if (moved.has(name)) add('moved', s);
  }
  const test = rows.find((r) => r.tick === tick && r.split === 'test');
  table.push({
    tick,
    norms: Object.fromEntries([...sums].map(([k, s]) => [k, Math.sqrt(s)])),
    testLoss: test?.loss ?? null,
    testAccuracy: test?.accuracy ?? null,
  });
}
start.params.forEach((t) => t.dispose());
start.buffers.forEach((t) => t.dispose());

if (values.json) {
  console.log(JSON.stringify({ run: dir, start: startPath, architecture: start.architecture, table }, null, 1));
} else {
  const keys = ['all', 'moved', ...new Set(spec.params.map((p) => p.kind))];
  console.log(['tick', ...keys.map((k) => `‖${k}‖`), 'test loss', 'accuracy'].join('\t'));
  for (const r of table) {
    console.log([r.tick, ...keys.map((k) => (r.norms[k] ?? 0).toFixed(2)), r.testLoss?.toFixed(3) ?? '—', r.testAccuracy === null ? '—' : `${(100 * r.testAccuracy).toFixed(1)}%`].join('\t'));
  }
}
