/** The CLI's commands by name. */
import type { Command } from './command.js';
import { barrierCommand } from './barrier.js';
import { chartCommand } from './chart.js';
import { convertCommand } from './convert.js';
import { evalCommand } from './eval.js';
import { infoCommand } from './info.js';
import { pathCommand } from './path.js';
import { reportCommand } from './report.js';
import { simulateCommand } from './simulate.js';
import { surfaceCommand } from './surface.js';
import { compareCommand } from './compare.js';
import { trainCommand } from './train.js';

export type { Command, CommandContext, SubcommandHelp } from './command.js';

export const COMMANDS: Readonly<Record<string, Command>> = {
  train: trainCommand,
  eval: evalCommand,
  info: infoCommand,
  convert: convertCommand,
  barrier: barrierCommand,
  path: pathCommand,
  surface: surfaceCommand,
  compare: compareCommand,
  simulate: simulateCommand,
  chart: chartCommand,
  report: reportCommand,
};
