/**
 * What all the runs of a watch say together, counted as they come: the memory is one entry
 * per kind of failure, per load-balancer address and per target, whatever the number of runs.
 *
 * Failing runs are grouped by what their evidence says: the first failing layer and cause,
 * the load-balancer addresses their failing requests went through, the targets the load
 * balancer sent them to (when the access log or a capture says), and how those ended (`502`
 * made by the load balancer, connection refused…). "3 of 40 runs failed, all through alb-b
 * (zone b) to target ec2-a, 502 from the load balancer" is one group (words.ts).
 */
import type { LayerId } from '../follow/index.js';
import { failingRequests, howId, type RequestOutcome, type RunOutcome, type TargetRef } from './outcome.js';

/** Beyond this many kinds of failure, further kinds are counted together (bounded memory). */
export const MAX_FAILURE_GROUPS = 32;
/**
 * Beyond this many targets, further targets are counted together as `other` (targets come and
 * go with scaling: the tally, and the metrics' `target` label, must not grow with them).
 */
export const MAX_TARGETS = 32;
/** The address of the entry that counts the targets beyond MAX_TARGETS. */
export const OTHER_TARGET = 'other';

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
  /** The targets the load balancer sent those requests to, as the evidence says (sorted by address). */
  targets: TargetRef[];
  /** Some of those requests were sent to no target (the access log's `-`). */
  noTarget: boolean;
  /** Some of those requests' targets are not known while others' are (with `targets` non-empty). */
  targetUnknown: boolean;
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

export interface TargetTally extends TargetRef {
  /** Its health the last time the evidence gave it (`--target-health`), null when never given. */
  health: string | null;
  /** Requests the load balancer sent to it (as the evidence says), and how many of them failed. */
  requests: number;
  failed: number;
  /** How its requests ended: count per how id. */
  how: Record<string, number>;
  /** Set on the entry that counts the targets beyond MAX_TARGETS together. */
  overflow: boolean;
}

export interface WatchSummary {
  url: string;
  runs: number;
  failed: number;
  /** Failing runs by what their evidence says, the most frequent first. */
  groups: FailureGroup[];
  /** Per load-balancer address, in the order first seen. */
  nodes: NodeTally[];
  /** Per target that got a request (as the evidence says), in the order first seen; at most MAX_TARGETS and `other`. */
  targets: TargetTally[];
  /** Requests the load balancer sent to no target (its access log says `-`). */
  noTarget: { requests: number; failed: number };
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
  private readonly targets = new Map<string, TargetTally>();
  private readonly noTarget = { requests: 0, failed: 0 };
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
      this.addTarget(q, how);
    }
    if (o.ok) return;
    this.failed++;
    const failing = failingRequests(o);
    const through = [...new Map(failing.map((q) => [q.address, { address: q.address, node: q.node, zone: q.zone }])).values()]
      .sort((a, b) => a.address.localeCompare(b.address));
    const how = [...new Set(failing.map(howId))].sort();
    const targets = [...new Map(failing.filter((q) => q.target).map((q) => [q.target!.address, { address: q.target!.address, name: q.target!.name, zone: q.target!.zone }])).values()]
      .sort((a, b) => a.address.localeCompare(b.address));
    const noTarget = failing.some((q) => q.noTarget);
    const targetUnknown = targets.length > 0 && failing.some((q) => !q.target && !q.noTarget);
    const key = JSON.stringify([o.firstFailing, o.causeId, through.map((t) => t.address), targets.map((t) => t.address), noTarget, targetUnknown, how]);
    let g = this.groups.get(key);
    if (!g && this.groups.size >= MAX_FAILURE_GROUPS) {
      g = this.groups.get('overflow');
      if (!g) {
        g = { layer: null, causeId: null, through: [], targets: [], noTarget: false, targetUnknown: false, how: [], runs: 0, firstSeq: o.seq, lastSeq: o.seq, firstAt: o.startedAt, lastAt: o.startedAt, overflow: true };
        this.groups.set('overflow', g);
      }
    }
    if (!g) {
      g = { layer: o.firstFailing, causeId: o.causeId, through, targets, noTarget, targetUnknown, how, runs: 0, firstSeq: o.seq, lastSeq: o.seq, firstAt: o.startedAt, lastAt: o.startedAt, overflow: false };
      this.groups.set(key, g);
    }
    g.runs++;
    g.lastSeq = o.seq;
    g.lastAt = o.startedAt;
  }

  /** Counts a request on its target (beyond MAX_TARGETS: on `other`). */
  private addTarget(q: RequestOutcome, how: string): void {
    if (q.noTarget) { this.noTarget.requests++; if (!q.ok) this.noTarget.failed++; return; }
    if (!q.target) return;
    let t = this.targets.get(q.target.address);
    if (!t && this.targets.size >= MAX_TARGETS) {
      t = this.targets.get(OTHER_TARGET);
      if (!t) { t = { address: OTHER_TARGET, name: null, zone: null, health: null, requests: 0, failed: 0, how: {}, overflow: true }; this.targets.set(OTHER_TARGET, t); }
    }
    if (!t) { t = { address: q.target.address, name: q.target.name, zone: q.target.zone, health: null, requests: 0, failed: 0, how: {}, overflow: false }; this.targets.set(q.target.address, t); }
    if (!t.overflow) {
      t.name ??= q.target.name;
      t.zone ??= q.target.zone;
      t.health = q.target.health ?? t.health;
    }
    t.requests++;
    if (!q.ok) t.failed++;
    t.how[how] = (t.how[how] ?? 0) + 1;
  }

  summary(): WatchSummary {
    return {
      url: this.url,
      runs: this.runs,
      failed: this.failed,
      groups: [...this.groups.values()].map((g) => ({ ...g, through: [...g.through], targets: [...g.targets], how: [...g.how] })).sort((a, b) => b.runs - a.runs || a.firstSeq - b.firstSeq),
      nodes: [...this.nodes.values()].map((n) => ({ ...n, how: { ...n.how } })),
      targets: [...this.targets.values()].map((t) => ({ ...t, how: { ...t.how } })),
      noTarget: { ...this.noTarget },
      firstAt: this.firstAt,
      lastAt: this.last?.startedAt ?? null,
      durationMs: this.runs ? { min: this.durationMin, mean: Number((this.durationSum / this.runs).toFixed(1)), max: this.durationMax } : null,
      last: this.last,
    };
  }
}
