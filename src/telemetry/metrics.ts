/**
 * Prometheus metrics of a watch (prom-client, its own registry): runs by verdict and first
 * failing layer, per-layer and per-run durations, per load-balancer address (its node name
 * and zone), per address family and per target the load balancer sent the request to. Label
 * values come from the evidence and are bounded: layers and cause ids are fixed sets,
 * addresses are the load balancer's, targets are the first MAX_TARGETS seen (the rest `other`,
 * as the watch's tally counts them), health states are AWS's few.
 *
 *   flowtrace_runs_total{result, layer, cause}                      counter
 *   flowtrace_run_duration_seconds                                  histogram
 *   flowtrace_layer_duration_seconds{layer}                         histogram (rows with a time)
 *   flowtrace_requests_total{address, node, zone, family, target, target_name, target_zone, target_health,
 *                            result, status, answered_by}          counter
 *   flowtrace_request_duration_seconds{address, node, zone, family, target} histogram
 *   flowtrace_last_run_ok, flowtrace_last_run_timestamp_seconds     gauges
 *   flowtrace_watch_info{url, server}                               gauge, always 1
 * plus prom-client's default process metrics (memory, CPU, event loop).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { FollowResult } from '../follow/index.js';
import { MAX_TARGETS, OTHER_TARGET, addressFamily, runOutcome, type RequestOutcome } from '../watch/index.js';

/** Seconds: from a loopback answer (ms) to a timed-out request (tens of s). */
export const DURATION_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The label value of "no such thing" (Prometheus has no null). */
const NONE = 'none';
/** The `target` of a request the load balancer sent to no target (its access log's `-`). */
export const NO_TARGET = 'no-target';

type RequestLabel = 'address' | 'node' | 'zone' | 'family' | 'target' | 'target_name' | 'target_zone' | 'target_health' | 'result' | 'status' | 'answered_by';
type RequestTimeLabel = 'address' | 'node' | 'zone' | 'family' | 'target';

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
  private readonly requests: Counter<RequestLabel>;
  private readonly requestSeconds: Histogram<RequestTimeLabel>;
  /** The targets that have their own label value (at most MAX_TARGETS; the rest are `other`). */
  private readonly targets = new Set<string>();
  private readonly lastOk: Gauge<never>;
  private readonly lastAt: Gauge<never>;

  constructor(options: WatchMetricsOptions) {
    const registers = [this.registry];
    this.runs = new Counter({ name: 'flowtrace_runs_total', help: 'Runs of follow, by verdict (ok/failed), first failing layer and cause id', labelNames: ['result', 'layer', 'cause'], registers });
    this.runSeconds = new Histogram({ name: 'flowtrace_run_duration_seconds', help: 'Duration of a whole run of follow', buckets: DURATION_BUCKETS_S, registers });
    this.layerSeconds = new Histogram({ name: 'flowtrace_layer_duration_seconds', help: 'Time of each layer as the verdict row gives it (DNS answer, route, load balancer answer, instance, container, application)', labelNames: ['layer'], buckets: DURATION_BUCKETS_S, registers });
    this.requests = new Counter({
      name: 'flowtrace_requests_total',
      help: 'Requests through each load-balancer address, by the target it sent them to (ip:port from the access log or a --server capture; none: not known; no-target: sent to none; other: beyond the first targets), that target\'s name, zone and health (--target-name, --target-health), result (ok: 2xx/3xx), status (the HTTP status, or the client error code) and who made the answer (load-balancer, application, none)',
      labelNames: ['address', 'node', 'zone', 'family', 'target', 'target_name', 'target_zone', 'target_health', 'result', 'status', 'answered_by'], registers,
    });
    this.requestSeconds = new Histogram({ name: 'flowtrace_request_duration_seconds', help: 'End-to-end time of each request, per load-balancer address and target', labelNames: ['address', 'node', 'zone', 'family', 'target'], buckets: DURATION_BUCKETS_S, registers });
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
      const target = this.targetLabels(q);
      const where = { address: q.address, node: q.node ?? NONE, zone: q.zone ?? NONE, family: addressFamily(q.address), target: target.target };
      this.requests.inc({ ...where, ...target, result: q.ok ? 'ok' : 'failed', status: q.httpStatus !== null ? String(q.httpStatus) : q.errorCode ?? 'HTTP_ERROR', answered_by: q.answeredBy ?? NONE });
      if (q.totalMs !== null) this.requestSeconds.observe(where, q.totalMs / 1000);
    }
    this.lastOk.set(v.ok ? 1 : 0);
    this.lastAt.set(Date.parse(result.startedAt) / 1000);
  }

  /** The target labels of a request: its own for the first MAX_TARGETS targets, `other` beyond (bounded cardinality). */
  private targetLabels(q: RequestOutcome): Record<'target' | 'target_name' | 'target_zone' | 'target_health', string> {
    if (q.noTarget) return { target: NO_TARGET, target_name: NONE, target_zone: NONE, target_health: NONE };
    const t = q.target;
    if (!t) return { target: NONE, target_name: NONE, target_zone: NONE, target_health: NONE };
    if (!this.targets.has(t.address)) {
      if (this.targets.size >= MAX_TARGETS) return { target: OTHER_TARGET, target_name: OTHER_TARGET, target_zone: OTHER_TARGET, target_health: t.health ?? NONE };
      this.targets.add(t.address);
    }
    return { target: t.address, target_name: t.name ?? NONE, target_zone: t.zone ?? NONE, target_health: t.health ?? NONE };
  }

  /** The exposition text (Prometheus text format 0.0.4). */
  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
