/**
 * The benchmark harness: every file in bench/cases/ exports `benchCase`. `npm run bench`
 * runs them all (or those named on the command line), writes each result to
 * bench/out/<id>.json and rewrites BENCHMARKS.md from the results.
 *
 * Benchmarks compare flowtrace with the real peer tool in the same run, as ratios.
 */
export interface BenchSection {
  id: string;
  title: string;
  /** The issue whose goal this measures. */
  issue: number;
  /** The command that reproduces it, e.g. `npm run bench -- read`. */
  command: string;
  /** Markdown: the table(s) and a sentence on the goal and whether it is met. */
  markdown: string;
  /** Raw numbers, kept in bench/out/<id>.json. */
  data: unknown;
  /** Whether the stated goal was met in this run (null when the case has no goal). */
  goalMet: boolean | null;
}

export interface BenchCase {
  id: string;
  title: string;
  run(): Promise<BenchSection>;
}
