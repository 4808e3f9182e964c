/**
 * The load balancer's own evidence, joined to the requests follow sent:
 *
 *  1. its access log (`--alb-log`): each request's line, found by its trace id Root (alb-log/),
 *     or why there is none (the log ends before the request, starts after it, covers it without it);
 *  2. its targets: the captures' hosts (`--server`), the targets the log names, their names and
 *     zones (`--target-name`), their health as `aws elbv2 describe-target-health` gave it
 *     (`--target-health`);
 *  3. which target each request went to: its access-log line says so; else its trace id (or
 *     the timing of its connection) in a capture; and whether that crossed zones.
 */
import { matchRequest, type AccessLogScan } from '../alb-log/index.js';
import type { AccessLogRead, LoadBalancerEvidence, RequestEvidence, ServerEvidence, TargetEvidence, TargetOfRequest } from './types.js';
import type { TargetHints } from './server.js';

/** One target's health, as describe-target-health gives it. */
export interface TargetHealthEntry {
  /** The target's Id: an address (target type ip) or an instance id / name. */
  id: string;
  port: number | null;
  zone: string | null;
  state: string;
  reason: string | null;
  description: string | null;
}

/** A name and zone given for a target address (`--target-name ADDR=NAME@ZONE`). */
export interface TargetName { name: string; zone: string | null }

/** The entries of `aws elbv2 describe-target-health` JSON (`{"TargetHealthDescriptions": [...]}`); throws on another shape. */
export function parseTargetHealth(json: unknown): TargetHealthEntry[] {
  const list = (json as { TargetHealthDescriptions?: unknown } | null)?.TargetHealthDescriptions;
  if (!Array.isArray(list)) throw new Error('not the output of `aws elbv2 describe-target-health` (no TargetHealthDescriptions)');
  return list.map((d: { Target?: { Id?: unknown; Port?: unknown; AvailabilityZone?: unknown }; TargetHealth?: { State?: unknown; Reason?: unknown; Description?: unknown } }) => {
    if (typeof d?.Target?.Id !== 'string' || typeof d?.TargetHealth?.State !== 'string') throw new Error('a TargetHealthDescription without Target.Id or TargetHealth.State');
    const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
    return {
      id: d.Target.Id, port: typeof d.Target.Port === 'number' ? d.Target.Port : null, zone: str(d.Target.AvailabilityZone),
      state: d.TargetHealth.State, reason: str(d.TargetHealth.Reason), description: str(d.TargetHealth.Description),
    };
  });
}

/** Each request's access-log line (or why none), from what was read. */
export function accessLogEvidence(scan: AccessLogScan, requests: readonly RequestEvidence[]): AccessLogRead {
  return {
    source: scan.source, status: 'ok', error: null,
    files: scan.files.length, lines: scan.files.reduce((n, f) => n + f.lines, 0), problems: scan.problems.slice(0, 20),
    requests: requests.map((q) => {
      const m = matchRequest(scan, q.traceId, q.sentAt);
      return { traceRoot: q.traceId, status: m.status, record: m.record, file: m.file, node: m.record?.node || null, coverage: m.coverage, intervalEnd: m.intervalEnd };
    }),
  };
}

/** What the access log says of where each request went (for the server side: where to look). */
export function targetHints(log: AccessLogRead | null): TargetHints {
  const out = new Map<string, string | null>();
  for (const r of log?.requests ?? []) if (r.status === 'found' && r.record) out.set(r.traceRoot, r.record.target);
  return out;
}

/** Zones compare by their letter when one side is written short (`b` and `eu-west-1b`). */
export function sameZone(a: string, b: string): boolean {
  if (a === b) return true;
  const [short, long] = a.length <= b.length ? [a, b] : [b, a];
  return short.length <= 2 && long.endsWith(short);
}

const hostOf = (address: string): string => (address.includes(':') && !address.startsWith('[') ? address.slice(0, address.lastIndexOf(':')) : address);

export interface LoadBalancerInput {
  requests: readonly RequestEvidence[];
  servers: readonly ServerEvidence[];
  accessLog: AccessLogRead | null;
  targetHealth: readonly TargetHealthEntry[];
  /** By target address (no port). */
  targetNames: Readonly<Record<string, TargetName>>;
}

/** The load balancer's evidence: its log, its targets, where each request went. */
export function loadBalancerEvidence(input: LoadBalancerInput): LoadBalancerEvidence {
  const targets = new Map<string, TargetEvidence>();
  const targetAt = (address: string, port: number | null): TargetEvidence => {
    const host = hostOf(address);
    let t = [...targets.values()].find((x) => hostOf(x.address) === host);
    if (!t) {
      const named = input.targetNames[host];
      t = { address: port !== null ? `${host}:${port}` : host, name: named?.name ?? null, zone: named?.zone ?? null, server: null, health: null, requests: [] };
      targets.set(host, t);
    } else if (port !== null && !t.address.includes(':')) {
      t.address = `${host}:${port}`;
    }
    return t;
  };
  for (const h of input.targetHealth) {
    // An Id that is no address (an instance id) is matched by a --target-name given for it.
    const byName = Object.entries(input.targetNames).find(([, n]) => n.name === h.id)?.[0];
    const address = /^[\d.]+$|:/.test(h.id) ? h.id : byName ?? h.id;
    const t = targetAt(address, h.port);
    t.health = { state: h.state, reason: h.reason, description: h.description };
    t.zone ??= h.zone;
  }
  for (const s of input.servers) {
    if (s.status !== 'ok' || s.targetAddress === null) continue;
    targetAt(s.targetAddress, s.ports[0] ?? null).server = s.target;
  }
  const requests: TargetOfRequest[] = input.requests.map((q) => {
    const line = input.accessLog?.requests.find((r) => r.traceRoot === q.traceId && r.status === 'found') ?? null;
    let target: string | null = null;
    let from: TargetOfRequest['from'] = null;
    let noTarget = false;
    if (line?.record) {
      from = 'access-log';
      target = line.record.target;
      noTarget = target === null;
    } else {
      for (const s of input.servers) {
        const r = s.requests.find((x) => x.traceRoot === q.traceId && x.matchedBy !== null && x.journey !== null);
        if (r && s.targetAddress !== null) { target = `${s.targetAddress}:${r.journey!.server.port}`; from = r.matchedBy; break; }
      }
    }
    let targetZone: string | null = null;
    if (target !== null) {
      const t = targetAt(target, Number(target.slice(target.lastIndexOf(':') + 1)) || null);
      t.requests.push(q.traceId);
      targetZone = t.zone;
    }
    const nodeZone = q.zone;
    return {
      traceRoot: q.traceId, address: q.address, target, from, noTarget, nodeZone, targetZone,
      crossZone: nodeZone !== null && targetZone !== null ? !sameZone(nodeZone, targetZone) : null,
    };
  });
  return { accessLog: input.accessLog, targets: [...targets.values()], requests };
}

/** The empty evidence (nothing about the load balancer beyond the client's view). */
export function noLoadBalancerEvidence(requests: readonly RequestEvidence[]): LoadBalancerEvidence {
  return loadBalancerEvidence({ requests, servers: [], accessLog: null, targetHealth: [], targetNames: {} });
}
