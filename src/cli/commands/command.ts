/** The shape of one CLI command. */
export interface CommandContext {
  /** Suppresses progress bars and the backend report. */
  readonly quiet: boolean;
  /** Selects the backend (global options) and reports it on stderr. Call before tensor work. */
  initBackend(): Promise<void>;
}

/** The help of one subcommand (`barrier linear`): what `modeconn barrier linear --help` prints. */
export interface SubcommandHelp {
  readonly summary: string;
  readonly usage: string;
  readonly help: string;
}

export interface Command {
  readonly summary: string;
  readonly usage: string;
  readonly help: string;
  /** Subcommands by name (the first argument), each with its own help. */
  readonly subcommands?: Readonly<Record<string, SubcommandHelp>>;
  /**
   * The defaults the command's code uses, by flag (without `--`) and subcommand (`''` for a command
   * without subcommands): the help shows each as `(default V)`, and a test checks that it does.
   */
  readonly defaults?: Readonly<Record<string, Readonly<Record<string, string | number>>>>;
  /**
   * The checkpoint files that the arguments `args` (after the command's name) read: its
   * positionals and checkpoint-list options, never an output's value (`modeconn chart --command`,
   * command-checkpoints.ts). Absent: the command reads no checkpoints that a chart describes.
   */
  checkpointArguments?(args: readonly string[]): string[];
  run(args: string[], context: CommandContext): Promise<number>;
}
