/**
 * The library's resume errors (src/util/resume-check.ts) speak of options (`lr`, `resume: false`);
 * the CLI says the same in flags (`--lr`, `--no-resume`).
 */
import { describeDifferences, resumeProblemOf } from '../util/resume-check.js';

/**
 * Runs `work`; a resume error becomes the same message with each recipe field named by its flags
 * (`flags[field]`, else the field name) and `startOver` as the way to start over.
 */
export async function withResumeFlags<T>(work: () => Promise<T>, flags: Readonly<Record<string, string>>, startOver: string): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const problem = resumeProblemOf(error);
    if (problem === undefined) throw error;
    const details = problem.differences.length === 0 ? '' : ` (${describeDifferences(problem.differences, (field) => flags[field] ?? field)})`;
    throw new Error(`cannot resume: ${problem.file} ${problem.reason}${details}; to start over, ${startOver} or delete ${problem.folder}`, { cause: error });
  }
}
