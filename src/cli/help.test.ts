import { describe, expect, it } from 'vitest';
import { COMMANDS } from './commands/index.js';
import { commandHelp } from './main.js';

/** The options of a help text: each `--flag` line with its continuation lines. */
function helpEntries(help: string): Map<string, string> {
  const entries = new Map<string, string>();
  let current: string[] | undefined;
  for (const line of help.split('\n')) {
    const flags = /^\s{0,4}(--[a-z][a-z0-9-]*)/.exec(line);
    if (flags !== null) {
      current = [line];
      // "--lr LR, --momentum M" style lines describe every flag they name.
      for (const f of line.match(/--[a-z][a-z0-9-]*/g) ?? []) if (!entries.has(f.slice(2))) entries.set(f.slice(2), '');
      // A subcommand's own line comes before the common ones and says what the flag does there.
      const flag = (flags[1] as string).slice(2);
      if (entries.get(flag) === '' || !entries.has(flag)) entries.set(flag, line);
      else current = undefined;
    } else if (current !== undefined && /^\s{10,}\S/.test(line)) {
      current.push(line);
      const first = /^\s{0,4}--([a-z][a-z0-9-]*)/.exec(current[0] as string)?.[1] as string;
      entries.set(first, current.join(' '));
    } else {
      current = undefined;
    }
  }
  return entries;
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('help of every command and subcommand', () => {
  for (const [name, command] of Object.entries(COMMANDS)) {
    const subs = command.subcommands === undefined ? [undefined] : Object.keys(command.subcommands);
    for (const sub of subs) {
      const title = sub === undefined ? name : `${name} ${sub}`;
      it(`${title}: its own usage, and every default the code uses is the one the help shows`, () => {
        const help = commandHelp(name, command, sub);
        expect(help.startsWith(`usage: modeconn ${title} `)).toBe(true);
        const entries = helpEntries(help);
        const defaults = command.defaults?.[sub ?? ''] ?? {};
        for (const [flag, value] of Object.entries(defaults)) {
          const entry = entries.get(flag);
          expect(entry, `${title}: --${flag} in the help`).toBeDefined();
          expect(entry, `${title}: --${flag} shows (default ${value})`).toMatch(new RegExp(`default ${escape(String(value))}(?![\\d.e])`));
        }
        // The other way round: a number the help calls a default belongs to a declared default.
        for (const [flag, entry] of entries) {
          const shown = /\(default (-?[\d.]+(?:e-?\d+)?)[;,):]/.exec(entry);
          if (shown !== null) expect(defaults[flag], `${title}: --${flag} shows default ${shown[1]} but the command declares none`).toBeDefined();
        }
      });
    }
    if (command.subcommands !== undefined) {
      it(`${name}: the command's help lists its subcommands, whose help names no other subcommand's options`, () => {
        const help = commandHelp(name, command, undefined);
        for (const sub of Object.keys(command.subcommands ?? {})) expect(help).toContain(`modeconn ${name} ${sub}`);
        expect(commandHelp(name, command, 'no-such-sub')).toBe(help);
      });
    }
  }

  it('path curve shows --points with the evaluation default (11), not Garipov et al.’s 61', () => {
    const path = COMMANDS['path'];
    expect(path).toBeDefined();
    const entry = helpEntries(commandHelp('path', path!, 'curve')).get('points');
    expect(entry).toMatch(/\(default 11,/);
  });
});
