/**
 * The words for people: a journey's break and the host facts behind it, as the verdict's
 * `cause` and `nextCheck`. Decisions are made elsewhere (journey/, verdict.ts) with ids and
 * facts; this module only says them — it decides nothing.
 */
import type { BreakCause, CauseFact, ConnectionJourney, JourneyBreak, PathPoint } from '../journey/index.js';
import type { NetfilterFacts, RouteLookup } from '../host/index.js';
import { HOP_TITLES, hopText, nodeLabel, ruleText as configRuleText, shortArn, type ConfigHop, type ConfigPath } from '../aws/index.js';
import type { AccessLogEvidence, ConfigReading, HappyEyeballsEvidence, LoadBalancerEvidence, RequestEvidence, RowConfig, TargetEvidence } from './types.js';

export function pointText(p: { interface: string; direction: string } | null): string {
  if (!p) return 'the host';
  return p.direction === 'in' ? `${p.interface} (in)` : p.direction === 'out' ? `${p.interface} (out)` : p.interface;
}

const PACKET_WORD: Record<JourneyBreak['packet'], string> = {
  syn: 'SYN', 'syn-ack': 'SYN-ACK', ack: 'handshake\'s ACK', request: 'request', response: 'response', fin: 'FIN', rst: 'RST',
};

/** What got there before a reply was lost: the SYN (a SYN-ACK lost) or the request (a response lost). */
function delivered(b: JourneyBreak): string {
  return b.packet === 'syn-ack' ? 'the SYN was delivered' : b.packet === 'response' ? 'the request was delivered' : 'it was delivered';
}

function fmtWait(ms: number | null): string {
  if (ms === null) return '';
  return ms >= 1000 ? ` in ${(ms / 1000).toFixed(1)} s` : ` in ${Math.round(ms)} ms`;
}

/** Where the conversation stopped, in one clause: "the SYN-ACK reached docker0 (in) but never ens5 (out)". */
export function breakText(b: JourneyBreak, j: ConnectionJourney | null): string {
  const what = PACKET_WORD[b.packet];
  const end = j?.requestPath[j.requestPath.length - 1] ?? null;
  const uplink = j?.requestPath[0] ?? b.at;
  const tries = b.transmissions > 1 ? ` (sent ${b.transmissions}×)` : '';
  switch (b.kind) {
    case 'not-arrived':
      return `nothing of the request reached the instance: no packet of it on ${uplink ? uplink.interface : 'any interface'}`;
    case 'stopped':
      if (b.deviatedTo) return `${b.way === 'reply' ? `${delivered(b)}; its answer (${what}${tries})` : `the ${what}${tries}`} left by ${pointText(b.deviatedTo)} instead of ${pointText(b.at)} and never came back`;
      return b.way === 'request'
        ? `the ${what}${tries} reached ${pointText(b.after)} but was never seen on ${pointText(b.at)}`
        : `${delivered(b)}; its answer (${what}${tries}) was lost between ${pointText(b.after)} and ${pointText(b.at)}: seen on ${pointText(b.after)}, never on ${pointText(b.at)}`;
    case 'lost-after':
      return `${delivered(b)}; its ${b.packet === 'response' ? 'response' : `answer (${what})`} left by ${pointText(b.after)} and never arrived: the other end never acknowledged it${b.transmissions > 1 ? `, and it was sent ${b.transmissions}×` : ''}`;
    case 'no-answer':
      return `the SYN${tries} reached ${pointText(end)} and nothing ever answered it (no SYN-ACK, no RST)`;
    case 'refused':
      return `the SYN reached ${pointText(end)} and was answered with RST: connection refused`;
    case 'answered-by-host':
      return b.at
        ? `the SYN reached ${pointText(b.after)} but was never seen on ${pointText(b.at)}; the host itself answered RST`
        : `the host itself answered RST (first seen on ${pointText(b.after)}) before the SYN reached ${pointText(end)}`;
    case 'no-response':
      return `the request reached ${pointText(end)} and no response came${fmtWait(b.waitedMs)}${b.closedBy ? ` before the client closed the connection (${b.closedBy === 'client-fin' ? 'FIN' : 'RST'})` : ''}`;
    case 'reset':
      return `the request reached ${pointText(end)} and the server reset the connection${fmtWait(b.waitedMs)} without answering`;
  }
}

function ruleText(r: NetfilterFacts): string {
  return r.source === 'nft' ? `${r.family} ${r.table} ${r.chain}: ${r.text}` : r.text;
}

function where(ns: string | null): string {
  return ns === null || ns === 'host' ? 'on the host' : `in ${ns}`;
}

function routeQuery(l: RouteLookup): string {
  return `ip route get ${l.to}${l.from ? ` from ${l.from}` : ''}${l.iif ? ` iif ${l.iif}` : ''}`;
}

function routeResult(l: RouteLookup): string {
  if (l.result === 'unicast' || l.result === 'local' || l.result === 'broadcast') return `dev ${l.dev ?? '?'}${l.gateway ? ` via ${l.gateway}` : ''}`;
  const words: Record<string, string> = {
    blackhole: 'blackhole', unreachable: 'unreachable (no route to host)', prohibit: 'prohibit',
    'no-route': 'no route (network is unreachable)', 'rp-filter': 'refused by the reverse-path filter', error: l.error ?? 'error',
  };
  // The covering route names a blackhole/unreachable route; for the reverse-path check it is only the local route.
  return `${words[l.result] ?? l.result}${l.matchedRoute && l.result !== 'rp-filter' ? ` — route \`${l.matchedRoute}\`` : ''}`;
}

/** One fact, as evidence a person can check. */
export function factText(f: CauseFact): string {
  switch (f.kind) {
    case 'rule': {
      const r = f.rule;
      // One reading only (explain, from pasted text): a total, not what this request did.
      const count = r.packetsDelta !== null
        ? `counted ${r.packetsDelta} packet${r.packetsDelta === 1 ? '' : 's'} during the request`
        : `has counted ${r.packets ?? 0} packet${r.packets === 1 ? '' : 's'} in all (one reading: whether this request's are among them is not known)`;
      if (r.kind === 'policy') return `the ${r.chain} chain's policy ${r.verdict.toUpperCase()} (${r.table} table) ${where(f.namespace)} ${count}: no rule accepted them`;
      return `the ${r.verdict === 'reject' ? 'REJECT' : r.verdict === 'drop' ? 'DROP' : r.verdict} rule \`${ruleText(r)}\` (${r.table} table) ${where(f.namespace)} ${count}`;
    }
    case 'route':
      return `\`${routeQuery(f.lookup)}\` ${where(f.namespace)}: ${routeResult(f.lookup)}`;
    case 'sysctl':
      return `${f.name} = ${f.value} ${where(f.namespace)}`;
    case 'link':
      return `${f.link.name} is down ${where(f.namespace)} (operstate ${f.link.operstate})`;
    case 'neighbour':
      return f.expectedMac !== null && f.entry.lladdr !== null && f.entry.lladdr.toLowerCase() !== f.expectedMac.toLowerCase()
        ? `the neighbour entry for ${f.entry.address} on ${f.entry.dev} says ${f.entry.lladdr} (${f.entry.state.join(' ')}), but the container's interface is ${f.expectedMac}`
        : `the neighbour entry for ${f.entry.address} on ${f.entry.dev} is ${f.entry.state.join(' ')}: it does not answer ARP`;
    case 'counter':
      return `${f.name} rose by ${f.delta} ${where(f.namespace)}`;
    case 'conntrack':
      return `conntrack ${f.stat} rose by ${f.delta} ${where(f.namespace)}${f.count !== null && f.max !== null ? ` (${f.count} of ${f.max} entries)` : ''}`;
    case 'listeners': {
      const wildcard = (a: string): boolean => a === '0.0.0.0' || a === '::' || a === '*' || a === '[::]';
      const same = f.listeners.filter((l) => l.port === f.port);
      const fmt = (l: (typeof f.listeners)[number]): string => `${l.address}:${l.port}${l.process ? ` (${l.process})` : ''}`;
      const serving = same.filter((l) => wildcard(l.address) || l.address === f.address);
      if (serving.length > 0) return `${f.namespace} listens on ${serving.slice(0, 2).map(fmt).join(', ')}`;
      if (same.length > 0) return `${where(f.namespace)} port ${f.port} is listened on only at ${same.slice(0, 3).map(fmt).join(', ')}, not at ${f.address}`;
      const others = f.listeners.slice(0, 4).map(fmt);
      return `nothing listens on port ${f.port} ${where(f.namespace)}${others.length > 0 ? `; it listens on ${others.join(', ')}` : ''}`;
    }
    case 'dnat':
      return f.rules.length > 0 ? `DNAT for port ${f.port}: ${f.rules.join('; ')}` : `no DNAT rule for port ${f.port} in the host's nat table`;
    case 'retransmitted':
      return `the ${PACKET_WORD[f.packet]} was sent ${f.transmissions}×`;
    case 'large-lost':
      return `segments of ${f.retransmittedBytes} bytes were sent again and never acknowledged, while the small packets of the handshake crossed both ways${f.uplink && f.uplinkMtu ? `; ${f.uplink}'s MTU is ${f.uplinkMtu}` : ''}`;
    case 'checked':
      return `checked ${where(f.namespace)}: ${f.what.join(', ')}`;
    case 'closed-first':
      return f.msBefore !== null
        ? `the server's FIN ${f.at ? `left by ${pointText(f.at)} ` : ''}${fmtSeconds(f.msBefore)} before the request came on that connection${f.transmissions > 1 ? ` (sent ${f.transmissions}×, never acknowledged)` : ''}`
        : 'the server had closed the connection before the capture began';
  }
}

function fmtSeconds(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

/** The cause in one sentence: what the facts show. */
export function causeText(c: BreakCause): string {
  const facts = c.facts.filter((f) => f.kind !== 'checked' && f.kind !== 'retransmitted').map(factText);
  const checked = c.facts.filter((f) => f.kind === 'checked').map(factText);
  switch (c.id) {
    case 'not-at-instance':
      return 'it is dropped before the instance: the instance\'s security group, the subnet\'s network ACL, or the load balancer never sent it';
    case 'lost-after-host':
      return 'it is dropped after it left the instance: the subnet\'s network ACL (outbound rules, ephemeral ports), the load balancer\'s security group, or routing in the VPC; nothing on the host stopped it';
    case 'large-packets-lost':
      return `packets too big for the path are dropped after the instance and no ICMP "fragmentation needed" comes back (an MTU black hole): ${facts.join('; ')}`;
    case 'routed-elsewhere':
      return `the host routes it out another interface: ${facts.join('; ')} — the other network (a source/destination check, another subnet) drops it`;
    case 'no-response':
      return `the application did not answer in time${facts.length > 0 ? ` (${facts.join('; ')})` : ''}`;
    case 'closed-before-request':
      return `the request came on a kept-alive connection the application had already closed — ${facts.join('; ')}: its keep-alive (idle) timeout is shorter than the load balancer's, which reused the connection (a 502 from the load balancer, now and then)`;
    case 'unexplained':
      return `nothing read on the host explains it${checked.length > 0 ? ` (${checked.join('; ')})` : ' (no host facts were read)'}${facts.length > 0 ? `; counted during the request, on other interfaces than this path's: ${facts.join('; ')}` : ''}`;
    case 'not-listening':
      // Without listeners read (explain without `ss -ltn`): the RST is the evidence.
      return facts.join('; ') || 'nothing accepted the connection where it arrived (what listens there was not read)';
    default:
      return facts.join('; ') || c.id;
  }
}

/** The next thing to look at, a command when there is one. */
export function nextCheck(c: BreakCause, b: JourneyBreak, j: ConnectionJourney | null): string {
  const f = c.facts[0];
  const nsPrefix = c.namespace && c.namespace !== 'host' ? `in ${c.namespace} (\`nsenter --net=… \` or \`docker exec\`): ` : 'on the instance: ';
  switch (c.id) {
    case 'dropped-by-rule':
    case 'rejected-by-rule':
    case 'dropped-by-policy': {
      const r = f?.kind === 'rule' ? f.rule : null;
      if (r?.source === 'nft') return `${nsPrefix}\`nft -a list chain ${r.family} ${r.table} ${r.chain}\` — remove or narrow the rule (\`nft delete rule ${r.family} ${r.table} ${r.chain} handle N\`)`;
      if (r) return `${nsPrefix}\`iptables -t ${r.table} -L ${r.chain} -n -v --line-numbers\` — the counters grow with each request; remove or narrow the rule (\`iptables -t ${r.table} ${r.kind === 'policy' ? `-P ${r.chain} ACCEPT` : r.text.replace(/^-A /, '-D ')}\`)`;
      return `${nsPrefix}\`iptables-save -c\` and \`nft list ruleset\`: the counters that grow`;
    }
    case 'no-route': {
      const l = f?.kind === 'route' ? f.lookup : null;
      return `${nsPrefix}\`${l ? routeQuery(l) : 'ip route'}\` and \`ip route show table all\`${l?.matchedRoute ? ` — the route \`${l.matchedRoute}\` catches it` : ''}`;
    }
    case 'reverse-path-filter':
      return `${nsPrefix}\`ip route get ${j?.client.address ?? 'CLIENT'}\` leaves by another interface than the one the request came in on: route the replies back the way they came (a source-based rule per interface) or set rp_filter to 2 (loose) on it`;
    case 'link-down': {
      const l = f?.kind === 'link' ? f.link : null;
      return `${nsPrefix}\`ip link show ${l?.name ?? ''}\`; bring it up, or restart the container (\`docker inspect\` its network)`;
    }
    case 'neighbour-failed': {
      const n = f?.kind === 'neighbour' ? f.entry : null;
      return `${nsPrefix}\`ip neigh show dev ${n?.dev ?? ''}\`${n ? ` and \`arping -I ${n.dev} ${n.address}\`` : ''}; does the container's interface answer ARP (\`ip link show\` in it: NOARP?)`;
    }
    case 'conntrack-drop':
      return `${nsPrefix}\`conntrack -S\` and \`sysctl net.netfilter.nf_conntrack_count net.netfilter.nf_conntrack_max\`: the table is full — raise nf_conntrack_max or shorten timeouts`;
    case 'forwarding-off':
      return `${nsPrefix}\`sysctl -w net.ipv4.ip_forward=1\` (Docker turns it on; something turned it off)`;
    case 'not-listening':
      if (c.namespace === null) return `\`ss -ltnp\` where the answer came from (${b.kind === 'answered-by-host' || (j?.requestPath.length ?? 0) <= 1 ? 'the instance: and `iptables -t nat -L DOCKER -n -v` for the published port\'s DNAT rule' : 'the container: `docker exec … ss -ltnp`'}): what listens, on which address and port`;
      return c.namespace === 'host'
        ? 'on the instance: `ss -ltnp` and `iptables -t nat -L DOCKER -n -v` — the container\'s published port (its DNAT rule) is missing, or the service is down; restarting the container makes Docker write the rule again'
        : `${nsPrefix}\`ss -ltnp\`: the application must listen on 0.0.0.0 (or the container's address) and the published port; \`docker ps\`, \`docker logs\``;
    case 'accept-queue-full':
      return `${nsPrefix}\`ss -ltn\` (Recv-Q of the listener) and the application's threads/workers: it stopped accepting connections`;
    case 'not-at-instance':
      return 'the instance\'s security group (inbound: the port from the load balancer\'s security group), the subnet\'s network ACL (inbound and outbound), the target group\'s port';
    case 'large-packets-lost':
      return `the MTU between the instance and the load balancer (\`flowtrace trace --mtu ${j?.client.address ?? 'ADDR'}\` from the instance, or tracepath); allow ICMP "fragmentation needed" (type 3 code 4) in the security groups and NACLs, or clamp the MSS on the instance (\`iptables -t mangle -A POSTROUTING -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu\`)`;
    case 'routed-elsewhere': {
      const l = f?.kind === 'route' ? f.lookup : null;
      return `${nsPrefix}\`${l ? routeQuery(l) : 'ip route get CLIENT'}\` and \`ip rule\`: route the replies out the interface the requests came in by (a source-based routing rule per interface)`;
    }
    case 'lost-after-host':
      return 'the subnet\'s network ACL outbound rules (allow the ephemeral ports 1024–65535 back to the load balancer\'s subnets), the load balancer\'s security group, the VPC route tables; VPC Flow Logs show REJECT for these packets';
    case 'no-response':
      return `the application's logs for this trace id (${j?.traceRoots[0] ?? 'the request'}): a slow handler or a dependency; the load balancer's target timeout bounds it`;
    case 'closed-before-request':
      return 'set the application\'s keep-alive (idle) timeout above the load balancer\'s idle timeout (60 s by default; `aws elbv2 describe-load-balancer-attributes`: idle_timeout.timeout_seconds): Node `server.keepAliveTimeout = 65000`, gunicorn `--keep-alive 65`, nginx `keepalive_timeout 65s`, Apache `KeepAliveTimeout 65`';
    case 'unexplained':
      return b.way === 'reply'
        ? 'on the instance: `iptables-save -c`, `nft list ruleset`, `ip route`, `ip neigh` while repeating the request; `tc -s qdisc` and `ethtool -S` for drops below netfilter'
        : 'on the instance: `iptables-save -c`, `nft list ruleset` (rules without counters do not show), `ip route`, `ip neigh`, `ss -ltn` while repeating the request';
  }
}

/** `alb-b (10.77.2.10, zone b)`. */
export function nodeText(q: { node: string | null; address: string; zone: string | null }): string {
  const extra = [q.address, q.zone ? `zone ${q.zone}` : null].filter(Boolean).join(', ');
  return q.node ? `${q.node} (${extra})` : q.zone ? `${q.address} (zone ${q.zone})` : q.address;
}

/** `1 of 2 load-balancer addresses: about half of new connections`. */
export function shareText(failing: number, total: number): string {
  const frac = failing / total;
  const words = frac === 0.5 ? 'about half' : frac === 1 ? 'all' : `about ${Math.round(frac * 100)} %`;
  return `${failing} of ${total} load-balancer address${total > 1 ? 'es' : ''}: ${words} of new connections (clients pick one address from DNS)`;
}

/**
 * One family's addresses all fail while the other's work: whom it hits. Dual-stack clients
 * try IPv6 first and fall back after happy eyeballs' delay (curl 200 ms, browsers ~250–300 ms):
 * slow, not failed — unless they only have that family. With the measured request's numbers.
 */
export function familyShareText(family: 4 | 6, failing: number, total: number, he: HappyEyeballsEvidence | null): string {
  const other = family === 6 ? 4 : 6;
  const measured = he === null ? ''
    : he.familyUsed === other ? `; measured as a dual-stack client (happy eyeballs, IPv${he.firstFamily} first): IPv${other} used, ${Math.round(he.lostMs ?? 0)} ms lost to IPv${family}`
    : he.familyUsed === family ? `; measured as a dual-stack client: IPv${family} connected then (the failure is not on every connection)`
    : '; measured as a dual-stack client: neither family connected';
  return `all ${failing} IPv${family} address${failing === 1 ? '' : 'es'} of ${total}: IPv${family}-only clients fail; dual-stack clients ${family === 6 ? 'try IPv6 first and ' : ''}fall back to IPv${other} after happy eyeballs' delay — slow, not failed${measured}`;
}

export type { PathPoint };

/** `ec2-b (172.31.21.20:80, zone b)`, or the address alone. */
export function targetText(t: Pick<TargetEvidence, 'name' | 'zone'> | null, address: string): string {
  if (!t || (!t.name && !t.zone)) return address;
  const extra = [address, t.zone ? `zone ${t.zone}` : null].filter(Boolean).join(', ');
  return t.name ? `${t.name} (${extra})` : `${address} (zone ${t.zone})`;
}

const seconds = (v: number): string => (v < 0 ? '-1' : v.toFixed(3));

/** One request's access-log line in words: node, target, the two statuses, error_reason, the three times — or why there is none. */
export function accessLogLine(e: AccessLogEvidence, sentAt: number | null): string {
  const sent = sentAt !== null ? new Date(sentAt).toISOString() : 'the request';
  switch (e.status) {
    case 'found': {
      const r = e.record!;
      const target = r.target === null ? 'target - (sent to no target)' : `target ${r.target} status ${r.targetStatusCode ?? '-'}${r.targetStatusCode === null ? ' (the target never answered)' : ''}`;
      return `line${e.node ? ` of ${e.node}` : ''} (${e.file}): elb ${r.elbStatusCode ?? '-'}, ${target}, error_reason ${r.errorReason ?? '-'}, `
        + `processing ${seconds(r.requestProcessingTime)} / ${seconds(r.targetProcessingTime)} / ${seconds(r.responseProcessingTime)} s (request / target / response), client ${r.client}`;
    }
    case 'log-ends-before':
      return `no line: the log ends at ${e.coverage?.until ?? '?'}, before ${sent}${e.intervalEnd ? ` — the load balancer delivers each node's file every 5 minutes: the line will be in the file for the interval ending ${e.intervalEnd}, delivered within minutes of it` : ''}`;
    case 'log-starts-after':
      return `no line: the log begins at ${e.coverage?.from ?? '?'}, after ${sent} (older files are gone, or elsewhere)`;
    case 'not-found':
      return `no line with its trace id, though the log covers ${sent}: the request did not reach this load balancer, or the log lost it (access logs are best-effort)`;
    case 'no-log':
      return 'no line: nothing was read (no access-log file there)';
  }
}

/** What the load balancer's row adds: targets out of service, every target unhealthy (fail open), requests that crossed zones. */
export function lbNotes(lb: LoadBalancerEvidence | null, requests: readonly RequestEvidence[]): string[] {
  if (!lb) return [];
  const notes: string[] = [];
  const withHealth = lb.targets.filter((t) => t.health);
  const bad = withHealth.filter((t) => t.health!.state !== 'healthy' && t.health!.state !== 'draining');
  const inGroup = withHealth.filter((t) => t.health!.state !== 'draining' && t.health!.state !== 'unused');
  const reason = (t: TargetEvidence): string => `${t.health!.state}${t.health!.reason ? `: ${t.health!.reason}` : ''}${t.health!.description ? ` (${t.health!.description})` : ''}`;
  if (bad.length > 0 && bad.length === inGroup.length && bad.every((t) => t.health!.state === 'unhealthy')) {
    notes.push(`every target is unhealthy (${bad.map((t) => `${targetText(t, t.address)} ${reason(t)}`).join(', ')}): the load balancer fails open and routes to them all anyway`);
  } else {
    for (const t of bad) notes.push(`${targetText(t, t.address)} is ${reason(t)}`);
  }
  for (const t of withHealth.filter((x) => x.health!.state === 'draining')) notes.push(`${targetText(t, t.address)} is draining (${t.health!.reason ?? 'deregistered'}): no new requests go to it`);
  const served = new Set(lb.requests.map((r) => r.target).filter((t): t is string => t !== null));
  if (bad.length + withHealth.filter((x) => x.health!.state === 'draining').length > 0 && served.size === 1) {
    const only = [...served][0]!;
    notes.push(`every request went to ${targetText(lb.targets.find((t) => t.address === only) ?? null, only)}`);
  }
  for (const r of lb.requests) {
    if (!r.crossZone) continue;
    const q = requests.find((x) => x.traceId === r.traceRoot);
    notes.push(`${q ? nodeText(q) : r.address} sent its request cross-zone (zone ${r.nodeZone} → zone ${r.targetZone})`);
  }
  return notes;
}
// ── the AWS configuration next to the packets ──────────────────────────────────────────

/** A configuration hop as evidence: what it is and what it says. */
export function configHopText(h: ConfigHop): string {
  return `${HOP_TITLES[h.hop]}: ${hopText(h)}`;
}

/** The configuration column of a row, in one line. */
export function rowConfigText(c: Omit<RowConfig, 'summary'>, hop: ConfigHop | null, path: ConfigPath | null): string {
  if (!hop) return `allows it (${c.checked} check${c.checked === 1 ? '' : 's'})`;
  const where = path?.address ? `via ${nodeLabel(path)}: ` : '';
  return `${hop.status === 'denied' ? 'denies it' : 'not determinable'} — ${where}${configHopText(hop)}`;
}

/** The short cell of the table's configuration column. */
export function configCell(c: RowConfig): string {
  if (!c.decisive) return 'allows';
  if (c.status === 'unknown') return `? ${c.decisive.reason === 'not-read' ? 'not read' : 'not determinable'}`;
  const what: Partial<Record<string, string>> = {
    'sg-no-rule': 'no SG rule', 'nacl-deny': 'NACL deny', 'nacl-default-deny': 'NACL * deny', 'route-missing': 'no route', 'route-blackhole': 'blackhole route',
    'route-not-igw': 'no IGW route', 'no-listener': 'no listener', 'listener-protocol': 'wrong protocol', 'rule-fixed-response': 'fixed response',
    'no-targets': 'no target', 'targets-not-routable': 'no target in service',
  };
  const res = c.decisive.resource ? ` ${c.decisive.resource.startsWith('arn:') ? shortArn(c.decisive.resource) : c.decisive.resource}` : '';
  return `${what[c.decisive.reason] ?? c.decisive.reason}${res}`;
}

/** The packets' cause with what the configuration says of it (verdict.config). */
export function joinedCauseText(r: ConfigReading, packets: string | null): string | null {
  const hop = r.hop ? configHopText(r.hop) : null;
  switch (r.agreement) {
    case 'agree':
      return packets ? `${packets} — and the configuration names it: ${hop}` : `the configuration denies it: ${hop}`;
    case 'config-allows':
      return packets ? `configuration allows it; ${packets}` : packets;
    case 'config-denies-passed':
      return packets ? `${packets} (the configuration denies an earlier hop — ${hop} — yet the packets crossed it: a change not applied yet, or a configuration of another moment)` : packets;
    case 'elsewhere':
      return packets ? `${packets} (the configuration also denies it further on: ${hop})` : packets;
    case 'not-determinable':
      return packets ? `${packets} (the configuration does not decide it: ${hop ?? 'not read'})` : packets;
    case 'both-pass':
      return packets;
  }
}

/** The fix for a configuration hop that denies, as the AWS CLI command that makes it. */
export function configNextCheck(h: ConfigHop, p: ConfigPath | null): string {
  const r = h.rule;
  const groups = h.facts.find((f) => f.kind === 'groups');
  const acl = h.facts.find((f) => f.kind === 'nacl');
  const route = h.facts.find((f) => f.kind === 'route-lookup');
  const listeners = h.facts.find((f) => f.kind === 'listeners');
  const targets = h.facts.find((f) => f.kind === 'targets');
  switch (h.reason) {
    case 'sg-no-rule':
      if (groups?.kind === 'groups') {
        const source = groups.peerGroups[0] ? `--source-group ${groups.peerGroups[0]}` : groups.peer.kind === 'address' ? `--cidr ${groups.peer.address}/32` : '--cidr 0.0.0.0/0';
        return `\`aws ec2 ${groups.egress ? 'authorize-security-group-egress' : 'authorize-security-group-ingress'} --group-id ${groups.groupIds[0]} --protocol tcp --port ${groups.port} ${source}\` (or the rule the group had: \`aws ec2 describe-security-group-rules --filters Name=group-id,Values=${groups.groupIds[0]}\`)`;
      }
      return '`aws ec2 describe-security-groups`: add the rule for the port';
    case 'nacl-deny':
      return `\`aws ec2 describe-network-acls --network-acl-ids ${h.resource}\`: ${r?.kind === 'nacl-entry' ? `rule ${r.ruleNumber} (${configRuleText(r)}) comes first — delete it (\`aws ec2 delete-network-acl-entry --network-acl-id ${h.resource} ${r.egress ? '--egress' : '--ingress'} --rule-number ${r.ruleNumber}\`) or narrow it` : 'the deny entry comes first'}; ACLs are stateless: the replies need the ephemeral ports 1024-65535`;
    case 'nacl-default-deny':
      return acl?.kind === 'nacl'
        ? `\`aws ec2 create-network-acl-entry --network-acl-id ${acl.aclId} ${acl.egress ? '--egress' : '--ingress'} --rule-number N --protocol tcp --port-range From=${acl.deniedPorts?.from ?? acl.fromPort},To=${acl.deniedPorts?.to ?? acl.toPort} --cidr-block ${acl.peer.kind === 'address' ? `${acl.peer.address}/32` : '0.0.0.0/0'} --rule-action allow\` (N below the entries that match first)`
        : '`aws ec2 describe-network-acls`: no entry allows it';
    case 'route-missing':
    case 'route-not-igw':
    case 'route-blackhole': {
      const table = route?.kind === 'route-lookup' ? route.routeTableId : h.resource;
      const dest = h.hop === 'lb-route-client' ? '0.0.0.0/0' : r?.kind === 'route' ? r.destination : 'the destination';
      const target = h.hop === 'lb-route-client' ? '--gateway-id igw-… (the VPC\'s internet gateway)' : '--gateway-id local';
      return `\`aws ec2 describe-route-tables --route-table-ids ${table}\`; ${h.reason === 'route-missing' ? `\`aws ec2 create-route --route-table-id ${table} --destination-cidr-block ${dest} ${target}\`` : `\`aws ec2 replace-route --route-table-id ${table} --destination-cidr-block ${dest} ${target}\``}`;
    }
    case 'no-listener':
      return `\`aws elbv2 create-listener --load-balancer-arn ${p?.node?.loadBalancerArn ?? 'ARN'} --protocol ${listeners?.kind === 'listeners' ? (listeners.wanted.protocol === 'HTTPS' ? 'HTTPS --certificates CertificateArn=…' : 'HTTP') : 'HTTP'} --port ${listeners?.kind === 'listeners' ? listeners.wanted.port : 'PORT'} --default-actions Type=forward,TargetGroupArn=…\``;
    case 'listener-protocol':
      return `\`aws elbv2 describe-listeners --load-balancer-arn ${p?.node?.loadBalancerArn ?? 'ARN'}\`: the listener's protocol is not the URL's`;
    case 'rule-fixed-response':
      return `\`aws elbv2 describe-rules --listener-arn ${r?.kind === 'listener-rule' ? r.ruleArn.replace(':listener-rule/', ':listener/').replace(/\/[^/]+$/, '') : 'ARN'}\`: ${r?.kind === 'listener-rule' ? `rule ${r.priority}` : 'a rule'} answers the request itself`;
    case 'no-targets':
    case 'targets-not-routable':
      return `\`aws elbv2 describe-target-health --target-group-arn ${h.resource ?? 'ARN'}\`; ${h.reason === 'no-targets' ? '`aws elbv2 register-targets --target-group-arn … --targets Id=i-…`' : `the targets' state: ${targets?.kind === 'targets' ? targets.targets.map((t) => `${t.id} ${t.state}${t.reason ? ` (${t.reason})` : ''}`).join(', ') : ''} (a target in a zone the load balancer does not use takes nothing)`}`;
    default:
      return `the ${HOP_TITLES[h.hop]} (${h.resource ?? '?'})`;
  }
}
