/**
 * The verdict: the seed article's "What we proved" table, one row per layer, decided from
 * the evidence alone (a pure function — tests feed it scripted evidence).
 *
 * Rules, in the order a request crosses the layers:
 *  1. DNS fails when no address came back; the cause follows the resolver's status.
 *  2. The route fails when no address was reached by the trace AND no request got an HTTP
 *     answer; a flag (`!X`, `!N`, `!H`) or stars to the end name the cause and the hop.
 *  3. The load balancer fails when the route reached its network but the connection or the
 *     TLS handshake failed; an LB-made 502/503/504 is a warning on its row (it answered), and
 *     the failure is placed behind it.
 *  4–6. With a server capture, each request's journey on the instance (journey/) says
 *     where it stopped, in either direction, and the host facts why (./server.ts); the
 *     layer is where the break is: nothing reached the uplink, or a reply left it and was
 *     lost beyond → the instance; a packet stopped between the uplink and the container, or
 *     the host answered in the container's place, or the container's own networking fails →
 *     the container path; the end of the path refused, never answered, or answered an
 *     error → the application. The words are ./wording.ts's.
 *     Without a capture these rows are "not checked" and say what to run.
 *  7. Some load-balancer addresses fail and others work: the failure is named per address
 *     (node, zone) with the share of clients it hits (`partial`).
 *  8. Several targets (one `--server` each): each request is read on the target that got it
 *     (its access-log line says which, else its trace id or timing); on a target that did not
 *     get it, nothing is blamed: the verdict says where it went. A 503 the load balancer made
 *     itself means it had no target to send to (AWS answers 503 only then): that node's
 *     failure. Target health (`--target-health`), the access log's line and a request that
 *     crossed zones are said on the load balancer's row.
 *  9. With the AWS configuration (`ev.aws`), each row of the load balancer and the instance
 *     gets its configuration column, and the verdict the configuration's reading next to the
 *     packets' (./config.ts): the rule that denies where the packets stop is named with the
 *     cause; a configuration that allows the path says so before the packets' cause; a
 *     failure the packets do not place that the configuration denies is placed by it.
 */
import { FOLLOW_EXIT } from '../errors.js';
import type { CauseFact, JourneyBreak } from '../journey/index.js';
import type {
  FollowEvidence, InterfaceSighting, LayerId, LoadBalancerEvidence, PartialFailure, RequestEvidence, RouteEvidence, RowStatus, ServerEvidence, ServerRequestEvidence, Verdict, VerdictRow,
} from './types.js';
import { accessLogLine, breakText, causeText, configHopText, configNextCheck, factText, familyShareText, joinedCauseText, lbNotes, nextCheck, nodeText, pointText, rowConfigText, shareText, targetText } from './wording.js';
import { joinConfig, rowConfig, type PacketCause } from './config.js';
import type { AwsEvidence, HappyEyeballsEvidence } from './types.js';

export const LAYER_TITLES: Record<LayerId, string> = {
  dns: 'DNS resolved',
  route: 'Route reaches the load balancer',
  loadBalancer: 'Load balancer answered',
  instance: 'Instance reached, replies left it (ens5)',
  container: 'Through the host to the container and back (docker0, veth)',
  application: 'Application answered',
};

/** Above this the application row warns even on a 2xx (a user would notice). */
export const SLOW_APPLICATION_MS = 1000;

/** Load-balancer-made statuses: the ALB answers these itself when its target fails. */
const LB_STATUSES = new Set([502, 503, 504]);

interface Cause {
  layer: LayerId;
  id: string;
  text: string;
  next: string;
  way?: 'request' | 'reply' | null;
  brk?: JourneyBreak | null;
  facts?: CauseFact[];
  /** The load-balancer addresses this cause is about, when not all of them fail. */
  addresses?: string[];
}

export function fmtMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  return `${Math.round(ms)} ms`;
}

const isGood = (status: number | null): boolean => status !== null && status >= 200 && status < 400;

function nodeName(r: RequestEvidence): string {
  return nodeText(r);
}

function row(layer: LayerId, status: RowStatus, summary: string, evidence: string[] = [], timingMs: number | null = null): VerdictRow {
  return { layer, title: LAYER_TITLES[layer], status, summary, evidence, timingMs, config: null };
}

// ── 1. DNS ─────────────────────────────────────────────────────────────────────────────

function dnsRow(ev: FollowEvidence): { row: VerdictRow; cause: Cause | null } {
  const d = ev.dns;
  const evidence = [
    ...d.answers.map((a) => `${a.name}. ${a.ttl} IN ${a.type} ${a.data}`),
    ...(d.server ? [`server ${d.server}${d.rcode ? `, status ${d.rcode}` : ''}, ${fmtMs(d.elapsedMs)}`] : []),
  ];
  if (d.status === 'literal') return { row: row('dns', 'pass', `${ev.host} is an address: nothing to resolve`, evidence), cause: null };
  if (d.status === 'not-checked') {
    const elsewhere = d.addresses.length > 0 ? ` (the other evidence used ${d.addresses.join(', ')})` : '';
    return { row: row('dns', 'not-checked', `not checked — ${ev.howToCheck?.dns ?? `run \`nslookup ${ev.host}\``}${elsewhere}`, evidence), cause: null };
  }
  if (d.status === 'ok' && d.addresses.length > 0) {
    const n = d.addresses.length;
    const summary = `${ev.host} → ${d.addresses.join(', ')}${n > 1 ? ` (${n} addresses: ${n} load-balancer nodes)` : ''}`;
    return { row: row('dns', 'pass', summary, evidence, d.elapsedMs), cause: null };
  }
  const server = d.server ?? 'the resolver';
  const dig = `dig ${d.server ? `@${d.server.split('#')[0]} ` : ''}${ev.host}`;
  let cause: Cause;
  switch (d.status) {
    case 'nxdomain':
      cause = { layer: 'dns', id: 'dns-nxdomain', text: `the name ${ev.host} does not exist (NXDOMAIN from ${server})`, next: `check the record in the zone (a typo, or a deleted record); \`${dig}\`` };
      break;
    case 'nodata':
    case 'ok':
      cause = { layer: 'dns', id: 'dns-nodata', text: `${ev.host} exists but has no A/AAAA record (NODATA from ${server})`, next: `add the A (or alias) record; \`${dig} ANY\`` };
      break;
    case 'servfail':
      cause = { layer: 'dns', id: 'dns-servfail', text: `${server} failed to resolve ${ev.host} (SERVFAIL): its upstream or the zone is broken`, next: `\`${dig} +trace\`` };
      break;
    case 'refused':
    case 'unreachable':
      cause = { layer: 'dns', id: 'dns-server-down', text: `the DNS server ${server} is not answering: nothing listens on port 53 (${d.status})`, next: `check the resolver is running, or try another one: \`${dig}\`` };
      break;
    case 'timeout':
      cause = { layer: 'dns', id: 'dns-timeout', text: `no answer from ${server}: the queries are dropped on the way (or the server is overloaded)`, next: `\`flowtrace trace ${d.server ? d.server.split('#')[0] : 'RESOLVER'} --proto udp --port 53\` to see where they stop` };
      break;
    default:
      cause = { layer: 'dns', id: 'dns-error', text: `resolving ${ev.host} failed: ${d.error ?? d.status}`, next: `\`${dig}\`` };
  }
  const summary = `${d.status.toUpperCase()}: ${cause.text}`;
  return { row: row('dns', 'fail', summary, d.error ? [...evidence, d.error] : evidence, d.elapsedMs), cause };
}

// ── 2. route ───────────────────────────────────────────────────────────────────────────

export function hopLine(h: RouteEvidence['hops'][number]): string {
  const ttl = String(h.ttl).padStart(2);
  if (h.responders.length === 0) return `${ttl}  * * *`;
  const parts = h.responders.map((r) => {
    const rtts = r.rttMs.length ? r.rttMs.map((x) => fmtMs(x)).join('  ') : '*';
    return `${r.address}  ${rtts}`;
  });
  const loss = h.lossPct > 0 ? `  (${Math.round(h.lossPct)}% loss)` : '';
  return `${ttl}  ${parts.join(' | ')}${h.flag ? ` ${h.flag}` : ''}${h.isDestination ? '  ← destination' : ''}${loss}`;
}

/** The primary trace of each address: the TCP one when there is one (that is what the request uses). */
function primaryRoutes(routes: RouteEvidence[]): RouteEvidence[] {
  const byAddress = new Map<string, RouteEvidence>();
  for (const r of routes) {
    const have = byAddress.get(r.address);
    if (!have || (have.proto !== 'tcp' && r.proto === 'tcp')) byAddress.set(r.address, r);
  }
  return [...byAddress.values()];
}

/**
 * The client's connect failed at once with "no route to host / network": some router sent an
 * ICMP unreachable. A trace can miss that flag — routers rate-limit the unreachables they send
 * (Linux: a few per peer, then one a second) — so this tells an unreachable route apart from a
 * blackhole (which gives a connect timeout) when the trace shows only stars.
 */
function unreachableAtConnect(ev: FollowEvidence, address: string): boolean {
  return ev.requests.some((q) => q.address === address && q.error !== null && q.error.phase === 'connect' &&
    (q.error.code === 'HTTP_UNREACHABLE' || /EHOSTUNREACH|ENETUNREACH/.test(`${q.error.code} ${q.error.message}`)));
}

function routeFailure(r: RouteEvidence, unreachable: boolean): Cause {
  const answered = r.hops.filter((h) => h.responders.length > 0);
  const flagged = r.hops.find((h) => h.flag !== null);
  if (flagged) {
    const who = flagged.responders[0]?.address ?? 'a router';
    const flag = flagged.flag ?? '';
    // The router that sends the unreachable also answered time-exceeded at its own hop:
    // name that hop (the flag comes back on the probe of the next TTL).
    const own = r.hops.find((h) => h.ttl < flagged.ttl && h.responders.some((x) => x.address === who));
    const hopNo = own?.ttl ?? flagged.ttl;
    if (flag === '!X' || flag === '!P' || flag === '!S') {
      return { layer: 'route', id: 'route-reject', text: `router ${who} at hop ${hopNo} rejects the traffic to ${r.address} (${flag}: administratively prohibited) — a firewall or ACL on the path`, next: `ask the owner of ${who} (hop ${hopNo}) about its filter; \`flowtrace trace ${r.address} --proto icmp\` to compare` };
    }
    return { layer: 'route', id: 'no-route', text: `router ${who} at hop ${hopNo} has no route to ${r.address} (${flag}: ${flag === '!N' ? 'network' : 'host'} unreachable)`, next: `check the routing table of ${who} (hop ${hopNo}) for ${r.address}` };
  }
  const last = answered[answered.length - 1];
  if (unreachable) {
    const after = last ? `after hop ${last.ttl} (${last.responders[0]?.address})` : 'on the way';
    return { layer: 'route', id: 'no-route', text: `a router ${after} answers the connection to ${r.address} with "no route to host" (the client's connect failed at once; the trace's probes past it got no ICMP back: routers rate-limit unreachables) — an unreachable route or a reject`, next: `check the routing table${last ? ` of the router after ${last.responders[0]?.address} (hop ${last.ttl + 1})` : ''} for ${r.address}; repeat \`flowtrace trace ${r.address}\` after a few seconds to see its !H/!N/!X` };
  }
  if (!last) {
    return { layer: 'route', id: 'route-blackhole', text: `no router answered on the way to ${r.address}: the traffic is dropped at the first hop (or the client has no route)`, next: '`ip route get ' + r.address + '` on the client' };
  }
  return { layer: 'route', id: 'route-blackhole', text: `the path to ${r.address} stops after hop ${last.ttl} (${last.responders[0]?.address}): the next router drops the traffic`, next: `check the router after ${last.responders[0]?.address} (hop ${last.ttl + 1}); compare \`flowtrace trace ${r.address} --proto icmp\`` };
}

/** A load-balancer address whose trace stops at the router in front of the nodes (the node is down). */
interface NodeDown { address: string; trace: RouteEvidence }

function routeRow(ev: FollowEvidence): { row: VerdictRow; cause: Cause | null; nodesDown?: NodeDown[] } {
  if (ev.dns.addresses.length === 0) return { row: row('route', 'not-checked', ev.routes.length === 0 && ev.howToCheck?.route ? `not checked — ${ev.howToCheck.route}` : 'not checked: no address to trace'), cause: null };
  const routes = primaryRoutes(ev.routes);
  const answeredByHttp = ev.requests.some((q) => q.httpStatus !== null);
  const evidence: string[] = [];
  for (const r of ev.routes) {
    evidence.push(`${r.proto}${r.port !== null ? `/${r.port}` : ''} to ${r.address}: ${r.status === 'reached' ? `reached at hop ${r.reachedAtTtl}` : r.status === 'error' ? `error: ${r.error}` : 'not reached'}`);
    for (const h of r.hops) evidence.push('  ' + hopLine(h));
    if (r.explanation) evidence.push(`  ${r.explanation}`);
  }
  const traced = routes.filter((r) => r.status !== 'error');
  if (traced.length === 0) {
    const why = routes[0]?.error ?? (ev.howToCheck?.route ? `no trace given — ${ev.howToCheck.route}` : 'the trace did not run');
    return {
      row: row('route', answeredByHttp ? 'pass' : 'not-checked', answeredByHttp ? `not traced (${why}); the request got through, so the route works` : `not checked: ${why}`, evidence),
      cause: null,
    };
  }
  const reached = traced.filter((r) => r.status === 'reached');
  const notReached = traced.filter((r) => r.status !== 'reached');
  const rtt = (r: RouteEvidence): number | null => {
    const dest = r.hops.find((h) => h.isDestination);
    const all = dest?.responders.flatMap((x) => x.rttMs) ?? [];
    return all.length ? Math.min(...all) : null;
  };
  if (notReached.length === 0) {
    const hops = reached.map((r) => `${r.address} at hop ${r.reachedAtTtl}`).join(', ');
    const silent = reached.some((r) => r.hops.some((h) => h.responders.length === 0 && !h.isDestination));
    const note = silent ? '; silent hops are routers not answering traceroute (rate-limited or filtered), the path goes on' : '';
    return { row: row('route', 'pass', `reached ${hops}${note}`, evidence, rtt(reached[0]!)), cause: null };
  }
  // Addresses whose requests got an HTTP answer are reachable whatever the probes say (filtered).
  const failedThere = notReached.filter((r) => !ev.requests.some((q) => q.address === r.address && q.httpStatus !== null));
  if (failedThere.length === 0) {
    return { row: row('route', 'warn', `the trace did not reach ${notReached.map((r) => r.address).join(', ')}, but the request got an answer: probes are filtered on the way`, evidence), cause: null };
  }
  // The trace that shows a flag names the cause best (the same router answers every address).
  const worst = failedThere.find((r) => r.hops.some((h) => h.flag !== null)) ?? failedThere[0]!;
  const cause = routeFailure(worst, unreachableAtConnect(ev, worst.address));
  if (reached.length > 0) {
    // Some nodes are reachable, these are not. When the router that answers for them is the
    // one in front of the nodes that work (the last hop before them), the path is fine and the
    // node itself is gone: the load balancer's failure, said on its row (partial).
    const lastBefore = Math.min(...reached.map((r) => r.reachedAtTtl ?? Infinity)) - 1;
    const flagged = worst.hops.find((h) => h.flag !== null);
    const answeringLast = worst.hops.filter((h) => h.responders.length > 0 && !h.isDestination).pop();
    const atTheNodes = (flagged && flagged.ttl - 1 >= lastBefore) || (!flagged && answeringLast !== undefined && answeringLast.ttl >= lastBefore);
    const summary = `${cause.text}; ${reached.map((r) => r.address).join(', ')} reached`;
    if (atTheNodes) return { row: row('route', 'warn', `${summary}: the path to the load balancer works, the node itself does not answer`, evidence), cause: null, nodesDown: failedThere.map((r) => ({ address: r.address, trace: r })) };
    return { row: row('route', 'fail', summary, evidence), cause: { ...cause, addresses: failedThere.map((r) => r.address) } };
  }
  return { row: row('route', 'fail', cause.text, evidence), cause };
}

// ── 3. load balancer ───────────────────────────────────────────────────────────────────

function requestLine(q: RequestEvidence): string {
  if (q.httpStatus !== null) {
    return `${nodeName(q)}:${q.port} → HTTP ${q.httpStatus}${q.reason ? ` ${q.reason}` : ''}${q.serverHeader ? ` (server: ${q.serverHeader})` : ''}, connect ${fmtMs(q.phases.connectMs)}, total ${fmtMs(q.phases.totalMs)}, trace id ${q.traceId}`;
  }
  return `${nodeName(q)}:${q.port} → ${q.error?.code ?? 'error'}${q.error?.phase ? ` during ${q.error.phase}` : ''}: ${q.error?.message ?? ''} (trace id ${q.traceId})`;
}

function lbRow(ev: FollowEvidence, routeStatus: RowStatus, blamedOnRoute: ReadonlySet<string>, nodesDown: NodeDown[] = []): { row: VerdictRow; cause: Cause | null } {
  if (ev.requests.length === 0) return { row: row('loadBalancer', 'not-checked', ev.howToCheck?.request ? `not checked — ${ev.howToCheck.request}` : 'not checked: no request was sent'), cause: null };
  const lb = ev.loadBalancer ?? null;
  const evidence = [...ev.requests.map(requestLine), ...lbEvidence(ev, lb)];
  const answered = ev.requests.filter((q) => q.httpStatus !== null);
  // Requests through an address the route row already failed are its; the others are ours.
  const failed = ev.requests.filter((q) => q.httpStatus === null && !blamedOnRoute.has(q.address));
  const connect = answered[0]?.phases.connectMs ?? null;
  if (failed.length === 0) {
    const lbMade = answered.filter((q) => LB_STATUSES.has(q.httpStatus!) && madeByLb(q, lb));
    const who = answered.map((q) => `${nodeName(q)} ${q.httpStatus}${servedText(q, lb)}`).join(', ');
    const notes = lbNotes(lb, ev.requests);
    const noTarget = lbMade.filter((q) => q.httpStatus === 503);
    if (noTarget.length > 0) {
      // A 503 the load balancer made itself: it had no target to send to (AWS answers 503 only
      // then), so it never tried one. When other nodes did reach targets, the targets were not
      // there for this node: its zone's are out of service and the group does not cross zones.
      const f = noTarget[0]!;
      const reachedElsewhere = answered.filter((q) => !noTarget.includes(q) && lb?.requests.find((r) => r.traceRoot === q.traceId)?.target);
      const zoneWords = f.zone && reachedElsewhere.length > 0
        ? ` — while ${reachedElsewhere.map((q) => `${nodeName(q)}${servedText(q, lb)}`).join(', ')} reached a target: the targets are there, just not for this node: zone ${f.zone} has no target in service and the target group does not send across zones (cross-zone load balancing off), or the node's zone is not enabled for the group`
        : '';
      const cause: Cause = {
        layer: 'loadBalancer', id: 'lb-no-target',
        text: `${nodeName(f)} answered 503 itself: it had no target to route to, so nothing was sent to a target${zoneWords}`,
        next: `check the target group: \`aws elbv2 describe-target-health --target-group-arn …\` (registered, draining, unused targets) and \`aws elbv2 describe-target-group-attributes\` (load_balancing.cross_zone.enabled)`,
        ...(noTarget.length < ev.requests.length ? { addresses: noTarget.map((q) => q.address) } : {}),
      };
      return { row: row('loadBalancer', 'fail', `answered (${who}): ${noTarget.length === answered.length ? 'no target to route to' : `${noTarget.map(nodeName).join(', ')} had no target to route to`}${notes.length ? `; ${notes.join('; ')}` : ''}`, evidence, connect), cause };
    }
    if (lbMade.length > 0) {
      return { row: row('loadBalancer', 'warn', `answered (${who}) — its own error page: ${lbMeaning(lbMade[0]!.httpStatus!, lbLine(lbMade[0]!, lb))}${notes.length ? `; ${notes.join('; ')}` : ''}`, evidence, connect), cause: null };
    }
    const unhealthy = (lb?.targets ?? []).some((t) => t.health && t.health.state !== 'healthy');
    return { row: row('loadBalancer', unhealthy ? 'warn' : 'pass', `answered: ${who}${notes.length ? `; ${notes.join('; ')}` : ''}`, evidence, connect), cause: null };
  }
  if (routeStatus === 'fail' && answered.length === 0) return { row: row('loadBalancer', 'not-checked', 'not reached: the route fails before it', evidence), cause: null };
  const f = failed[0]!;
  const code = f.error?.code ?? 'error';
  let cause: Cause;
  const down = nodesDown.find((n) => n.address === f.address);
  if (down) {
    const flagged = down.trace.hops.find((h) => h.flag !== null);
    const last = down.trace.hops.filter((h) => h.responders.length > 0 && !h.isDestination).pop();
    const router = flagged ?? last;
    const how = flagged ? `answers ${flagged.flag} (${flagged.flag === '!H' ? 'host unreachable' : flagged.flag === '!N' ? 'network unreachable' : 'unreachable'}) for it` : 'is the last hop that answers';
    cause = {
      layer: 'loadBalancer', id: 'lb-node-unreachable',
      text: `${nodeName(f)} does not answer (${code}${f.error?.phase ? ` during ${f.error.phase}` : ''}): the router in front of the load-balancer nodes${router ? ` (hop ${router.ttl}, ${router.responders[0]?.address ?? '*'})` : ''} ${how}, while the other nodes answer through it — the node is down or its address is gone`,
      next: `the load balancer's node in ${f.zone ? `zone ${f.zone}` : 'that zone'} (\`aws elbv2 describe-load-balancers\`: AvailabilityZones and their addresses); DNS keeps handing out ${f.address} until the load balancer drops it`,
    };
  } else if (/TLS|CERT|SSL/i.test(code) || f.error?.phase === 'tls') {
    cause = { layer: 'loadBalancer', id: 'lb-tls', text: `TLS handshake with ${nodeName(f)} failed: ${f.error?.message ?? code}`, next: 'check the certificate (`openssl s_client -connect ' + `${f.address}:${f.port} -servername ${ev.host}\`); pass --cacert FILE for a private CA` };
  } else if (/REFUSED/i.test(code)) {
    cause = { layer: 'loadBalancer', id: 'lb-refused', text: `${nodeName(f)} refused the connection on port ${f.port}: no listener on that port`, next: `check the load balancer's listeners (port ${f.port}) and its security group` };
  } else if (/TIMEOUT|TIMEDOUT/i.test(code) && f.error?.phase !== 'connect') {
    cause = { layer: 'loadBalancer', id: 'lb-timeout', text: `${nodeName(f)} accepted the connection but sent no response before the client's timeout (${f.error?.phase ?? 'first_byte'}): the node does not process requests`, next: `the load balancer's node in ${f.zone ? `zone ${f.zone}` : 'that zone'}: its health, its access log for trace id ${f.traceId} (is the request there?)` };
  } else if (/TIMEOUT|TIMEDOUT/i.test(code)) {
    cause = { layer: 'loadBalancer', id: 'lb-timeout', text: `${nodeName(f)} did not accept the connection (connect timeout: the SYN went unanswered)`, next: `check the load balancer's security group allows port ${f.port} from the client, and that the node is up` };
  } else {
    cause = { layer: 'loadBalancer', id: 'lb-error', text: `the request to ${nodeName(f)} failed: ${code} ${f.error?.message ?? ''}`.trim(), next: `\`flowtrace http ${ev.url} --resolve ${ev.host}:${f.port}:${f.address}\`` };
  }
  if (answered.length > 0) {
    return { row: row('loadBalancer', 'fail', `${cause.text}; ${answered.map(nodeName).join(', ')} answered`, evidence, connect), cause: { ...cause, addresses: failed.map((q) => q.address) } };
  }
  return { row: row('loadBalancer', 'fail', cause.text, evidence), cause };
}

function lbMeaning(status: number, line: LbLine | null = null): string {
  const never = line && line.targetStatus === null && line.target !== null ? ` (its access log: target ${line.target}, target status \`-\`: the target never answered)` : '';
  if (status === 502) return `502 Bad Gateway: its target refused or reset the connection${never}`;
  if (status === 503) return '503 Service Unavailable: no target to route to';
  return `504 Gateway Timeout: its target did not answer in time${never}`;
}

/** What the access log says of a request, when it was found. */
interface LbLine { target: string | null; targetStatus: number | null; elbStatus: number | null }

function lbLine(q: RequestEvidence, lb: LoadBalancerEvidence | null): LbLine | null {
  const r = lb?.accessLog?.requests.find((x) => x.traceRoot === q.traceId)?.record ?? null;
  return r ? { target: r.target, targetStatus: r.targetStatusCode, elbStatus: r.elbStatusCode } : null;
}

/** The load balancer made this answer itself: its access log says its status is not the target's, else its Server header says so. */
function madeByLb(q: RequestEvidence, lb: LoadBalancerEvidence | null): boolean {
  const line = lbLine(q, lb);
  if (line) return line.targetStatus !== q.httpStatus;
  return q.httpStatus !== null && LB_STATUSES.has(q.httpStatus) && (/awselb|elb/i.test(q.serverHeader ?? '') || q.serverHeader === null);
}

/** ` → ec2-a (172.31.5.20:80), cross-zone`: the target that served, when known. */
function servedText(q: RequestEvidence, lb: LoadBalancerEvidence | null): string {
  const t = lb?.requests.find((r) => r.traceRoot === q.traceId);
  if (!t?.target) return '';
  const target = lb!.targets.find((x) => x.address === t.target || x.address.split(':')[0] === t.target!.split(':')[0]) ?? null;
  return ` → ${targetText(target, t.target)}${t.crossZone ? ' (cross-zone)' : ''}`;
}

/** The access log's line and the targets' health, as evidence lines of the load balancer's row. */
function lbEvidence(ev: FollowEvidence, lb: LoadBalancerEvidence | null): string[] {
  if (!lb) return [];
  const out: string[] = [];
  const log = lb.accessLog;
  if (log) {
    if (log.status === 'error') out.push(`access log ${log.source}: not read: ${log.error}`);
    else {
      out.push(`access log ${log.source}: ${log.files} file${log.files === 1 ? '' : 's'}, ${log.lines} lines${log.problems.length ? `, ${log.problems.length} unreadable` : ''}`);
      for (const q of ev.requests) {
        const e = log.requests.find((x) => x.traceRoot === q.traceId);
        if (e) out.push(`  ${nodeName(q)}: ${accessLogLine(e, q.sentAt)}`);
      }
    }
  }
  for (const t of lb.targets) out.push(`target ${targetText(t, t.address)}${t.server ? ` (captured by ${t.server})` : ''}: ${t.health ? `${t.health.state}${t.health.reason ? ` ${t.health.reason}` : ''}${t.health.description ? ` (${t.health.description})` : ''}` : 'health not given (--target-health)'}${t.requests.length ? `; got ${t.requests.length} of the requests` : ''}`);
  return out;
}

// ── 4–6. server side ───────────────────────────────────────────────────────────────────

function sightingLine(s: InterfaceSighting): string {
  if (s.packets === 0) return `${s.iface} (${s.role}): nothing`;
  const bits = [
    s.syn ? `SYN×${s.syn}${s.synRetransmits ? ` (${s.synRetransmits} retransmitted)` : ''}` : null,
    s.synAck ? `SYN-ACK×${s.synAck}` : null,
    s.request ? 'request' : null,
    s.responseStatus !== null ? `response ${s.responseStatus}` : null,
    s.rstBack ? `RST back×${s.rstBack}` : null,
  ].filter(Boolean);
  return `${s.iface} (${s.role}): ${s.packets} packets, first at +${fmtMs(s.firstMs)}${bits.length ? ` — ${bits.join(', ')}` : ''}${s.link === 'down' ? ' — link DOWN' : ''}`;
}

/** A request the client got no 2xx/3xx for, with what the server side says about it. */
interface Failing {
  q: RequestEvidence;
  r: ServerRequestEvidence | null;
}

/** The load balancer made this answer itself (its error page), as far as the evidence tells. */
export function lbMade(q: RequestEvidence, r: ServerRequestEvidence | null): boolean {
  if (q.httpStatus === null || !LB_STATUSES.has(q.httpStatus)) return false;
  // The application's own answer at the end of the path says who made it, when it was seen.
  const app = r?.journey?.applicationStatus ?? null;
  if (app !== null) return app !== q.httpStatus;
  return /awselb|elb/i.test(q.serverHeader ?? '') || r?.break !== null;
}

/** Causes that are the network's (routes, rules, links, neighbours, conntrack), not the application's. */
const NETWORK_CAUSES: ReadonlySet<string> = new Set(['no-route', 'link-down', 'dropped-by-rule', 'rejected-by-rule', 'dropped-by-policy', 'neighbour-failed', 'conntrack-drop', 'reverse-path-filter', 'forwarding-off']);

/** The layer a server-side break belongs to (rules 4–6). */
function breakLayer(r: ServerRequestEvidence): LayerId {
  const b = r.break!;
  const c = r.cause;
  switch (b.kind) {
    case 'not-arrived':
    case 'lost-after':
      return 'instance';
    case 'stopped':
    case 'answered-by-host':
      return 'container';
    case 'no-answer':
      // The container's own networking (its route back, its rules, its link) is the container path.
      return c && ((c.namespace !== null && c.namespace !== 'host' && NETWORK_CAUSES.has(c.id)) || c.id === 'neighbour-failed') ? 'container' : 'application';
    case 'refused':
      // The host refused in the place of a container that listens (no DNAT for the port): the way into the container is what is missing.
      return c && c.namespace === 'host' && c.facts.some((f) => f.kind === 'listeners' && f.namespace !== 'host') ? 'container' : 'application';
    case 'no-response':
    case 'reset':
      return 'application';
  }
}

function serverCause(f: Failing): Cause | null {
  const r = f.r;
  if (!r) return null;
  if (r.break && r.cause) {
    const j = r.journey;
    // Nothing came back because the answer could not go back (the container's route, rules,
    // link): the request got there, the reply is what broke.
    const replyCouldNotLeave = (r.break.kind === 'no-answer' || r.break.kind === 'no-response') && NETWORK_CAUSES.has(r.cause.id) && r.cause.id !== 'neighbour-failed';
    return {
      layer: breakLayer(r), id: r.cause.id, way: replyCouldNotLeave ? 'reply' : r.break.way, brk: r.break, facts: r.cause.facts,
      text: `${breakText(r.break, j)}: ${causeText(r.cause)}`,
      next: nextCheck(r.cause, r.break, j),
    };
  }
  // It went through the host both ways: an error status is the application's own, unless the
  // load balancer made it after the application answered.
  const app = r.journey?.applicationStatus ?? null;
  if (app !== null && !isGood(app)) {
    return { layer: 'application', id: 'error-status', way: null, text: `the application answered ${app} (seen at ${pointText(r.journey!.replyPath[0] ?? null)})`, next: `the application's logs for trace id ${r.traceRoot}: the request got all the way there` };
  }
  if (app !== null && f.q.httpStatus !== null && app !== f.q.httpStatus) {
    return {
      layer: 'loadBalancer', id: 'lb-replaced-answer', way: 'reply',
      text: `the application answered ${app} and it left the instance, but the load balancer answered ${f.q.httpStatus} itself`,
      next: 'the load balancer\'s access log for this trace id (error_reason), and its idle/keep-alive timeouts against the application\'s',
    };
  }
  return null;
}

interface ServerRows {
  instance: VerdictRow;
  container: VerdictRow;
  application: VerdictRow | null;
  cause: Cause | null;
}

function serverRows(ev: FollowEvidence, failing: Failing[], upstreamFailed: boolean): ServerRows {
  // The server that got the first failing request (its journey is read there), else the chosen one.
  const all = serversOf(ev);
  const s = all.find((x) => failing.some((f) => x.requests.some((r) => r === f.r && r.journey !== null))) ?? ev.server;
  const hint = ev.howToCheck?.server ?? 'add --server ssh://user@INSTANCE, once per target of the load balancer (the lab: --server netns:ec2-a --server netns:ec2-b)';
  const noServer = ev.howToCheck?.server ? `not checked — ${ev.howToCheck.server}` : `not checked (no --server given): ${hint}`;
  if (upstreamFailed && failing.every((f) => !f.r?.journey)) {
    const nc = 'not reached: an earlier layer fails';
    return { instance: row('instance', 'not-checked', nc), container: row('container', 'not-checked', nc), application: null, cause: null };
  }
  if (!s) {
    return {
      instance: row('instance', 'not-checked', noServer),
      container: row('container', 'not-checked', noServer),
      application: null, cause: null,
    };
  }
  if (s.status === 'error') {
    const why = `not checked: the server side on ${s.target} failed: ${s.error ?? 'unknown error'}`;
    return { instance: row('instance', 'not-checked', why), container: row('container', 'not-checked', why), application: null, cause: null };
  }
  const common = [
    ...(s.filter ? [`capture: ${s.filter}`] : []),
    `${s.capturedPackets} packets captured${s.kernelDrops ? `, ${s.kernelDrops} dropped by the kernel (a missing sighting may be the capture's)` : ''}; interface roles from ${s.rolesFrom === 'links' ? 'the host\'s links' : 'the packets (no host facts)'}`,
  ];
  const lines = s.interfaces.filter((i) => i.role !== 'loopback').map(sightingLine);
  const nat = s.nat.map((m) => `NAT ${m.from} → ${m.to} (${m.between})`);
  const paths = s.path;
  // The cause: the first failing request's server-side finding (the earliest layer when several).
  const found = failing.map((f) => ({ f, c: serverCause(f) })).filter((x): x is { f: Failing; c: Cause } => x.c !== null);
  found.sort((a, b) => LAYER_ORDER.indexOf(a.c.layer) - LAYER_ORDER.indexOf(b.c.layer));
  const first = found[0] ?? null;
  const firstJourney = s.requests.find((r) => r.journey)?.journey ?? null;
  const uplink = firstJourney?.requestPath[0]?.interface ?? s.interfaces.find((i) => i.role === 'uplink')?.iface ?? 'the uplink';
  const facts = (c: Cause | null): string[] => (c?.facts ?? []).map(factText);

  // Requests that went to a target none of the captures is on (the access log, or a capture that saw the load balancer's other traffic, says so).
  const seenAnywhere = all.some((x) => x.requests.some((r) => r.journey !== null));
  const elsewhere = [...new Set(all.flatMap((x) => x.requests.map((r) => r.elsewhere)).filter((e): e is string => e !== null && !all.some((x) => x.target === e)))];
  if (!seenAnywhere && !first && (elsewhere.length > 0 || failing.every((f) => !f.r?.break))) {
    const here = all.map((x) => `${x.target}${x.targetAddress ? ` (${x.targetAddress})` : ''}`).join(', ');
    const w = elsewhere.length > 0
      ? `the load balancer sent the request to ${elsewhere.join(', ')} (its access log says so), not to ${here}: capture there (--server for that target)`
      : `the application answered, but the capture on ${s.target} saw none of the request's packets — is it the right host/interface?`;
    const status: RowStatus = elsewhere.length > 0 ? 'not-checked' : 'warn';
    return { instance: row('instance', status, w, [...common, ...lines]), container: row('container', 'not-checked', 'no packets of the request captured here'), application: null, cause: null };
  }
  const okButUnseen = ev.requests.some((q) => isGood(q.httpStatus)) && !seenAnywhere;
  if (okButUnseen && !first) {
    const w = `the application answered, but the capture on ${s.target} saw none of the request's packets — is it the right host/interface?`;
    return { instance: row('instance', 'warn', w, [...common, ...lines]), container: row('container', 'not-checked', 'no packets of the request captured'), application: null, cause: null };
  }

  let instance: VerdictRow;
  let container: VerdictRow;
  let application: VerdictRow | null = null;
  const fc = first?.c ?? null;
  const text = fc ? fc.text : '';
  if (fc?.layer === 'instance') {
    instance = row('instance', 'fail', text, [...common, ...lines, ...paths, ...facts(fc)]);
    container = row('container', 'not-checked', fc.way === 'reply' ? 'the request went through the host; its reply was lost beyond the instance' : 'not reached: the instance never saw the request');
    application = fc.way === 'reply' ? appDid(first!.f, s) : row('application', 'not-checked', 'not reached: the request never got to it');
  } else {
    const seenUplink = s.interfaces.find((i) => i.role === 'uplink' && i.packets > 0);
    instance = row('instance', 'pass', `reached ${uplink}${seenUplink?.syn ? ` (SYN at +${fmtMs(seenUplink.firstMs)})` : ''}${seenUplink?.request ? ', request seen' : ''}${fc?.way === 'reply' && fc.layer === 'container' ? '' : '; replies left by it'}`, [...common, ...(seenUplink ? [sightingLine(seenUplink)] : [])], seenUplink?.firstMs ?? null);
    if (fc?.layer === 'container') {
      container = row('container', 'fail', text, [...lines, ...nat, ...paths, ...facts(fc)]);
      application = appDid(first!.f, s);
    } else {
      const inner = firstJourney?.requestPath.slice(1).map((p) => p.interface) ?? [];
      const summary = inner.length > 0
        ? `${[uplink, ...inner].join(' → ')}${s.nat[0] ? ` (NAT ${s.nat[0].from} → ${s.nat[0].to})` : ''}, and back`
        : `${uplink}: no container behind it (the host answers itself)`;
      container = row('container', 'pass', summary, [...lines, ...nat, ...paths]);
      if (fc?.layer === 'application') application = row('application', 'fail', text, [...lines.slice(-1), ...paths, ...facts(fc), ...s.anomalies]);
    }
  }
  return { instance, container, application, cause: fc };
}

const LAYER_ORDER: LayerId[] = ['dns', 'route', 'loadBalancer', 'instance', 'container', 'application'];

/** Every server's evidence (evidence from before `servers` existed: `server` alone). */
function serversOf(ev: FollowEvidence): ServerEvidence[] {
  return ev.servers ?? (ev.server ? [ev.server] : []);
}

/**
 * What the server side says of one request: the server that got it; else one that says where
 * it stopped (nothing of it arrived where it was sent); else the chosen server's entry.
 */
export function requestOnServers(ev: FollowEvidence, traceRoot: string): ServerRequestEvidence | null {
  const entries = serversOf(ev).map((s) => s.requests.find((x) => x.traceRoot === traceRoot) ?? null).filter((r): r is ServerRequestEvidence => r !== null);
  return entries.find((r) => r.matchedBy !== null) ?? entries.find((r) => r.break !== null)
    ?? ev.server?.requests.find((r) => r.traceRoot === traceRoot) ?? null;
}

/** What the application did, from the packets, when the failure is elsewhere (rule 3: an LB's own page is never the application's). */
function appDid(f: Failing, s: NonNullable<FollowEvidence['server']>): VerdictRow {
  const j = f.r?.journey ?? null;
  if (!j) return row('application', 'not-checked', 'never got the request: it stopped before the container');
  const end = j.requestPath[j.requestPath.length - 1] ?? null;
  const synAck = j.steps.find((x) => x.packet === 'syn-ack');
  const res = j.steps.find((x) => x.packet === 'response');
  const req = j.steps.find((x) => x.packet === 'request');
  const lbNote = f.q.httpStatus !== null && LB_STATUSES.has(f.q.httpStatus) ? `; the ${f.q.httpStatus} the client got was the load balancer's own page` : '';
  if (res) return row('application', 'pass', `answered ${res.label.replace('HTTP ', '')} (seen at ${pointText(j.replyPath[0] ?? null)})${lbNote}`, [], s.appTimeMs);
  if (req && req.seen.some((x) => end && x.interface === end.interface)) return row('application', 'not-checked', `got the request (${req.label}); its answer is not what stopped${lbNote}`);
  if (synAck) return row('application', 'not-checked', `accepted the connection (SYN-ACK from ${pointText(j.replyPath[0] ?? null)}) but the request never reached it: the handshake did not complete${lbNote}`);
  const syn = j.steps.find((x) => x.packet === 'syn');
  if (syn && end && syn.seen.some((x) => x.interface === end.interface)) return row('application', 'not-checked', `never saw a connection: the SYN reached ${pointText(end)} and the container's network stack did not answer it${lbNote}`);
  return row('application', 'not-checked', `never got the request: it stopped before ${pointText(end)}${lbNote}`);
}

function headlineFor(cause: Cause, summary: string): string {
  return summary === cause.text ? `stopped at "${LAYER_TITLES[cause.layer]}" (${cause.id})` : `stopped at "${LAYER_TITLES[cause.layer]}": ${summary}`;
}

// ── the verdict ────────────────────────────────────────────────────────────────────────

export function decideVerdict(ev: FollowEvidence): Verdict {
  const packets = decidePackets(ev);
  return ev.aws ? withConfig(packets, ev, ev.aws) : packets;
}

/** Rule 8: the configuration's column and its reading next to the packets'. */
function withConfig(v: Verdict, ev: FollowEvidence, aws: AwsEvidence): Verdict {
  if (aws.status !== 'ok') return { ...v, config: { agreement: 'not-determinable', addresses: [], hop: null, layer: null } };
  const rows = v.rows.map((r) => ({ ...r, config: rowConfig(aws, r.layer, rowConfigText) }));
  const packetCause: PacketCause | null = v.firstFailing && v.causeId
    ? { layer: v.firstFailing, id: v.causeId, way: v.direction, ...(v.partial ? { addresses: v.partial.failing.map((f) => f.address) } : {}) }
    : null;
  const reading = joinConfig(aws, packetCause, ev, v.ok);
  const base: Verdict = { ...v, rows, config: reading };
  if (v.ok) return base;
  const path = reading.hop ? aws.paths.find((p) => reading.addresses.includes(p.address ?? '')) ?? aws.paths[0] ?? null : null;
  if (!packetCause && reading.agreement === 'agree' && reading.hop && reading.layer) {
    // The packets did not place it (no capture behind the load balancer's answer); the configuration does.
    const layer = reading.layer;
    const text = joinedCauseText(reading, null)!;
    const placed = rows.map((r) => (r.layer === layer ? { ...r, status: 'fail' as const, summary: configHopText(reading.hop!), evidence: [...r.evidence, v.cause ?? ''].filter(Boolean) } : r));
    return {
      ...base, rows: placed, firstFailing: layer, direction: reading.hop.way, causeId: reading.hop.reason, cause: text,
      nextCheck: configNextCheck(reading.hop, path), exitCode: FOLLOW_EXIT[layer],
      headline: `stopped at "${LAYER_TITLES[layer]}" (${reading.hop.reason}): the packets were not seen there, the configuration denies it`,
    };
  }
  return {
    ...base,
    cause: joinedCauseText(reading, v.cause),
    nextCheck: reading.agreement === 'agree' && reading.hop ? configNextCheck(reading.hop, path) : v.nextCheck,
  };
}

/** Rules 1–7: the verdict from the packets alone. */
function decidePackets(ev: FollowEvidence): Verdict {
  const dns = dnsRow(ev);
  const route = routeRow(ev);
  const blamedOnRoute = new Set(route.cause?.addresses ?? []);
  const lb = lbRow(ev, route.row.status, blamedOnRoute, route.nodesDown);
  const answered = ev.requests.filter((q) => q.httpStatus !== null);
  const serverOf = (q: RequestEvidence): ServerRequestEvidence | null => requestOnServers(ev, q.traceId);
  const failingHttp: Failing[] = answered.filter((q) => !isGood(q.httpStatus)).map((q) => ({ q, r: serverOf(q) }));
  // A global failure before the load balancer (DNS, every route, every node) leaves nothing to read behind it.
  const upstreamFailed = dns.cause !== null || (route.cause !== null && !route.cause.addresses) || (lb.cause !== null && !lb.cause.addresses);
  const srv = serverRows(ev, failingHttp, upstreamFailed);

  let app: VerdictRow;
  let appCause: Cause | null = srv.cause;
  if (srv.application) {
    app = srv.application;
  } else if (upstreamFailed || answered.length === 0) {
    app = row('application', 'not-checked', upstreamFailed ? 'not reached: an earlier layer fails' : 'no answer');
  } else {
    const bad = failingHttp[0]?.q;
    const first = bad ?? answered[0]!;
    const evidence = answered.map((q) => `${nodeName(q)}: HTTP ${q.httpStatus} ${q.reason ?? ''}, first byte ${fmtMs(q.phases.firstByteMs)}, total ${fmtMs(q.phases.totalMs)}${q.bodyPreview ? `, body ${JSON.stringify(q.bodyPreview.slice(0, 120))}` : ''}`);
    const timing = ev.server?.appTimeMs ?? first.phases.firstByteMs;
    if (bad && lbMade(bad, serverOf(bad)) && !ev.server) {
      app = row('application', 'not-checked', `not checked: the load balancer answered ${lbMeaning(bad.httpStatus!)} — its own page, not the application's; whether the application got the request needs ${ev.howToCheck?.server ? 'a capture on the instance' : '--server'}`, evidence, timing);
      appCause = null; // behind the LB but not pinned down: incomplete
    } else if (bad && !lbMade(bad, serverOf(bad))) {
      app = row('application', 'fail', `answered ${bad.httpStatus}${bad.reason ? ` ${bad.reason}` : ''}`, evidence, timing);
      appCause ??= { layer: 'application', id: 'error-status', text: `the application answered ${bad.httpStatus}`, next: 'the application\'s logs for this trace id' };
    } else if (bad) {
      app = row('application', 'not-checked', `the load balancer answered ${bad.httpStatus} itself; the capture does not show where the request stopped`, evidence, timing);
    } else if ((first.phases.totalMs ?? 0) > SLOW_APPLICATION_MS) {
      app = row('application', 'warn', `answered ${first.httpStatus} but slowly (${fmtMs(first.phases.totalMs)})`, evidence, timing);
    } else {
      const t = ev.server?.appTimeMs;
      app = row('application', 'pass', `answered ${first.httpStatus}${first.reason ? ` ${first.reason}` : ''}${t !== null && t !== undefined ? ` (${fmtMs(t)} at the end of the path)` : ''}${first.phases.totalMs !== null ? `, ${fmtMs(first.phases.totalMs)} end to end` : ''}`, evidence, timing);
    }
  }

  const he = ev.happyEyeballs ?? null;
  const lbShown = he ? { ...lb.row, evidence: [...lb.row.evidence, happyEyeballsLine(he)] } : lb.row;
  const rows = [dns.row, route.row, lbShown, srv.instance, srv.container, app];
  // What fails before the instance fails on the way there: the request's direction.
  const causes = [dns.cause, route.cause, lb.cause, appCause].filter((c): c is Cause => c !== null).map((c) => (c.way === undefined ? { ...c, way: 'request' as const } : c));
  const cause = causes[0] ?? null;
  const ok = ev.dns.addresses.length > 0 && ev.requests.length > 0 && ev.requests.every((q) => isGood(q.httpStatus));
  const good = answered.filter((q) => isGood(q.httpStatus));
  const partial = !ok && good.length > 0 ? partialFailure(ev, good, causes) : null;
  const base = { rows, partial };
  const okNotes = lbNotes(ev.loadBalancer ?? null, ev.requests);

  if (ok) {
    return {
      ok, ...base, firstFailing: null, direction: null, break: null, facts: [], causeId: null, cause: null, nextCheck: null, exitCode: 0, config: null,
      headline: `${ev.url} answered ${good[0]!.httpStatus}${good[0]!.reason ? ` ${good[0]!.reason}` : ''} through ${ev.requests.length} load-balancer address${ev.requests.length > 1 ? 'es' : ''}${okNotes.length ? `; ${okNotes.join('; ')}` : ''}`,
    };
  }
  if (cause) {
    const summary = rows.find((r) => r.layer === cause.layer)!.summary;
    const who = partial ? `${partial.failing.map((x) => nodeText(x)).join(', ')} fail${partial.failing.length === 1 ? 's' : ''} (${partial.share}): ` : '';
    return {
      ok, ...base, firstFailing: cause.layer, direction: cause.way ?? null, break: cause.brk ?? null, facts: cause.facts ?? [],
      causeId: cause.id, cause: `${who}${cause.text}`, nextCheck: cause.next, config: null,
      exitCode: FOLLOW_EXIT[cause.layer], headline: partial ? `partial failure: ${who.replace(/: $/, '')} — stopped at "${LAYER_TITLES[cause.layer]}"` : headlineFor(cause, summary),
    };
  }
  // A failure with no row to pin it on: behind the load balancer without a capture, or odd evidence.
  const bad = answered.find((q) => !isGood(q.httpStatus));
  const text = bad
    ? `the load balancer answered ${lbMeaning(bad.httpStatus!)}; where the request stopped behind it is not checked`
    : 'the evidence does not show where the request stopped';
  return {
    ok, ...base, firstFailing: null, direction: null, break: null, facts: [], causeId: 'incomplete', cause: text, config: null,
    nextCheck: ev.server ? 'repeat with -v and look at the in-host path; `flowtrace analyze` the capture' : ev.howToCheck?.server ? `on the instance: ${ev.howToCheck.server}` : 'run again with --server ssh://user@INSTANCE, once per target (the lab: --server netns:ec2-a --server netns:ec2-b), to capture on the instances',
    exitCode: FOLLOW_EXIT.incomplete, headline: `failed, not located: ${text}`,
  };
}

/** The dual-stack client's request on the load balancer's row. */
function happyEyeballsLine(he: HappyEyeballsEvidence): string {
  const first = `IPv${he.firstFamily}`;
  const used = he.familyUsed === null ? `neither family connected (${he.error ?? 'no answer'})`
    : he.familyUsed === he.firstFamily ? `${first} used (${he.address}), nothing lost`
    : `IPv${he.familyUsed} used (${he.address}) after ${Math.round(he.lostMs ?? 0)} ms lost to ${first}`;
  return `as a dual-stack client (happy eyeballs, ${first} first, the other after ${he.delayMs} ms): ${used}${he.httpStatus !== null ? `, HTTP ${he.httpStatus}` : ''} in ${fmtMs(he.totalMs)} (trace id ${he.traceId})`;
}

/** Some addresses answered 2xx/3xx and others did not: name the failing ones, what fails there, and the share. */
function partialFailure(ev: FollowEvidence, good: RequestEvidence[], causes: Cause[]): PartialFailure {
  const total = new Set(ev.requests.map((q) => q.address)).size;
  const failing = ev.requests.filter((q) => !isGood(q.httpStatus));
  const layerOf = (q: RequestEvidence): { layer: LayerId; causeId: string; summary: string } => {
    const c = causes.find((x) => x.addresses?.includes(q.address)) ?? causes.find((x) => !x.addresses) ?? null;
    const what = q.httpStatus !== null ? `HTTP ${q.httpStatus}` : `${q.error?.code ?? 'error'}${q.error?.phase ? ` during ${q.error.phase}` : ''}`;
    return { layer: c?.layer ?? 'loadBalancer', causeId: c?.id ?? 'incomplete', summary: what };
  };
  const working = [...new Set(good.map((q) => q.address))];
  // One family's addresses all fail and the other's all work: that family's path is broken.
  const familyOf = (a: string): 4 | 6 => (a.includes(':') ? 6 : 4);
  const failingFamilies = new Set(failing.map((q) => familyOf(q.address)));
  const workingFamilies = new Set(working.map(familyOf));
  const family = failingFamilies.size === 1 && workingFamilies.size === 1 && [...failingFamilies][0] !== [...workingFamilies][0] ? [...failingFamilies][0]! : null;
  return {
    failing: failing.map((q) => ({ address: q.address, node: q.node, zone: q.zone, ...layerOf(q) })),
    working,
    share: family ? familyShareText(family, new Set(failing.map((q) => q.address)).size, total, ev.happyEyeballs ?? null) : shareText(new Set(failing.map((q) => q.address)).size, total),
    ...(family ? { family } : {}),
  };
}
