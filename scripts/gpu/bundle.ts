/**
 * Builds the GPU-check bundle: this machine's Node binary and a pruned node_modules (see
 * bundle-plan.ts), as one xz-compressed tar, for a GPU machine without Node or network.
 *
 *   npx tsx scripts/gpu/bundle.ts [--out .gpu-bundle] [--extra DIR] [--max-mib 60]
 *
 * --extra DIR: a second node_modules folder for packages absent from ./node_modules (e.g. the
 * optional webgpu packages installed in a scratch folder before `npm ci` brings them).
 * Writes OUT/bundle.tar.xz and OUT/manifest.json; fails if the archive exceeds --max-mib.
 * Called by scripts/gpu-bundle.sh, which also fetches the Vulkan loader packages.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BUNDLE_TOOLS, bundleClosure, keepFile, packageName, type LockFile } from './bundle-plan.js';

interface Copied {
  files: number;
  bytes: number;
}

/** Copies the kept files of one package folder (without its nested node_modules). */
function copyPackage(name: string, source: string, target: string, relative = '', total: Copied = { files: 0, bytes: 0 }): Copied {
  for (const entry of readdirSync(join(source, relative), { withFileTypes: true })) {
    const rel = relative === '' ? entry.name : `${relative}/${entry.name}`;
    const from = join(source, rel);
    const isDir = entry.isDirectory() || (entry.isSymbolicLink() && statSync(from).isDirectory());
    if (isDir) {
      if (entry.name === 'node_modules') continue;
      copyPackage(name, source, target, rel, total);
      continue;
    }
    if (!keepFile(name, rel)) continue;
    const to = join(target, rel);
    mkdirSync(join(to, '..'), { recursive: true });
    copyFileSync(from, to);
    chmodSync(to, statSync(from).mode & 0o777);
    total.files += 1;
    total.bytes += statSync(to).size;
  }
  return total;
}

function main(): void {
  const { values } = parseArgs({ options: { out: { type: 'string', default: '.gpu-bundle' }, extra: { type: 'string' }, 'max-mib': { type: 'string', default: '60' } } });
  const out = values.out;
  const maxBytes = Number(values['max-mib']) * 2 ** 20;
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies?: Record<string, string> };
  const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as LockFile;
  const roots = [...Object.keys(pkg.dependencies ?? {}), ...BUNDLE_TOOLS];
  const paths = bundleClosure(lock, roots);

  const stage = mkdtempSync(join(tmpdir(), 'gpu-bundle-'));
  try {
    const total: Copied = { files: 0, bytes: 0 };
    const skipped: string[] = [];
    for (const path of paths) {
      const name = packageName(path);
      const local = path;
      const extra = values.extra === undefined ? undefined : join(values.extra, path.slice('node_modules/'.length));
      const source = existsSync(join(local, 'package.json')) ? local : extra !== undefined && existsSync(join(extra, 'package.json')) ? extra : undefined;
      if (source === undefined) {
        // Optional platform packages of other libcs/CPUs are absent locally and not needed.
        if ((lock.packages[path] as { optional?: boolean }).optional === true && !BUNDLE_TOOLS.some((t) => path === `node_modules/${t}`)) {
          skipped.push(path);
          continue;
        }
        throw new Error(`${path}: not installed in ./node_modules${values.extra === undefined ? '' : ` nor in ${values.extra}`}; run \`npm ci\` (or pass --extra DIR)`);
      }
      const copied = copyPackage(name, source, join(stage, path));
      total.files += copied.files;
      total.bytes += copied.bytes;
    }
    mkdirSync(join(stage, 'bin'), { recursive: true });
    copyFileSync(process.execPath, join(stage, 'bin', 'node'));
    chmodSync(join(stage, 'bin', 'node'), 0o755);
    const nodeBytes = statSync(join(stage, 'bin', 'node')).size;
    const manifest = {
      format: 'modeconn-gpu-bundle',
      version: 1,
      created: new Date().toISOString(),
      node: process.version,
      packages: paths.length - skipped.length,
      skippedOptional: skipped,
      files: total.files,
      moduleBytes: total.bytes,
      nodeBytes,
    };
    writeFileSync(join(stage, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    mkdirSync(out, { recursive: true });
    const archive = join(out, 'bundle.tar.xz');
    const tar = spawnSync('sh', ['-c', `tar -C "${stage}" -cf - . | xz -T2 -6 > "${archive}.tmp" && mv "${archive}.tmp" "${archive}"`], { stdio: 'inherit' });
    if (tar.status !== 0) throw new Error(`tar | xz failed with status ${tar.status}`);
    const compressed = statSync(archive).size;
    const report = { ...manifest, archive, compressedBytes: compressed };
    writeFileSync(join(out, 'manifest.json'), `${JSON.stringify(report, null, 2)}\n`);
    const mib = (n: number) => (n / 2 ** 20).toFixed(1);
    console.log(`${archive}: ${mib(compressed)} MiB (node ${mib(nodeBytes)} MiB + ${manifest.packages} packages, ${total.files} files, ${mib(total.bytes)} MiB uncompressed)`);
    if (compressed > maxBytes) throw new Error(`${archive} is ${mib(compressed)} MiB; expected at most ${values['max-mib']} MiB`);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

main();
