#!/usr/bin/env node
// The modeconn CLI: runs the compiled CLI when the package is built, else the TypeScript sources
// through tsx (a development checkout).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const built = `${root}dist/cli/main.js`;
let main;
if (existsSync(built)) {
  ({ main } = await import(pathToFileURL(built).href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(pathToFileURL(`${root}src/cli/main.ts`).href));
}
process.exitCode = await main(process.argv.slice(2));
