/**
 * `flowtrace watch URL [--every 30s] [--count N] [--keep N] [--report-dir DIR] [--otlp URL]
 *   [--metrics [HOST]:PORT] [--json] [follow's walk options]`
 * follow on a schedule: one line per run, a report per failing run, each run as a trace and in
 * the metrics, the summary at the end (after --count runs, or Ctrl-C / SIGTERM).
 * Exit codes (docs/watch.md): 0 no run failed; 1 some run failed; 2 usage; 3 --report-dir not
 * writable; 6 --metrics port not available; 130 interrupted before the first run ended.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { renderHtmlReport } from '../../report/index.js';
import { EXIT, InputError, UsageError } from '../../errors.js';
import type { CliIO } from '../io.js';
import { requestPromptExit } from '../io.js';
import { parseCommandArgs } from '../args.js';
import { WALK_OPTIONS, checkReportTarget, walkOptions, writeReportHtml } from './follow.js';
import { DEFAULT_KEEP, runLine, summaryText, watch, type WatchRun } from '../../watch/index.js';
import { OtlpTraces, WatchMetrics, otlpTracesUrl, parseListenAddress, serveMetrics, type MetricsServer } from '../../telemetry/index.js';

const HELP = `usage: flowtrace watch URL [options]

Runs follow's whole walk on a schedule (jittered by ±10 %, never two at once) and prints one
line per run: time, verdict, first failing layer (cause), total time, how each load-balancer
address answered. Ctrl-C (or SIGTERM) prints the summary — the failures grouped by what their
evidence says, e.g. "3 of 40 runs failed (7.5 %), all through alb-b (10.77.2.10, zone b): 502
from the load balancer" — and ends within a second.

options:
  --every DURATION       between starts: 30s (default), 500ms, 5m, 1h; at least 1s
  --count N              stop after N runs (default: until Ctrl-C)
  --keep N               the newest N whole results kept (default ${DEFAULT_KEEP}); written with
                         --report-dir at the end
  --report-dir DIR       an HTML report of each failing run (flowtrace-TIME-#N.html), and at the
                         end watch-TIME.json: the summary and the newest --keep results
  --otlp URL             each run as one OpenTelemetry trace over OTLP/HTTP: a collector's base URL
                         (http://localhost:4318; /v1/traces is added) or the full traces URL
  --metrics [HOST]:PORT  serve Prometheus metrics at http://HOST:PORT/metrics (:9464: every address)
  --json                 one JSON object per run (its outcome), the summary as JSON at the end
  the walk's options, as for follow: --server, --server-mode, --once, --proto, --cacert, -k,
  --dns-server, --timeout, --lb-name, --target-port, --redact, --aws-config, --aws, --aws-lb…
  (flowtrace follow --help)
exit codes: 0 no run failed; 1 at least one run failed; 2 usage; 3 --report-dir not writable
or --aws-config unreadable; 6 the --metrics port cannot be had; 130 interrupted before the
first run ended
`;

/** `30s`, `500ms`, `5m`, `1h`, `30` (seconds) → ms. */
export function parseDurationMs(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new UsageError(`bad --every '${text}'`, 'a duration: 30s, 500ms, 5m, 1h');
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(m[1]) * unit);
}

function wholeNumber(option: string, text: string, min: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`bad ${option} '${text}'`, `a whole number, at least ${min}`);
  return n;
}

/** `20261207T120301Z` from an ISO time: file names that sort by time. */
function stamp(iso: string): string {
  return iso.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

export async function run(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs('watch', {
    args,
    allowPositionals: true,
    options: {
      ...WALK_OPTIONS,
      every: { type: 'string' },
      count: { type: 'string' },
      keep: { type: 'string' },
      'report-dir': { type: 'string' },
      metrics: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) { io.stdout(HELP); return EXIT.ok; }
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'watch needs a URL' : `watch takes one URL, got ${positionals.length}`, 'flowtrace watch http://example.com/ --every 30s');
  const url = positionals[0]!;
  const everyMs = values.every === undefined ? undefined : parseDurationMs(values.every);
  if (everyMs !== undefined && everyMs < 1000) throw new UsageError(`--every ${values.every} is under a second`, 'at least 1s: each run is a whole walk (DNS, traces, requests, capture)');
  const count = values.count === undefined ? null : wholeNumber('--count', values.count, 1);
  const keep = values.keep === undefined ? DEFAULT_KEEP : wholeNumber('--keep', values.keep, 0);
  const walk = walkOptions(values, io);
  const otlpUrl = values.otlp === undefined ? null : otlpTracesUrl(values.otlp);
  const listen = values.metrics === undefined ? null : parseListenAddress(values.metrics);
  const reportDir = values['report-dir'] === undefined ? null : path.resolve(io.cwd, values['report-dir']);
  if (reportDir !== null) {
    try { mkdirSync(reportDir, { recursive: true }); } catch (err) {
      throw new InputError(`cannot make the report folder ${reportDir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'give a writable folder, e.g. --report-dir /tmp/flowtrace-watch');
    }
    checkReportTarget(io, path.join(reportDir, 'flowtrace-watch-check.html'));
  }

  const metrics = listen ? new WatchMetrics({ url, server: walk.server ?? null }) : null;
  let server: MetricsServer | null = null;
  if (metrics && listen) {
    server = await serveMetrics(metrics, listen);
    io.stderr(`metrics: ${server.url}\n`);
  }
  const traces = otlpUrl ? new OtlpTraces({ url: otlpUrl }) : null;
  const controller = new AbortController();
  let interrupted = false;
  const off = io.onInterrupt(() => { interrupted = true; controller.abort(); });
  const onRun = async ({ seq, result, outcome }: WatchRun): Promise<void> => {
    let report: string | null = null;
    if (reportDir !== null && !outcome.ok) {
      report = path.join(reportDir, `flowtrace-${stamp(result.startedAt)}-${seq}.html`);
      try { writeReportHtml(io, report, renderHtmlReport(result)); } catch (err) {
        io.stderr(`warning: ${(err as Error).message}\n`);
        report = null;
      }
    }
    metrics?.observe(result);
    const sent = traces ? await traces.export(result) : null;
    if (values.json) {
      io.stdout(JSON.stringify({ ...outcome, report, trace: sent ? { ok: sent.ok, traceId: sent.traceId, error: sent.error } : undefined }) + '\n');
    } else {
      io.stdout(`${runLine(outcome)}${report ? `  report: ${report}` : ''}\n`);
    }
    if (sent && !sent.ok) io.stderr(`warning: run #${seq}'s trace was not sent to ${otlpUrl}: ${sent.error}\n`);
  };

  let end;
  try {
    end = await watch(url, { everyMs, count, keep, follow: walk, signal: controller.signal, onRun });
  } finally {
    off();
  }
  const summary = end.summary;
  if (values.json) io.stdout(JSON.stringify({ summary, end: end.end, abandoned: end.abandoned }) + '\n');
  else io.stdout(`${end.abandoned ? 'the run in flight was stopped and is not counted\n' : ''}${summaryText(summary)}`);
  if (reportDir !== null && summary.runs > 0) {
    const file = path.join(reportDir, `watch-${stamp(summary.firstAt!)}.json`);
    try {
      writeFileSync(file, JSON.stringify({ summary, recent: end.recent }, null, 2) + '\n');
      if (!values.json) io.stdout(`results: ${file}\n`);
    } catch (err) {
      io.stderr(`warning: cannot write ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n`);
    }
  }
  // Wind down within the second Ctrl-C promises: the metrics server now, the exporter bounded.
  await server?.close();
  if (traces) await Promise.race([traces.shutdown(), new Promise((r) => setTimeout(r, 300).unref())]);
  if (interrupted) requestPromptExit();
  if (interrupted && summary.runs === 0) return EXIT.interrupted;
  return summary.failed > 0 ? EXIT.failed : EXIT.ok;
}
