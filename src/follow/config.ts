/**
 * The AWS configuration next to the packets (issue 18).
 *
 * `configEvidence`: each request's path evaluated in the configuration (aws/) — the request's
 * load-balancer node, the client's address as the load balancer saw it (the X-Forwarded-For
 * it added, from the capture on the instance), the instance the capture ran on as the target.
 *
 * `joinConfig`: the two readings side by side, decided with ids and facts (the words are
 * ./wording.ts's):
 *  1. the path a failure is about: the failing addresses' when some work, else the first
 *     failing request's, else every path;
 *  2. the configuration's decisive hop there (the first denied, else the first not
 *     determinable) and its layer: the client's side, the listener, the rule and the target
 *     group are the load balancer's; the way to the target and back is the instance's;
 *  3. agreement: the configuration denies at the layer where the packets stop (a route that
 *     goes silent at the load balancer counts: its groups, ACL and route table drop without a
 *     word), the same way for the instance (a request never at the uplink: the way there;
 *     a reply lost beyond it: the way back) → `agree`; it allows every hop → `config-allows`;
 *     it denies a layer the packets crossed → `config-denies-passed`; it denies a later one
 *     → `elsewhere`; it cannot decide → `not-determinable`; no failure → `both-pass` or
 *     `config-denies-passed`;
 *  4. a failure the packets cannot place (no capture behind a load balancer's 5xx) that the
 *     configuration denies is placed by it: its layer, its reason as the cause.
 */
import {
  evaluatePaths, scopeSnapshot, LB_HOPS, type ConfigHop, type ConfigHopId, type ConfigPath, type HopStatus, type LoadedAwsConfig,
} from '../aws/index.js';
import type { AwsEvidence, ConfigAgreement, ConfigReading, FollowEvidence, LayerId, RowConfig } from './types.js';

/** The evidence without the configuration: what configEvidence reads. */
export type PacketEvidence = Omit<FollowEvidence, 'aws'>;

const address = (endpoint: string | null): string | null => {
  if (!endpoint) return null;
  const m = /^\[?([^\]]+?)\]?:\d+$/.exec(endpoint);
  return m ? m[1]! : endpoint;
};

/** The last X-Forwarded-For entry of the requests' exchanges on the instance: the client as the load balancer saw it. */
function seenByLoadBalancer(ev: PacketEvidence): string | null {
  const s = ev.server;
  if (!s?.analysis) return null;
  const ids = new Set(s.requests.flatMap((r) => r.connectionIds));
  for (const ex of s.analysis.exchanges) {
    if (!ids.has(ex.connectionId)) continue;
    const xff = ex.request?.xForwardedFor;
    if (xff) return xff.split(',').pop()!.trim();
  }
  return null;
}

/** The instance's own addresses (the capture's host): its target is the one evaluated. */
function instanceAddresses(ev: PacketEvidence): string[] {
  const host = ev.server?.host?.namespaces.find((n) => n.ns.role === 'host');
  return (host?.links ?? []).flatMap((l) => l.addresses.map((a) => a.split('/')[0]!));
}

export function configEvidence(loaded: LoadedAwsConfig, ev: PacketEvidence, loadBalancer: string | null = null): AwsEvidence {
  const query = {
    names: [...new Set([ev.host, ...ev.dns.answers.filter((a) => a.type === 'CNAME').map((a) => a.data)])],
    port: ev.port, scheme: ev.scheme, host: ev.host, path: ev.path || '/',
    clientAddress: address(ev.requests.find((q) => q.localAddress)?.localAddress ?? null),
    clientSeenByLoadBalancer: seenByLoadBalancer(ev),
    loadBalancer,
    targetAddresses: instanceAddresses(ev),
  };
  const base = { ...query, method: 'GET' };
  try {
    const paths = ev.requests.length > 0
      ? ev.requests.map((q) => evaluatePaths(loaded.snapshot, { ...base, address: q.address })[0]!)
      : evaluatePaths(loaded.snapshot, { ...base, address: null });
    return {
      status: 'ok', error: null, source: loaded.source, from: loaded.from, read: loaded.read, missing: loaded.missing,
      query, paths, snapshot: scopeSnapshot(loaded.snapshot, paths),
    };
  } catch (err) {
    // Outputs edited by hand can hold a number where AWS puts a list: said, not a crash; the verdict stays the packets'.
    return { ...failedConfig(loaded.source, loaded.from, `AWS_CONFIG_SHAPE: a field is not in AWS's shape (${(err as Error).message})`), query };
  }
}

/** The configuration could not be read: said once, the verdict is the packets'. */
export function failedConfig(source: AwsEvidence['source'], from: string, error: string): AwsEvidence {
  return {
    status: 'error', error, source, from, read: [], missing: [],
    query: { names: [], port: 0, scheme: 'http', host: '', path: '', clientAddress: null, clientSeenByLoadBalancer: null, loadBalancer: null, targetAddresses: [] },
    paths: [], snapshot: null,
  };
}

/** Which layer of the table a configuration hop belongs to. */
export function hopLayer(h: ConfigHopId): LayerId {
  return LB_HOPS.includes(h) ? 'loadBalancer' : 'instance';
}

const LAYER_ORDER: LayerId[] = ['dns', 'route', 'loadBalancer', 'instance', 'container', 'application'];

/** Every hop reading of a path, in the request's order (the targets' after the group). */
function hopsOf(p: ConfigPath): ConfigHop[] {
  const t = p.targets.find((x) => x.status === 'denied') ?? p.targets.find((x) => x.status === 'unknown') ?? p.targets[0];
  return [...p.hops, ...(t?.hops ?? [])];
}

function decisive(paths: ConfigPath[]): { hop: ConfigHop; path: ConfigPath } | null {
  for (const status of ['denied', 'unknown'] as HopStatus[]) {
    for (const p of paths) {
      const h = hopsOf(p).find((x) => x.status === status);
      if (h) return { hop: h, path: p };
    }
  }
  return null;
}

/** The configuration column of the load balancer's and the instance's rows. */
export function rowConfig(aws: AwsEvidence, layer: LayerId, summarize: (c: Omit<RowConfig, 'summary'>, hop: ConfigHop | null, path: ConfigPath | null) => string): RowConfig | null {
  if (aws.status !== 'ok' || (layer !== 'loadBalancer' && layer !== 'instance')) return null;
  const mine = aws.paths.map((p) => ({ ...p, hops: p.hops.filter((h) => hopLayer(h.hop) === layer), targets: p.targets.map((t) => ({ ...t, hops: t.hops.filter((h) => hopLayer(h.hop) === layer) })) }));
  const checked = mine.reduce((n, p) => n + hopsOf(p).length, 0);
  if (checked === 0) return null;
  const d = decisive(mine);
  const status: HopStatus = d ? d.hop.status : 'allowed';
  const c = { status, decisive: d ? { hop: d.hop.hop, reason: d.hop.reason, resource: d.hop.resource, address: d.path.address } : null, checked };
  return { ...c, summary: summarize(c, d?.hop ?? null, d?.path ?? null) };
}

/** What the verdict decided from the packets, as joinConfig needs it. */
export interface PacketCause {
  layer: LayerId;
  id: string;
  way: 'request' | 'reply' | null;
  /** The addresses it is about when only some fail. */
  addresses?: string[];
}

/** The configuration's reading next to the packets' (rules 1–3 above). */
export function joinConfig(aws: AwsEvidence, cause: PacketCause | null, ev: PacketEvidence, ok: boolean): ConfigReading {
  if (aws.status !== 'ok') return { agreement: 'not-determinable', addresses: [], hop: null, layer: null };
  // 1. the paths the failure is about
  const failing = ev.requests.filter((q) => !(q.httpStatus !== null && q.httpStatus >= 200 && q.httpStatus < 400)).map((q) => q.address);
  const about = cause?.addresses ?? (failing.length > 0 ? failing : ev.requests.map((q) => q.address));
  const paths = aws.paths.filter((p) => p.address === null || about.includes(p.address));
  const chosen = paths.length > 0 ? paths : aws.paths;
  const addresses = [...new Set(chosen.map((p) => p.address).filter((a): a is string => a !== null))];
  // 2. its decisive hop
  const d = decisive(chosen);
  const hop = d?.hop ?? null;
  const layer = hop ? hopLayer(hop.hop) : null;
  const reading = (agreement: ConfigAgreement): ConfigReading => ({ agreement, addresses, hop, layer });
  // 3. agreement
  if (!cause) {
    if (ok) return reading(hop?.status === 'denied' ? 'config-denies-passed' : hop ? 'not-determinable' : 'both-pass');
    return reading(hop?.status === 'denied' ? 'agree' : hop ? 'not-determinable' : 'config-allows');
  }
  if (!hop) return reading('config-allows');
  if (hop.status === 'unknown') return reading('not-determinable');
  const at = LAYER_ORDER.indexOf(layer!);
  const stopped = LAYER_ORDER.indexOf(cause.layer);
  const sameWay = layer !== 'instance' || cause.way === null || cause.way === hop.way;
  if ((at === stopped && sameWay) || (layer === 'loadBalancer' && cause.layer === 'route')) return reading('agree');
  if (at < stopped) return reading('config-denies-passed');
  return reading('elsewhere');
}
