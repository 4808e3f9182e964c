/**
 * One run of `watch`, reduced to what a summary over many runs needs: ids and facts, no prose
 * (words.ts words them). A whole FollowResult is kept only for the newest few runs
 * (recent.ts); this record is small and fixed in size per load-balancer address (each request
 * with the target that got it, when the evidence says).
 */
import { isIP } from 'node:net';
import { lbMade, requestOnServers, traceRoot, type FollowResult, type LayerId, type RequestEvidence, type TargetOfRequest } from '../follow/index.js';

/** Who made the answer a request got, as far as the evidence tells. */
export type AnsweredBy = 'load-balancer' | 'application' | null;

/** A target of the load balancer as the evidence names it. */
export interface TargetRef {
  /** `ip:port` (as the access log or the capture gives it). */
  address: string;
  /** `--target-name`, or null. */
  name: string | null;
  zone: string | null;
}

/** The target that got a request, and how that is known. */
export interface RequestTarget extends TargetRef {
  /** Its health as `--target-health` gave it (`healthy`, `unhealthy`, `draining`…), null when not given. */
  health: string | null;
  /** From its access-log line, its trace id or request line in a `--server` capture, or the timing of a connection there. */
  from: NonNullable<TargetOfRequest['from']>;
}

/** How one request through one load-balancer address ended. */
export interface RequestOutcome {
  address: string;
  node: string | null;
  zone: string | null;
  family: 'ipv4' | 'ipv6';
  /** 2xx/3xx from the application. */
  ok: boolean;
  httpStatus: number | null;
  /** For an HTTP answer: the load balancer's own error page, or the application's; null without an answer. */
  answeredBy: AnsweredBy;
  /** The client's error code (HTTP_CONNECT_REFUSED, HTTP_TIMEOUT…) when no answer came. */
  errorCode: string | null;
  /** End to end, ms; null when unknown. */
  totalMs: number | null;
  /** The target that got it; null when the evidence does not say (no access-log line, no capture found it) or there was none. */
  target: RequestTarget | null;
  /** The access log says the load balancer sent it to no target (`target:port` is `-`). */
  noTarget: boolean;
}

export interface RunOutcome {
  /** 1, 2, 3… in the order of the runs. */
  seq: number;
  /** Wall clock, ISO 8601. */
  startedAt: string;
  durationMs: number;
  ok: boolean;
  exitCode: number;
  firstFailing: LayerId | null;
  causeId: string | null;
  requests: RequestOutcome[];
}

/** The family of an address literal. */
export function addressFamily(address: string): 'ipv4' | 'ipv6' {
  return isIP(address) === 6 ? 'ipv6' : 'ipv4';
}

/** The target the load balancer's evidence says got the request (results older than it: none). */
function targetOf(result: FollowResult, root: string, address: string): { target: RequestTarget | null; noTarget: boolean } {
  const lb = result.loadBalancer;
  const t = lb?.requests.find((x) => x.traceRoot === root && x.address === address) ?? lb?.requests.find((x) => x.traceRoot === root) ?? null;
  if (!t) return { target: null, noTarget: false };
  if (t.target === null || t.from === null) return { target: null, noTarget: t.noTarget };
  const known = lb!.targets.find((x) => x.address === t.target) ?? null;
  return {
    target: { address: t.target, name: known?.name ?? null, zone: known?.zone ?? t.targetZone, health: known?.health?.state ?? null, from: t.from },
    noTarget: false,
  };
}

function requestOutcome(result: FollowResult, q: RequestEvidence): RequestOutcome {
  const ok = q.status === 'ok' && q.httpStatus !== null && q.httpStatus >= 200 && q.httpStatus < 400;
  const root = traceRoot(q.traceId);
  const server = requestOnServers(result, root);
  const answeredBy: AnsweredBy = q.httpStatus === null ? null : lbMade(q, server) ? 'load-balancer' : 'application';
  return {
    address: q.address, node: q.node, zone: q.zone, family: addressFamily(q.address), ok,
    httpStatus: q.httpStatus, answeredBy, errorCode: q.httpStatus === null ? q.error?.code ?? 'HTTP_ERROR' : null,
    totalMs: q.phases.totalMs, ...targetOf(result, root, q.address),
  };
}

/** The run's outcome, from its follow result. */
export function runOutcome(seq: number, result: FollowResult): RunOutcome {
  const v = result.verdict;
  return {
    seq, startedAt: result.startedAt, durationMs: result.durationMs, ok: v.ok, exitCode: v.exitCode,
    firstFailing: v.firstFailing, causeId: v.causeId,
    requests: result.requests.map((q) => requestOutcome(result, q)),
  };
}

/** The requests of a failing run that failed (all of them failed when none is marked failing, e.g. a slow 200). */
export function failingRequests(o: RunOutcome): RequestOutcome[] {
  if (o.ok) return [];
  const failed = o.requests.filter((q) => !q.ok);
  return failed.length ? failed : o.requests;
}

/** A stable id of how a request ended: `502 lb`, `500 app`, `HTTP_CONNECT_REFUSED`, `200`. */
export function howId(q: RequestOutcome): string {
  if (q.httpStatus === null) return q.errorCode ?? 'HTTP_ERROR';
  return q.answeredBy === 'load-balancer' ? `${q.httpStatus} lb` : q.answeredBy === 'application' ? `${q.httpStatus} app` : String(q.httpStatus);
}
