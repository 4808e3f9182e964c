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
 *  4–6. With a server capture: nothing on ens5 → the instance (security group / NACL);
 *     ens5 but not docker0 → the container path (RST from the host: DNAT missing; silence:
 *     host firewall); docker0 but not the veth → the veth; RST from the veth → the
 *     application is not listening; request seen, no answer → too slow; status → status.
 *     Without a capture these rows are "not checked" and say what to run.
 */
import { FOLLOW_EXIT } from '../errors.js';
import type {
  FollowEvidence, InterfaceSighting, LayerId, RequestEvidence, RouteEvidence, RowStatus, Verdict, VerdictRow,
} from './types.js';

export const LAYER_TITLES: Record<LayerId, string> = {
  dns: 'DNS resolved',
  route: 'Route reaches the load balancer',
  loadBalancer: 'Load balancer answered',
  instance: 'Request reached the instance (ens5)',
  container: 'Forwarded into the container (docker0, veth)',
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
}

export function fmtMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  return `${Math.round(ms)} ms`;
}

const isGood = (status: number | null): boolean => status !== null && status >= 200 && status < 400;

function nodeName(r: RequestEvidence): string {
  return r.node ? `${r.node} (${r.address})` : r.address;
}

function row(layer: LayerId, status: RowStatus, summary: string, evidence: string[] = [], timingMs: number | null = null): VerdictRow {
  return { layer, title: LAYER_TITLES[layer], status, summary, evidence, timingMs };
}

// ── 1. DNS ─────────────────────────────────────────────────────────────────────────────

function dnsRow(ev: FollowEvidence): { row: VerdictRow; cause: Cause | null } {
  const d = ev.dns;
  const evidence = [
    ...d.answers.map((a) => `${a.name}. ${a.ttl} IN ${a.type} ${a.data}`),
    ...(d.server ? [`server ${d.server}${d.rcode ? `, status ${d.rcode}` : ''}, ${fmtMs(d.elapsedMs)}`] : []),
  ];
  if (d.status === 'literal') return { row: row('dns', 'pass', `${ev.host} is an address: nothing to resolve`, evidence), cause: null };
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

function routeRow(ev: FollowEvidence): { row: VerdictRow; cause: Cause | null } {
  if (ev.dns.addresses.length === 0) return { row: row('route', 'not-checked', 'not checked: no address to trace'), cause: null };
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
    const why = routes[0]?.error ?? 'the trace did not run';
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
  if (answeredByHttp) {
    return { row: row('route', 'warn', `the trace did not reach ${notReached.map((r) => r.address).join(', ')}, but the request got an answer: probes are filtered on the way`, evidence), cause: null };
  }
  // The trace that shows a flag names the cause best (the same router answers every address).
  const worst = notReached.find((r) => r.hops.some((h) => h.flag !== null)) ?? notReached[0]!;
  const cause = routeFailure(worst, unreachableAtConnect(ev, worst.address));
  if (reached.length > 0) {
    // Some nodes are reachable: the row is a warning; the load-balancer row decides.
    return { row: row('route', 'warn', `${cause.text}; ${reached.map((r) => r.address).join(', ')} reached`, evidence), cause: null };
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

function lbRow(ev: FollowEvidence, routeStatus: RowStatus): { row: VerdictRow; cause: Cause | null } {
  if (ev.requests.length === 0) return { row: row('loadBalancer', 'not-checked', 'not checked: no request was sent'), cause: null };
  const evidence = ev.requests.map(requestLine);
  const answered = ev.requests.filter((q) => q.httpStatus !== null);
  const failed = ev.requests.filter((q) => q.httpStatus === null);
  const connect = answered[0]?.phases.connectMs ?? null;
  if (failed.length === 0) {
    const lbMade = answered.filter((q) => LB_STATUSES.has(q.httpStatus!));
    const who = answered.map((q) => `${nodeName(q)} ${q.httpStatus}`).join(', ');
    if (lbMade.length > 0 && lbMade.length === answered.length && lbMade.every((q) => q.httpStatus === 503)) {
      // 503 from the LB itself: it has no target to send to, so it never tried the instance.
      const f = lbMade[0]!;
      const cause: Cause = {
        layer: 'loadBalancer', id: 'lb-no-target',
        text: `${nodeName(f)} answered 503: its target group has no registered target to route to, so nothing was sent to the instance`,
        next: 'check the target group: is the instance registered (`aws elbv2 describe-target-health --target-group-arn …`)?',
      };
      return { row: row('loadBalancer', 'fail', `answered 503 (${who}): no registered target`, evidence, connect), cause };
    }
    if (lbMade.length > 0) {
      return { row: row('loadBalancer', 'warn', `answered (${who}) — its own error page: ${lbMeaning(lbMade[0]!.httpStatus!)}`, evidence, connect), cause: null };
    }
    return { row: row('loadBalancer', 'pass', `answered: ${who}`, evidence, connect), cause: null };
  }
  if (routeStatus === 'fail') return { row: row('loadBalancer', 'not-checked', 'not reached: the route fails before it', evidence), cause: null };
  const f = failed[0]!;
  const code = f.error?.code ?? 'error';
  let cause: Cause;
  if (/TLS|CERT|SSL/i.test(code) || f.error?.phase === 'tls') {
    cause = { layer: 'loadBalancer', id: 'lb-tls', text: `TLS handshake with ${nodeName(f)} failed: ${f.error?.message ?? code}`, next: 'check the certificate (`openssl s_client -connect ' + `${f.address}:${f.port} -servername ${ev.host}\`); pass --cacert FILE for a private CA` };
  } else if (/REFUSED/i.test(code)) {
    cause = { layer: 'loadBalancer', id: 'lb-refused', text: `${nodeName(f)} refused the connection on port ${f.port}: no listener on that port`, next: `check the load balancer's listeners (port ${f.port}) and its security group` };
  } else if (/TIMEOUT|TIMEDOUT/i.test(code)) {
    cause = { layer: 'loadBalancer', id: 'lb-timeout', text: `${nodeName(f)} did not answer (${f.error?.phase ?? 'connect'} timeout)`, next: `check the load balancer's security group allows port ${f.port} from the client` };
  } else {
    cause = { layer: 'loadBalancer', id: 'lb-error', text: `the request to ${nodeName(f)} failed: ${code} ${f.error?.message ?? ''}`.trim(), next: `\`flowtrace http ${ev.url} --resolve ${ev.host}:${f.port}:${f.address}\`` };
  }
  if (answered.length > 0) {
    return { row: row('loadBalancer', 'warn', `${cause.text}; ${answered.map(nodeName).join(', ')} answered`, evidence, connect), cause: null };
  }
  return { row: row('loadBalancer', 'fail', cause.text, evidence), cause };
}

function lbMeaning(status: number): string {
  if (status === 502) return '502 Bad Gateway: its target refused or reset the connection';
  if (status === 503) return '503 Service Unavailable: no healthy target';
  return '504 Gateway Timeout: its target did not answer in time';
}

// ── 4–6. server side ───────────────────────────────────────────────────────────────────

function sightingLine(s: InterfaceSighting): string {
  if (s.packets === 0) return `${s.iface}: nothing`;
  const bits = [
    s.syn ? `SYN×${s.syn}${s.synRetransmits ? ` (${s.synRetransmits} retransmitted)` : ''}` : null,
    s.synAck ? `SYN-ACK×${s.synAck}` : null,
    s.request ? 'request' : null,
    s.responseStatus !== null ? `response ${s.responseStatus}` : null,
    s.rstBack ? `RST back×${s.rstBack}` : null,
  ].filter(Boolean);
  return `${s.iface}: ${s.packets} packets, first at +${fmtMs(s.firstMs)}${bits.length ? ` — ${bits.join(', ')}` : ''}`;
}

function linkLines(list: InterfaceSighting[]): string[] {
  return list.filter((i) => i.link !== null).map((i) => `link ${i.iface}: ${i.link}`);
}

interface ServerRows {
  instance: VerdictRow;
  container: VerdictRow;
  application: VerdictRow | null;
  cause: Cause | null;
}

function serverRows(ev: FollowEvidence, clientStatus: number | null, upstreamFailed: boolean): ServerRows {
  const s = ev.server;
  const hint = 'add --server ssh://user@INSTANCE (netns:ec2 in the lab)';
  if (upstreamFailed) {
    const nc = 'not reached: an earlier layer fails';
    return { instance: row('instance', 'not-checked', nc), container: row('container', 'not-checked', nc), application: null, cause: null };
  }
  if (!s) {
    return {
      instance: row('instance', 'not-checked', `not checked (no --server given): ${hint}`),
      container: row('container', 'not-checked', `not checked (no --server given): ${hint}`),
      application: null, cause: null,
    };
  }
  if (s.status === 'error') {
    const why = `not checked: the agent on ${s.target} failed: ${s.error ?? 'unknown error'}`;
    return { instance: row('instance', 'not-checked', why), container: row('container', 'not-checked', why), application: null, cause: null };
  }
  const common = [
    ...(s.filter ? [`capture: ${s.filter}`] : []),
    `${s.capturedPackets} packets captured${s.kernelDrops ? `, ${s.kernelDrops} dropped by the kernel` : ''}`,
  ];
  const by = (role: InterfaceSighting['role']): InterfaceSighting | null => {
    const all = s.interfaces.filter((i) => i.role === role && i.packets > 0);
    return all[0] ?? s.interfaces.find((i) => i.role === role) ?? null;
  };
  const ens5 = by('ens5');
  const docker0 = by('docker0');
  const veth = by('veth');
  const seen = (x: InterfaceSighting | null): boolean => x !== null && x.packets > 0;
  const lines = s.interfaces.map(sightingLine);
  const answeredOk = isGood(clientStatus);

  // 4. the instance
  if (!seen(ens5)) {
    if (answeredOk) {
      const w = `the application answered, but the capture on ${s.target} saw nothing on ens5 — is it the right host/interface?`;
      return { instance: row('instance', 'warn', w, [...common, ...lines]), container: row('container', 'not-checked', 'no packets captured'), application: null, cause: null };
    }
    const cause: Cause = {
      layer: 'instance', id: 'sg-block',
      text: 'the request never reached ens5: the security group or the subnet\'s NACL drops it before the instance',
      next: 'check the instance\'s security group allows the port from the load balancer\'s security group, and the NACL (both directions)',
    };
    return {
      instance: row('instance', 'fail', 'request never reached ens5: security group / NACL', [...common, ...lines, 'no packet of the request on any interface of the instance']),
      container: row('container', 'not-checked', 'not reached: the instance never saw the request'),
      application: row('application', 'not-checked', 'not reached'), cause,
    };
  }
  const instance = row('instance', 'pass', `reached ${ens5!.iface === 'ens5' ? 'ens5' : `${ens5!.iface} (its outer interface: no ens5 here)`}${ens5!.syn ? ` (SYN at +${fmtMs(ens5!.firstMs)})` : ''}${ens5!.request ? ', request seen' : ''}`, [...common, sightingLine(ens5!)], ens5!.firstMs);

  // 5. into the container
  const nat = s.nat.map((m) => `NAT ${m.from} → ${m.to} (${m.between})`);
  // The container's veth when it is down (a bridge whose only port is down loses its carrier too).
  const downLink = s.interfaces.find((i) => i.role === 'veth' && i.link === 'down') ?? s.interfaces.find((i) => i.role === 'docker0' && i.link === 'down');
  if (!seen(veth) && downLink && !(veth && veth.rstBack)) {
    const vethName = s.interfaces.find((i) => i.role === 'veth')?.iface ?? downLink.iface;
    const cause: Cause = {
      layer: 'container', id: 'veth-down',
      text: `the packet reached ${seen(docker0) ? 'docker0' : 'ens5'} but never the container's veth: ${downLink.iface} is down${downLink.role === 'docker0' ? ' (the bridge has no port up)' : ''}, so nothing can reach the container`,
      next: `\`ip link show master docker0\` on the instance (${vethName} state DOWN?); restart the container, or \`docker inspect\` its network`,
    };
    return {
      instance,
      container: row('container', 'fail', `reached ${seen(docker0) ? 'docker0' : 'ens5'}, not the container's veth: ${downLink.iface} is down`, [...lines, ...nat, ...linkLines(s.interfaces)]),
      application: row('application', 'not-checked', 'not reached'), cause,
    };
  }
  if (!seen(docker0) && !seen(veth) && answeredOk) {
    // The application answered 2xx/3xx, so nothing between here and it dropped the request:
    // this capture just never saw it go into a container (another host than the one behind
    // the load balancer, or a container on the host's network). Not a container failure.
    const w = `the application answered, but the capture on ${s.target} saw the request only on ${ens5!.iface}, never on docker0 or a container's veth — is it the Docker host behind the load balancer (or does the container use the host's network)?`;
    return { instance, container: row('container', 'warn', w, [...lines, ...nat]), application: null, cause: null };
  }
  if (!seen(docker0) && !seen(veth)) {
    const cause: Cause = ens5!.rstBack > 0
      ? {
          layer: 'container', id: 'dnat-missing',
          text: 'the SYN reached ens5 but never docker0, and the host answered RST: nothing listens on that port on the host — Docker\'s DNAT rule is missing',
          next: 'check `iptables -t nat -L DOCKER -n -v` on the instance (expect DNAT tcp dpt:80 to:172.17.0.2:8080); restarting the container makes Docker write it again',
        }
      : {
          layer: 'container', id: 'host-firewall',
          text: `the SYN reached ens5 but never docker0 and nobody answered${ens5!.synRetransmits ? ` (${ens5!.synRetransmits} SYN retransmits)` : ''}: the host firewall drops it (DOCKER-USER or FORWARD)`,
          next: 'check `iptables -L DOCKER-USER -n -v` and `iptables -L FORWARD -n -v` on the instance for a DROP whose counters grow',
        };
    return {
      instance,
      container: row('container', 'fail', `reached ens5, not docker0: ${cause.id === 'dnat-missing' ? 'Docker\'s DNAT rule (host answered RST)' : 'host firewall (SYN dropped)'}`, [...lines, ...nat]),
      application: row('application', 'not-checked', 'not reached'), cause,
    };
  }
  if (seen(docker0) && !seen(veth)) {
    const cause: Cause = {
      layer: 'container', id: 'veth-down',
      text: `the packet reached docker0 but never the container's veth${veth ? ` (${veth.iface})` : ''}: the container's interface is down or detached from the bridge`,
      next: '`ip link show master docker0` on the instance (is the veth UP?), and `docker inspect` the container\'s network',
    };
    return {
      instance,
      container: row('container', 'fail', 'reached docker0, not the container\'s veth', [...lines, ...nat]),
      application: row('application', 'not-checked', 'not reached'), cause,
    };
  }
  const hopMs = veth && veth.firstMs !== null && ens5!.firstMs !== null ? veth.firstMs - ens5!.firstMs : null;
  const container = row('container', 'pass', `ens5 → docker0 → ${veth?.iface ?? 'veth'}${s.nat[0] ? ` (NAT ${s.nat[0].from} → ${s.nat[0].to})` : ''}`, [...lines, ...nat, ...s.path], hopMs);

  // 6. the application (seen from the container's side)
  const v = veth ?? docker0!;
  if (v.rstBack > 0 && v.synAck === 0 && v.responseStatus === null) {
    const cause: Cause = {
      layer: 'application', id: 'app-not-listening',
      text: `the container reset the connection: the application is not listening on its port${s.nat[0] ? ` (${s.nat[0].to})` : ''}`,
      next: 'check the container is running and its process listens on the published port (`docker ps`, `docker logs`, `ss -ltn` in the container)',
    };
    return { instance, container, application: row('application', 'fail', 'container reset the connection: application not listening', [sightingLine(v), ...s.anomalies]), cause };
  }
  if (v.request && v.responseStatus === null && !answeredOk) {
    const cause: Cause = {
      layer: 'application', id: 'app-slow',
      text: `the request reached the application but it did not answer before the load balancer gave up${clientStatus === 504 ? ' (504)' : ''}`,
      next: 'look at the application (logs, slow handler, dependencies); the ALB idle timeout / target timeout bounds it',
    };
    return { instance, container, application: row('application', 'fail', 'request reached the application, no answer in time', [sightingLine(v), ...s.anomalies]), cause };
  }
  const status = v.responseStatus ?? clientStatus;
  if (status !== null && !isGood(status)) {
    const cause: Cause = {
      layer: 'application', id: 'app-error-status',
      text: `the application answered ${status}`,
      next: 'the application\'s logs for this trace id; the request got all the way there',
    };
    return { instance, container, application: row('application', 'fail', `answered ${status}${s.appTimeMs !== null ? ` in ${fmtMs(s.appTimeMs)}` : ''}`, [sightingLine(v), ...s.anomalies], s.appTimeMs), cause };
  }
  return { instance, container, application: null, cause: null };
}

function headlineFor(cause: Cause, summary: string): string {
  return summary === cause.text ? `stopped at "${LAYER_TITLES[cause.layer]}" (${cause.id})` : `stopped at "${LAYER_TITLES[cause.layer]}": ${summary}`;
}

// ── the verdict ────────────────────────────────────────────────────────────────────────

export function decideVerdict(ev: FollowEvidence): Verdict {
  const dns = dnsRow(ev);
  const route = routeRow(ev);
  const lb = lbRow(ev, route.row.status);
  const answered = ev.requests.filter((q) => q.httpStatus !== null);
  const clientStatus = answered.find((q) => !isGood(q.httpStatus))?.httpStatus ?? answered[0]?.httpStatus ?? null;
  const upstreamFailed = dns.cause !== null || route.cause !== null || lb.cause !== null;
  const srv = serverRows(ev, clientStatus, upstreamFailed);

  let app: VerdictRow;
  let appCause: Cause | null = srv.cause;
  if (srv.application) {
    app = srv.application;
  } else if (upstreamFailed || answered.length === 0) {
    app = row('application', 'not-checked', upstreamFailed ? 'not reached: an earlier layer fails' : 'no answer');
  } else {
    const bad = answered.find((q) => !isGood(q.httpStatus));
    const first = bad ?? answered[0]!;
    const evidence = answered.map((q) => `${nodeName(q)}: HTTP ${q.httpStatus} ${q.reason ?? ''}, first byte ${fmtMs(q.phases.firstByteMs)}, total ${fmtMs(q.phases.totalMs)}${q.bodyPreview ? `, body ${JSON.stringify(q.bodyPreview.slice(0, 120))}` : ''}`);
    const timing = ev.server?.appTimeMs ?? first.phases.firstByteMs;
    if (bad && LB_STATUSES.has(bad.httpStatus!) && !ev.server) {
      app = row('application', 'fail', `no answer from the application: the load balancer answered ${lbMeaning(bad.httpStatus!)}`, evidence, timing);
      appCause = null; // located behind the LB but not pinned down: incomplete
    } else if (bad) {
      app = row('application', 'fail', `answered ${bad.httpStatus}${bad.reason ? ` ${bad.reason}` : ''}`, evidence, timing);
      appCause ??= { layer: 'application', id: 'app-error-status', text: `the application answered ${bad.httpStatus}`, next: 'the application\'s logs for this trace id' };
    } else if ((first.phases.totalMs ?? 0) > SLOW_APPLICATION_MS) {
      app = row('application', 'warn', `answered ${first.httpStatus} but slowly (${fmtMs(first.phases.totalMs)})`, evidence, timing);
    } else {
      const t = ev.server?.appTimeMs;
      app = row('application', 'pass', `answered ${first.httpStatus}${first.reason ? ` ${first.reason}` : ''}${t !== null && t !== undefined ? ` (${fmtMs(t)} in the container)` : ''}, ${fmtMs(first.phases.totalMs)} end to end`, evidence, timing);
    }
  }

  const rows = [dns.row, route.row, lb.row, srv.instance, srv.container, app];
  const cause = dns.cause ?? route.cause ?? lb.cause ?? appCause;
  const ok = ev.dns.addresses.length > 0 && ev.requests.length > 0 && ev.requests.every((q) => isGood(q.httpStatus));
  const good = answered.find((q) => isGood(q.httpStatus));

  if (ok) {
    return {
      ok, rows, firstFailing: null, causeId: null, cause: null, nextCheck: null, exitCode: 0,
      headline: `${ev.url} answered ${good!.httpStatus}${good!.reason ? ` ${good!.reason}` : ''} through ${ev.requests.length} load-balancer address${ev.requests.length > 1 ? 'es' : ''}`,
    };
  }
  if (cause) {
    return {
      ok, rows, firstFailing: cause.layer, causeId: cause.id, cause: cause.text, nextCheck: cause.next,
      exitCode: FOLLOW_EXIT[cause.layer], headline: headlineFor(cause, rows.find((r) => r.layer === cause.layer)!.summary),
    };
  }
  // A failure with no row to pin it on: behind the load balancer without a capture, or odd evidence.
  const bad = answered.find((q) => !isGood(q.httpStatus));
  const text = bad
    ? `the load balancer answered ${lbMeaning(bad.httpStatus!)}; where the request stopped behind it is not checked`
    : 'the evidence does not show where the request stopped';
  return {
    ok, rows, firstFailing: null, causeId: 'incomplete', cause: text,
    nextCheck: 'run again with --server ssh://user@INSTANCE (or netns:ec2 in the lab) to capture on the instance',
    exitCode: FOLLOW_EXIT.incomplete, headline: `failed, not located: ${text}`,
  };
}
