/**
 * Results recorded in the lab (test/data/follow/NAME.json, written by the fault matrix and
 * the raw-fault test with UPDATE_GOLDEN=1): the client's evidence, the server side's readings —
 * flow's analysis of each capture and the host facts, as the agents returned them — and the
 * load balancer's (its access-log lines, the target health given). Read again, they go
 * through the same code as a live run: serversEvidence, loadBalancerEvidence, decideVerdict.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  chosenServer, configEvidence, decideVerdict, loadBalancerEvidence, readingOf, sentRequests, serversEvidence, targetHints,
  type AwsEvidence, type FollowEvidence, type FollowResult, type ServerReading, type TargetHealthEntry, type TargetName,
} from '../../src/follow/index.js';
import { describeParts, type AwsSnapshot } from '../../src/aws/index.js';
import { RECORDED_DIR } from './expected.js';

/** The names of the recorded results (file names without `.json`). */
export function recordedNames(): string[] {
  return readdirSync(RECORDED_DIR).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
}

export function hasRecorded(name: string): boolean {
  return existsSync(path.join(RECORDED_DIR, `${name}.json`));
}

/** The recorded result as it was saved (its verdict is the one of the run that recorded it). */
export function savedResult(name: string): FollowResult {
  return JSON.parse(readFileSync(path.join(RECORDED_DIR, `${name}.json`), 'utf8')) as FollowResult;
}

/**
 * Evidence → verdict again: the server side and the load balancer's re-read (`noServer`: as if
 * no --server was given), the configuration's paths evaluated again from the part of it the
 * result kept (`aws`: another configuration instead, e.g. the lab's for a fault; null: none).
 */
export function rederive(saved: FollowResult, options: { noServer?: boolean; aws?: AwsSnapshot | null } = {}): FollowResult {
  const { verdict: _recorded, aws: savedAws, ...ev } = saved;
  const before = options.noServer ? [] : ev.servers ?? (ev.server ? [ev.server] : []);
  const readings = before.map(readingOf);
  const ok = readings.filter((r): r is ServerReading => r !== null);
  const accessLog = ev.loadBalancer?.accessLog ?? null;
  const again = serversEvidence(ok, sentRequests(ev.requests, ev.options.timeoutMs), targetHints(accessLog));
  const servers = before.map((s, i) => (readings[i] ? again[ok.indexOf(readings[i]!)]! : s));
  const targets = ev.loadBalancer?.targets ?? [];
  const hostOf = (a: string): string => a.replace(/:\d+$/, '');
  const targetHealth: TargetHealthEntry[] = targets.filter((t) => t.health).map((t) => ({
    id: hostOf(t.address), port: Number(t.address.split(':')[1]) || null, zone: t.zone, state: t.health!.state, reason: t.health!.reason, description: t.health!.description,
  }));
  const targetNames: Record<string, TargetName> = Object.fromEntries(targets.filter((t) => t.name).map((t) => [hostOf(t.address), { name: t.name!, zone: t.zone }]));
  const packets: Omit<FollowEvidence, 'aws'> & Pick<FollowResult, 'servers' | 'loadBalancer'> = {
    ...ev, server: chosenServer(servers), servers,
    loadBalancer: loadBalancerEvidence({ requests: ev.requests, servers, accessLog, targetHealth, targetNames }),
    options: { ...ev.options, server: options.noServer ? null : ev.options.server, servers: options.noServer ? [] : ev.options.servers ?? [] },
  };
  const snapshot = options.aws !== undefined ? options.aws : savedAws?.snapshot ?? null;
  let aws: AwsEvidence | null = options.aws === undefined && savedAws?.status === 'error' ? savedAws : null;
  if (snapshot) {
    aws = configEvidence({ snapshot, source: savedAws?.source ?? 'snapshot', from: savedAws?.from ?? 'recorded', ...describeParts(snapshot) }, packets, savedAws?.query.loadBalancer ?? null);
  }
  const evidence: FollowEvidence & Pick<FollowResult, 'servers' | 'loadBalancer'> = { ...packets, aws };
  return { ...evidence, verdict: decideVerdict(evidence) };
}

/** A recorded result, read again through today's code. */
export function recordedResult(name: string, options: { noServer?: boolean; aws?: AwsSnapshot | null } = {}): FollowResult {
  return rederive(savedResult(name), options);
}
