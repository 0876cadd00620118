/**
 * Makes the embedded Fashion-MNIST subset in data/fashion-mnist-small: a seeded, class-balanced
 * 10,000-image training subset and 2,000-image test subset of the full Fashion-MNIST (Debian's
 * dataset-fashion-mnist, or --data-dir), written as gzip IDX files with the same names as the
 * originals, plus indices.json (which original image each subset image is) and a README.
 *
 * Usage: npx tsx scripts/make-fashion-mnist-small.ts [--data-dir DIR] [--out DIR]
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEBIAN_FASHION_MNIST_DIR, FASHION_MNIST_SMALL_FOLDER, idxFileStems, loadDataset } from '../src/data/datasets.js';
import { writeIdxSplit } from '../src/data/idx.js';
import { findPackageRoot } from '../src/data/package-root.js';
import { classCounts, selectImages, subsetIndices } from '../src/data/subset.js';
import type { SplitName } from '../src/data/types.js';
import { writeFileAtomic } from '../src/util/atomic-write.js';

const SEED = 2017;
const COUNTS: Record<SplitName, number> = { train: 10_000, test: 2_000 };

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'data-dir': { type: 'string' }, out: { type: 'string' } } });
  const dataDir = values['data-dir'] ?? DEBIAN_FASHION_MNIST_DIR;
  const out = values.out ?? join(findPackageRoot(import.meta.url), FASHION_MNIST_SMALL_FOLDER);
  await mkdir(out, { recursive: true });
  const indices: Record<string, number[]> = {};
  const lines: string[] = [];
  for (const split of ['train', 'test'] as const) {
    const full = await loadDataset('fashion-mnist', split, { dataDir });
    const chosen = subsetIndices(full, COUNTS[split], SEED);
    const subset = selectImages(full, chosen);
    const stems = idxFileStems(split);
    await writeIdxSplit(subset, join(out, `${stems.images}.gz`), join(out, `${stems.labels}.gz`));
    indices[split] = Array.from(chosen);
    const counts = classCounts(subset);
    lines.push(`- ${split}: ${subset.count} of ${full.count} images, per class ${counts.join(', ')} (${stems.images}.gz, ${stems.labels}.gz)`);
    console.error(`${split}: wrote ${subset.count} images`);
  }
  await writeFileAtomic(join(out, 'indices.json'), `${JSON.stringify(indices)}\n`);
  await writeFileAtomic(join(out, 'README.md'), readme(lines));
  console.error(`wrote ${out}`);
}

function readme(lines: readonly string[]): string {
  return `# fashion-mnist-small

A seeded, class-balanced subset of Fashion-MNIST shipped with mode-connectivity so that examples,
tests and the demo run without downloading anything (\`loadDataset('fashion-mnist-small', split)\`).

- Source: Fashion-MNIST (Xiao, Rasul & Vollgraf, 2017, arXiv:1708.07747,
  https://github.com/zalandoresearch/fashion-mnist), read from Debian's \`dataset-fashion-mnist\`
  package (${DEBIAN_FASHION_MNIST_DIR}).
- Made by \`scripts/make-fashion-mnist-small.ts\` with seed ${SEED}: within each class a seeded uniform
  sample without replacement (src/data/subset.ts), images kept in their original order.
${lines.join('\n')}
- \`indices.json\`: for each split, the 0-based index in the original file of each subset image.
- Format: gzip IDX, the same format and file names as the original data set (28×28 grey bytes).

## License

Fashion-MNIST is released under the MIT License, Copyright (c) 2017 Zalando SE,
https://tech.zalando.com. The subset is redistributed under the same license:

Permission is hereby granted, free of charge, to any person obtaining a copy of this software and
associated documentation files (the "Software"), to deal in the Software without restriction,
including without limitation the rights to use, copy, modify, merge, publish, distribute,
sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT
NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES
OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN
CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
`;
}

await main();
