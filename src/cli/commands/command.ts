/** The shape of one CLI command. */
export interface CommandContext {
  /** Suppresses progress bars and the backend report. */
  readonly quiet: boolean;
  /** Selects the backend (global options) and reports it on stderr. Call before tensor work. */
  initBackend(): Promise<void>;
}

export interface Command {
  readonly summary: string;
  readonly usage: string;
  readonly help: string;
  run(args: string[], context: CommandContext): Promise<number>;
}
