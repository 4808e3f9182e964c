/**
 * A request's line in the access log, found by its trace id Root — or why it is not there:
 * the log ends before the request (ELB delivers each node's file every 5 minutes: the line is
 * not delivered yet), the log starts after it (rotated away), or the log covers the request's
 * time and has no line for it (it never reached this load balancer, or the log lost it:
 * access logs are best-effort).
 */
import { accessLogMs, traceRootOf, type AccessLogRecord } from './format.js';
import { DELIVERY_INTERVAL_MS, parseLogFileName } from './files.js';
import type { AccessLogScan } from './source.js';

export interface AccessLogMatch {
  traceRoot: string;
  /**
   * `found`; `not-found`: the log covers the request's time and has no line for it;
   * `log-ends-before`: the newest line (or file interval) is older than the request;
   * `log-starts-after`: the oldest is newer than the request; `no-log`: nothing was read.
   */
  status: 'found' | 'not-found' | 'log-ends-before' | 'log-starts-after' | 'no-log';
  record: AccessLogRecord | null;
  /** The file (or s3:// key) of the line. */
  file: string | null;
  /** What the log covers (ISO 8601), null when nothing was read. */
  coverage: { from: string; until: string } | null;
  /** For ELB files: the end of the 5-minute interval whose file holds (or will hold) the request's line (ISO 8601). */
  intervalEnd: string | null;
}

/** Seconds a line's time (the response's) may come before the request was sent (two machines' clocks). */
const CLOCK_SLACK_MS = 2000;

/** The time span the scan covers: ELB files by their intervals, other files by their lines. */
export function coverageOf(scan: AccessLogScan): { from: number; until: number; elb: boolean } | null {
  let from = Infinity;
  let until = -Infinity;
  let elb = false;
  const add = (a: number, b: number): void => { if (a < from) from = a; if (b > until) until = b; };
  for (const f of scan.files) {
    const aws = parseLogFileName(f.name);
    if (aws) { elb = true; add(aws.intervalEndMs - DELIVERY_INTERVAL_MS, aws.intervalEndMs); continue; }
    const a = accessLogMs(f.firstTime);
    const b = accessLogMs(f.lastTime);
    if (a !== null && b !== null) add(a, b);
  }
  for (const end of [scan.skipped.firstIntervalEnd, scan.skipped.lastIntervalEnd]) {
    if (end === null) continue;
    elb = true;
    const e = Date.parse(end);
    add(e - DELIVERY_INTERVAL_MS, e);
  }
  return from === Infinity ? null : { from, until, elb };
}

/** The request's line (the one closest after it was sent, when the Root repeats), or why there is none. */
export function matchRequest(scan: AccessLogScan, traceRoot: string, sentAtMs: number | null): AccessLogMatch {
  const cover = coverageOf(scan);
  const coverage = cover ? { from: new Date(cover.from).toISOString(), until: new Date(cover.until).toISOString() } : null;
  const intervalEnd = sentAtMs !== null && (cover?.elb ?? false) ? new Date(Math.ceil(sentAtMs / DELIVERY_INTERVAL_MS) * DELIVERY_INTERVAL_MS).toISOString() : null;
  const mine = scan.found.filter((f) => traceRootOf(f.record.traceId) === traceRoot);
  if (mine.length > 0) {
    const at = sentAtMs ?? 0;
    const score = (t: number | null): number => (t === null ? Infinity : t >= at - CLOCK_SLACK_MS ? t - at : 1e12 + (at - t));
    const best = [...mine].sort((a, b) => score(accessLogMs(a.record.time)) - score(accessLogMs(b.record.time)))[0]!;
    return { traceRoot, status: 'found', record: best.record, file: best.file, coverage, intervalEnd };
  }
  const base = { traceRoot, record: null, file: null, coverage, intervalEnd };
  if (!cover) return { ...base, status: 'no-log' };
  if (sentAtMs !== null && sentAtMs > cover.until + CLOCK_SLACK_MS) return { ...base, status: 'log-ends-before' };
  if (sentAtMs !== null && sentAtMs < cover.from - CLOCK_SLACK_MS) return { ...base, status: 'log-starts-after' };
  return { ...base, status: 'not-found' };
}
