/**
 * Prometheus metrics of a watch (prom-client, its own registry): runs by verdict and first
 * failing layer, per-layer and per-run durations, per load-balancer address (its node name
 * and zone) and per address family. Label values come from the evidence and are bounded:
 * layers and cause ids are fixed sets, addresses are the load balancer's.
 *
 *   flowtrace_runs_total{result, layer, cause}                      counter
 *   flowtrace_run_duration_seconds                                  histogram
 *   flowtrace_layer_duration_seconds{layer}                         histogram (rows with a time)
 *   flowtrace_requests_total{address, node, zone, family, result, status, answered_by}  counter
 *   flowtrace_request_duration_seconds{address, node, zone, family} histogram
 *   flowtrace_last_run_ok, flowtrace_last_run_timestamp_seconds     gauges
 *   flowtrace_watch_info{url, server}                               gauge, always 1
 * plus prom-client's default process metrics (memory, CPU, event loop).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { FollowResult } from '../follow/index.js';
import { addressFamily, runOutcome } from '../watch/index.js';

/** Seconds: from a loopback answer (ms) to a timed-out request (tens of s). */
export const DURATION_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The label value of "no such thing" (Prometheus has no null). */
const NONE = 'none';

export interface WatchMetricsOptions {
  url: string;
  server?: string | null;
  /** Also the process's default metrics (default true). */
  processMetrics?: boolean;
}

export class WatchMetrics {
  readonly registry = new Registry();
  private readonly runs: Counter<'result' | 'layer' | 'cause'>;
  private readonly runSeconds: Histogram<never>;
  private readonly layerSeconds: Histogram<'layer'>;
  private readonly requests: Counter<'address' | 'node' | 'zone' | 'family' | 'result' | 'status' | 'answered_by'>;
  private readonly requestSeconds: Histogram<'address' | 'node' | 'zone' | 'family'>;
  private readonly lastOk: Gauge<never>;
  private readonly lastAt: Gauge<never>;

  constructor(options: WatchMetricsOptions) {
    const registers = [this.registry];
    this.runs = new Counter({ name: 'flowtrace_runs_total', help: 'Runs of follow, by verdict (ok/failed), first failing layer and cause id', labelNames: ['result', 'layer', 'cause'], registers });
    this.runSeconds = new Histogram({ name: 'flowtrace_run_duration_seconds', help: 'Duration of a whole run of follow', buckets: DURATION_BUCKETS_S, registers });
    this.layerSeconds = new Histogram({ name: 'flowtrace_layer_duration_seconds', help: 'Time of each layer as the verdict row gives it (DNS answer, route, load balancer answer, instance, container, application)', labelNames: ['layer'], buckets: DURATION_BUCKETS_S, registers });
    this.requests = new Counter({ name: 'flowtrace_requests_total', help: 'Requests through each load-balancer address, by result (ok: 2xx/3xx), status (the HTTP status, or the client error code) and who made the answer (load-balancer, application, none)', labelNames: ['address', 'node', 'zone', 'family', 'result', 'status', 'answered_by'], registers });
    this.requestSeconds = new Histogram({ name: 'flowtrace_request_duration_seconds', help: 'End-to-end time of each request, per load-balancer address', labelNames: ['address', 'node', 'zone', 'family'], buckets: DURATION_BUCKETS_S, registers });
    this.lastOk = new Gauge({ name: 'flowtrace_last_run_ok', help: '1 when the last run\'s application answered 2xx/3xx through every address, else 0', registers });
    this.lastAt = new Gauge({ name: 'flowtrace_last_run_timestamp_seconds', help: 'Wall-clock start of the last run', registers });
    new Gauge({ name: 'flowtrace_watch_info', help: 'What this watch follows', labelNames: ['url', 'server'], registers }).set({ url: options.url, server: options.server ?? NONE }, 1);
    // Runs and failures are counted from the first scrape: 0, not absent (rate() needs the zero).
    this.runs.inc({ result: 'ok', layer: NONE, cause: NONE }, 0);
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** Counts one run. */
  observe(result: FollowResult): void {
    const v = result.verdict;
    this.runs.inc({ result: v.ok ? 'ok' : 'failed', layer: v.firstFailing ?? NONE, cause: v.causeId ?? NONE });
    this.runSeconds.observe(result.durationMs / 1000);
    for (const row of v.rows) if (row.timingMs !== null && row.status !== 'not-checked') this.layerSeconds.observe({ layer: row.layer }, row.timingMs / 1000);
    for (const q of runOutcome(0, result).requests) {
      const where = { address: q.address, node: q.node ?? NONE, zone: q.zone ?? NONE, family: addressFamily(q.address) };
      this.requests.inc({ ...where, result: q.ok ? 'ok' : 'failed', status: q.httpStatus !== null ? String(q.httpStatus) : q.errorCode ?? 'HTTP_ERROR', answered_by: q.answeredBy ?? NONE });
      if (q.totalMs !== null) this.requestSeconds.observe(where, q.totalMs / 1000);
    }
    this.lastOk.set(v.ok ? 1 : 0);
    this.lastAt.set(Date.parse(result.startedAt) / 1000);
  }

  /** The exposition text (Prometheus text format 0.0.4). */
  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
