/**
 * Library errors name options in backticks (`testExamples`); the CLI shows them as its flags
 * (`--test-examples`). Names are camelCase → kebab-case, with the few flags that differ listed.
 */

const RENAMED: Readonly<Record<string, string>> = { architecture: 'arch', splits: 'split', bnReset: 'no-bn-reset' };

/** The flag of a library option name: `testExamples` → `--test-examples`. */
export function flagOf(option: string): string {
  return `--${RENAMED[option] ?? option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** `message` with every backticked option name replaced by its flag. */
export function withFlagNames(message: string): string {
  return message.replace(/`([A-Za-z][A-Za-z0-9]*)`/g, (_match, name: string) => flagOf(name));
}

/** Runs `work`, rethrowing its errors with option names shown as flags (same error, message rewritten). */
export async function inFlagTerms<T>(work: () => Promise<T> | T): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof Error) error.message = withFlagNames(error.message);
    throw error;
  }
}

/** The synchronous form of `inFlagTerms`. */
export function inFlagTermsSync<T>(work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof Error) error.message = withFlagNames(error.message);
    throw error;
  }
}
