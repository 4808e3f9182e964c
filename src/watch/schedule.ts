/**
 * The schedule of `watch`: one run at a time, started every interval with jitter.
 *
 * Lifecycle (one loop, monotonic clock):
 *  1. run: the first run starts at once; each later one `nextDelayMs` after the previous
 *     start, or as soon as the previous run ends when it lasted longer (runs never overlap).
 *  2. wait: until the next start; an abort ends the wait at once → stopped ('interrupted').
 *  3. an abort during a run: the run is told (its signal) and given `graceMs` to end; if it
 *     has not, it is abandoned (not counted) → stopped ('interrupted', abandoned).
 *  4. after `count` runs → stopped ('count').
 * Jitter spreads watchers started together (several vantage points, a fleet) so they do not
 * probe in step; it moves each start by up to ±jitter of the interval.
 */

/** Default share of the interval a start may move by (±). */
export const DEFAULT_JITTER = 0.1;
/** How long a run in flight at Ctrl-C may take to end before it is abandoned. */
export const DEFAULT_GRACE_MS = 500;

/** The wait between two starts: `everyMs` ± `jitter`·`everyMs`, uniformly (`random` in [0, 1)). */
export function nextDelayMs(everyMs: number, jitter: number, random: () => number = Math.random): number {
  const spread = everyMs * Math.min(Math.max(jitter, 0), 1);
  return Math.max(0, Math.round(everyMs - spread + 2 * spread * random()));
}

export interface ScheduleOptions {
  everyMs: number;
  jitter?: number;
  /** Stop after this many runs (null: until aborted). */
  count?: number | null;
  signal: AbortSignal;
  graceMs?: number;
  random?: () => number;
}

export interface ScheduleEnd {
  /** Runs that ended (an abandoned run is not one). */
  runs: number;
  end: 'count' | 'interrupted';
  /** A run was in flight at the abort and did not end within the grace time. */
  abandoned: boolean;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) { resolve(); return; }
    const done = (): void => { clearTimeout(t); signal.removeEventListener('abort', done); resolve(); };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Runs `run(seq, signal)` on the schedule until `count` runs or the abort. A run that throws
 * ends the schedule with its error (a bug, or a problem every later run would have too).
 */
export async function runOnSchedule(run: (seq: number, signal: AbortSignal) => Promise<void>, options: ScheduleOptions): Promise<ScheduleEnd> {
  const { everyMs, signal } = options;
  const jitter = options.jitter ?? DEFAULT_JITTER;
  const count = options.count ?? null;
  const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
  let runs = 0;
  while (!signal.aborted && (count === null || runs < count)) {
    const startedAt = performance.now();
    const seq = runs + 1;
    let failure: { err: unknown } | null = null;
    const inFlight = run(seq, signal).then(() => true, (err: unknown) => { failure = { err }; return true; });
    // 3. whichever comes first: the run's end, or the abort plus the grace time
    const aborted = new Promise<false>((resolve) => {
      const onAbort = (): void => { setTimeout(() => resolve(false), graceMs).unref(); };
      if (signal.aborted) onAbort(); else signal.addEventListener('abort', onAbort, { once: true });
      void inFlight.then(() => signal.removeEventListener('abort', onAbort));
    });
    const ended = await Promise.race([inFlight, aborted]);
    if (!ended) return { runs, end: 'interrupted', abandoned: true };
    if (failure) throw (failure as { err: unknown }).err;
    runs = seq;
    if (count !== null && runs >= count) break;
    // 1–2. the next start
    const due = startedAt + nextDelayMs(everyMs, jitter, options.random);
    await wait(Math.max(0, due - performance.now()), signal);
  }
  return { runs, end: count !== null && runs >= count ? 'count' : 'interrupted', abandoned: false };
}
