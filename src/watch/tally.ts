/**
 * What all the runs of a watch say together, counted as they come: the memory is one entry
 * per kind of failure and per load-balancer address, whatever the number of runs.
 *
 * Failing runs are grouped by what their evidence says: the first failing layer and cause,
 * the load-balancer addresses their failing requests went through, and how those ended
 * (`502` made by the load balancer, connection refused…). "3 of 40 runs failed, all through
 * alb-b (zone b), 502 from the load balancer" is one group (words.ts).
 */
import type { LayerId } from '../follow/index.js';
import { failingRequests, howId, type RunOutcome } from './outcome.js';

/** Beyond this many kinds of failure, further kinds are counted together (bounded memory). */
export const MAX_FAILURE_GROUPS = 32;

export interface NodeRef {
  address: string;
  node: string | null;
  zone: string | null;
}

export interface FailureGroup {
  /** First failing layer and cause id (null: more kinds than MAX_FAILURE_GROUPS, counted together). */
  layer: LayerId | null;
  causeId: string | null;
  /** The load-balancer addresses the failing requests went through (none: it failed before any request, e.g. DNS). */
  through: NodeRef[];
  /** How those requests ended (`502 lb`, `500 app`, `HTTP_CONNECT_REFUSED`…), sorted. */
  how: string[];
  runs: number;
  firstSeq: number;
  lastSeq: number;
  firstAt: string;
  lastAt: string;
  /** Set on the catch-all group of kinds beyond MAX_FAILURE_GROUPS. */
  overflow: boolean;
}

export interface NodeTally extends NodeRef {
  family: 'ipv4' | 'ipv6';
  /** Requests sent through it, and how many of them failed. */
  requests: number;
  failed: number;
  /** How its requests ended: count per how id. */
  how: Record<string, number>;
}

export interface WatchSummary {
  url: string;
  runs: number;
  failed: number;
  /** Failing runs by what their evidence says, the most frequent first. */
  groups: FailureGroup[];
  /** Per load-balancer address, in the order first seen. */
  nodes: NodeTally[];
  firstAt: string | null;
  lastAt: string | null;
  /** Run durations, ms (null before the first run). */
  durationMs: { min: number; mean: number; max: number } | null;
  /** The last run's outcome. */
  last: RunOutcome | null;
}

export class WatchTally {
  readonly url: string;
  private runs = 0;
  private failed = 0;
  private readonly groups = new Map<string, FailureGroup>();
  private readonly nodes = new Map<string, NodeTally>();
  private firstAt: string | null = null;
  private last: RunOutcome | null = null;
  private durationSum = 0;
  private durationMin = Infinity;
  private durationMax = 0;

  constructor(url: string) {
    this.url = url;
  }

  add(o: RunOutcome): void {
    this.runs++;
    this.firstAt ??= o.startedAt;
    this.last = o;
    this.durationSum += o.durationMs;
    this.durationMin = Math.min(this.durationMin, o.durationMs);
    this.durationMax = Math.max(this.durationMax, o.durationMs);
    for (const q of o.requests) {
      let n = this.nodes.get(q.address);
      if (!n) { n = { address: q.address, node: q.node, zone: q.zone, family: q.family, requests: 0, failed: 0, how: {} }; this.nodes.set(q.address, n); }
      n.node ??= q.node;
      n.zone ??= q.zone;
      n.requests++;
      if (!q.ok) n.failed++;
      const how = howId(q);
      n.how[how] = (n.how[how] ?? 0) + 1;
    }
    if (o.ok) return;
    this.failed++;
    const failing = failingRequests(o);
    const through = [...new Map(failing.map((q) => [q.address, { address: q.address, node: q.node, zone: q.zone }])).values()]
      .sort((a, b) => a.address.localeCompare(b.address));
    const how = [...new Set(failing.map(howId))].sort();
    const key = JSON.stringify([o.firstFailing, o.causeId, through.map((t) => t.address), how]);
    let g = this.groups.get(key);
    if (!g && this.groups.size >= MAX_FAILURE_GROUPS) {
      g = this.groups.get('overflow');
      if (!g) {
        g = { layer: null, causeId: null, through: [], how: [], runs: 0, firstSeq: o.seq, lastSeq: o.seq, firstAt: o.startedAt, lastAt: o.startedAt, overflow: true };
        this.groups.set('overflow', g);
      }
    }
    if (!g) {
      g = { layer: o.firstFailing, causeId: o.causeId, through, how, runs: 0, firstSeq: o.seq, lastSeq: o.seq, firstAt: o.startedAt, lastAt: o.startedAt, overflow: false };
      this.groups.set(key, g);
    }
    g.runs++;
    g.lastSeq = o.seq;
    g.lastAt = o.startedAt;
  }

  summary(): WatchSummary {
    return {
      url: this.url,
      runs: this.runs,
      failed: this.failed,
      groups: [...this.groups.values()].map((g) => ({ ...g, through: [...g.through], how: [...g.how] })).sort((a, b) => b.runs - a.runs || a.firstSeq - b.firstSeq),
      nodes: [...this.nodes.values()].map((n) => ({ ...n, how: { ...n.how } })),
      firstAt: this.firstAt,
      lastAt: this.last?.startedAt ?? null,
      durationMs: this.runs ? { min: this.durationMin, mean: Number((this.durationSum / this.runs).toFixed(1)), max: this.durationMax } : null,
      last: this.last,
    };
  }
}
