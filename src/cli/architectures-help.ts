/**
 * The `--arch` lines of the CLI help, from the registry: every registered architecture with its
 * config fields and their defaults, so a new architecture shows up in `--help` by being registered.
 */
import { getArchitecture, listArchitectures } from '../models/registry.js';

/** One line per architecture, `name  {"field":default,…}`, indented to the help's option column. */
export function architecturesHelp(indent = 23): string {
  const names = listArchitectures();
  const column = Math.max(...names.map((n) => n.length)) + 2;
  return names.map((name) => `${' '.repeat(indent)}${name.padEnd(column)}${JSON.stringify(getArchitecture(name).defaultConfig)}`).join('\n');
}

/** The registered architectures with more than one PyTorch naming, and those namings (the default first). */
export function pytorchNamings(): { architecture: string; namings: readonly string[] }[] {
  return listArchitectures().flatMap((architecture) => {
    const namings = getArchitecture(architecture).pytorch?.namings ?? [];
    return namings.length > 1 ? [{ architecture, namings }] : [];
  });
}

/** `resnet18: torchvision (default) | pytorch-cifar`, one such entry per architecture of several namings, `; `-separated. */
export function namingsHelp(): string {
  return pytorchNamings()
    .map(({ architecture, namings }) => `${architecture}: ${namings.map((n, i) => (i === 0 ? `${n} (default)` : n)).join(' | ')}`)
    .join('; ');
}
