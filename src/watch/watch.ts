/**
 * `watch(url, options)`: follow's walk on a schedule (schedule.ts), each run reduced to its
 * outcome and counted (tally.ts), the newest whole results kept (recent.ts). What to do with
 * each run (print it, write its report, export it) is the caller's `onRun`, awaited before
 * the next run starts.
 */
import { follow, parseFollowUrl, type FollowOptions, type FollowResult } from '../follow/index.js';
import { runOutcome, type RunOutcome } from './outcome.js';
import { RecentResults } from './recent.js';
import { runOnSchedule, type ScheduleEnd } from './schedule.js';
import { WatchTally, type WatchSummary } from './tally.js';

/** Default number of whole results kept (`--keep`). */
export const DEFAULT_KEEP = 20;
/** Default interval between starts (`--every`). */
export const DEFAULT_EVERY_MS = 30_000;

export interface WatchRun {
  seq: number;
  result: FollowResult;
  outcome: RunOutcome;
}

export interface WatchOptions {
  everyMs?: number;
  /** Share of the interval each start may move by, ± (default 0.1). */
  jitter?: number;
  /** Stop after this many runs (null: until the signal aborts). */
  count?: number | null;
  /** How many whole results to keep (the newest). */
  keep?: number;
  /** The walk's options, as for `follow` (its signal is the watch's). */
  follow?: Omit<FollowOptions, 'signal'>;
  signal: AbortSignal;
  /** Called after each run, before the next one starts. */
  onRun?: (run: WatchRun) => Promise<void> | void;
  graceMs?: number;
  random?: () => number;
}

export interface WatchEnd extends ScheduleEnd {
  summary: WatchSummary;
  /** The newest `keep` results, oldest first. */
  recent: FollowResult[];
}

export async function watch(url: string, options: WatchOptions): Promise<WatchEnd> {
  parseFollowUrl(url); // a bad URL is a usage error now, not at the first run
  const tally = new WatchTally(url);
  const recent = new RecentResults<FollowResult>(options.keep ?? DEFAULT_KEEP);
  const end = await runOnSchedule(async (seq, signal) => {
    const result = await follow(url, { ...options.follow, signal });
    // A run cut short by the abort says nothing about the target: not counted.
    if (signal.aborted) return;
    const outcome = runOutcome(seq, result);
    tally.add(outcome);
    recent.push(result);
    await options.onRun?.({ seq, result, outcome });
  }, { everyMs: options.everyMs ?? DEFAULT_EVERY_MS, jitter: options.jitter, count: options.count, signal: options.signal, graceMs: options.graceMs, random: options.random });
  return { ...end, runs: tally.summary().runs, summary: tally.summary(), recent: recent.list() };
}
