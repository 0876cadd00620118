#!/usr/bin/env node
// The modeconn CLI. An installed package holds only the compiled dist/ (built by `prepack`) and
// runs it with plain node, no dev dependency. A development checkout holds src/ and runs the
// TypeScript sources through tsx (a dev dependency), so that a dist/ left by an earlier build is
// never run in its place; without tsx it falls back to dist/.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const source = `${root}src/cli/main.ts`;
const built = `${root}dist/cli/main.js`;

async function loadMain() {
  if (existsSync(source)) {
    const tsx = await import('tsx/esm/api').catch(() => undefined);
    if (tsx !== undefined) {
      tsx.register();
      return (await import(pathToFileURL(source).href)).main;
    }
  }
  if (!existsSync(built)) return undefined;
  return (await import(pathToFileURL(built).href)).main;
}

const main = await loadMain();
if (main === undefined) {
  console.error(`modeconn: ${built} is missing; run \`npm run build\` (or install the dev dependencies to run the sources through tsx)`);
  process.exitCode = 1;
} else {
  process.exitCode = await main(process.argv.slice(2));
}
