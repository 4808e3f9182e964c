/**
 * Why a journey broke, read from the host's facts — what rose, what fails, what is down —
 * never from a list of known faults. For each kind of break the facts that can stop a packet
 * at that place are looked at, in this order, and every one that fits is kept as evidence:
 *
 *  stopped inside the host, between two points:
 *    1. the next interface (or the container's side of it) is down (what follows from it — a
 *       policy that dropped the misrouted packet — is kept as further evidence);
 *    2. a DROP/REJECT rule (or a chain's DROP policy) whose counter rose during the capture
 *       and that fits the packet (hook, in/out interface, protocol, ports);
 *    3. the route lookup the packet gets: the forwarded reply's (`ip route get CLIENT from
 *       INNER iif BRIDGE`), the request's reverse-path check (`… from CLIENT iif UPLINK`), the
 *       route to the inner address;
 *       — and when the reply's route is fine but leaves by another interface, it went elsewhere;
 *    4. the next hop's neighbour entry is FAILED/INCOMPLETE, or names another MAC than the container's;
 *    5. rp_filter strict on the arrival interface while the route back leaves by another one
 *       (and TcpExt.IPReversePathFilter rose);
 *    6. conntrack dropped entries; 7. forwarding is off.
 *  the end of the path did not answer the SYN: the end namespace's route back, its rules,
 *    its listen queue (ListenOverflows), what listens.
 *  refused / answered by the host: REJECT rules that counted, else what listens (and the DNAT
 *    rules for the port when the host answered).
 *  not arrived / lost after the host: outside the host — nothing here can say more than what
 *    was checked; when what is lost beyond it are full-size segments sent again, the path
 *    drops packets too big for it.
 * When nothing fits, the cause is `unexplained` and `checked` lists what was looked at.
 */
import type { FactKind, HostFacts, NamespaceFacts, NetfilterFacts } from '../host/index.js';
import type { BreakCause, CauseFact, ConnectionJourney, JourneyBreak, PathPoint } from './types.js';

const DOWN = (l: { up: boolean }): boolean => !l.up;

/**
 * A segment this large is a full-size one on any Ethernet path (MSS 1460 − options): lost
 * when sent again while smaller packets got through, it is too big for the path.
 */
const FULL_SIZE_SEGMENT_BYTES = 1200;

function portsMatch(spec: string | null, ports: number[], negated = false): boolean {
  if (spec === null) return true;
  return negated !== spec.split(',').some((part) => {
    const [a, b] = part.split(/[:-]/).map((x) => Number(x.trim()));
    if (a === undefined || !Number.isFinite(a)) return true; // a named port: cannot tell, keep it
    const hi = b === undefined || !Number.isFinite(b) ? a : b;
    return ports.some((p) => p >= a && p <= hi);
  });
}

/** `-i docker0`, `-i veth+`, `! -o ens5`, nft's `{ "ens5", "ens6" }` (a comma list). */
function ifaceMatches(name: string | null, negated: boolean, actual: string | null): boolean {
  if (name === null) return true;
  if (actual === null) return true;
  const one = (n: string): boolean => (n.endsWith('+') || n.endsWith('*') ? actual.startsWith(n.slice(0, -1)) : n === actual);
  const any = name.split(',').map((n) => n.trim()).some(one);
  return negated ? !any : any;
}

interface PacketAt {
  way: 'request' | 'reply';
  /** Interfaces of the last point seen (in) and the point missed (out), when they are known. */
  inInterface: string | null;
  outInterface: string | null;
  clientPort: number;
  serverPorts: number[];
}

/**
 * Rules that fit the packet at this place and counted during the capture, most specific
 * first. `totals`: with one reading only (HostFacts.startedAt null) there are no rises — the
 * rules (not policies, whose totals count every packet ever dropped) whose total counter is
 * above 0: a rule that drops this very path and has dropped packets, not known to be these.
 */
function countedRules(ns: NamespaceFacts, at: PacketAt, verdicts: ReadonlyArray<NetfilterFacts['verdict']>, totals = false): NetfilterFacts[] {
  const fits = ns.netfilter.filter((r) => {
    const counted = totals ? r.kind === 'rule' && r.packetsDelta === null && (r.packets ?? 0) > 0 : r.packetsDelta !== null && r.packetsDelta > 0;
    if (!verdicts.includes(r.verdict) || !counted) return false;
    const m = r.match;
    if (m.protocol !== null && (m.protocol === 'tcp' || m.protocol === '6') === (m.protocolNegated === true)) return false;
    if (!ifaceMatches(m.inInterface, m.inNegated, at.inInterface)) return false;
    if (!ifaceMatches(m.outInterface, m.outNegated, at.outInterface)) return false;
    const dports = at.way === 'request' ? at.serverPorts : [at.clientPort];
    const sports = at.way === 'request' ? [at.clientPort] : at.serverPorts;
    return portsMatch(m.destinationPorts, dports, m.destinationPortsNegated) && portsMatch(m.sourcePorts, sports, m.sourcePortsNegated);
  });
  const specificity = (r: NetfilterFacts): number => (r.kind === 'rule' ? 10 : 0) + (r.match.inInterface ? 2 : 0) + (r.match.outInterface ? 2 : 0) + (r.match.destinationPorts || r.match.sourcePorts ? 1 : 0);
  return fits.sort((a, b) => specificity(b) - specificity(a) || (b.packetsDelta ?? b.packets ?? 0) - (a.packetsDelta ?? a.packets ?? 0));
}

function ruleCause(ns: NamespaceFacts, rules: NetfilterFacts[]): BreakCause {
  const top = rules[0]!;
  const id = top.kind === 'policy' ? 'dropped-by-policy' : top.verdict === 'reject' ? 'rejected-by-rule' : 'dropped-by-rule';
  return { id, namespace: ns.ns.label, facts: rules.slice(0, 3).map((rule) => ({ kind: 'rule', namespace: ns.ns.label, rule })) };
}

function address(cidr: string): string {
  return cidr.split('/')[0]!;
}

function rpFilter(ns: NamespaceFacts, iface: string): number {
  const all = Number(ns.sysctls['net.ipv4.conf.all.rp_filter'] ?? 0);
  const own = Number(ns.sysctls[`net.ipv4.conf.${iface.replace(/\./g, '/')}.rp_filter`] ?? 0);
  return Math.max(all, own);
}

function counter(ns: NamespaceFacts, name: string): number {
  return ns.counters.find((c) => c.name === name)?.delta ?? 0;
}

/** The container namespace at the end of the path: the one behind the last point's veth, or owning the inner address. */
function endNamespace(host: HostFacts, end: PathPoint | null, inner: string | null): NamespaceFacts | null {
  const containers = host.namespaces.filter((n) => n.ns.role === 'container');
  return containers.find((n) => end !== null && n.ns.veth === end.interface)
    ?? containers.find((n) => inner !== null && n.links.some((l) => l.addresses.some((a) => address(a) === inner)))
    ?? null;
}

/** Explains a journey's break with the host's facts (null facts: nothing read, `unexplained`). */
export function explainBreak(j: ConnectionJourney, b: JourneyBreak, host: HostFacts | null): BreakCause {
  const retrans: CauseFact[] = b.transmissions > 1 ? [{ kind: 'retransmitted', packet: b.packet, transmissions: b.transmissions }] : [];
  if (b.kind === 'not-arrived') return { id: 'not-at-instance', namespace: null, facts: [] };
  if (b.kind === 'lost-after') {
    const checked: CauseFact[] = host ? [{ kind: 'checked', namespace: 'host', what: ['the packet left the host: nothing on it stopped it'] }] : [];
    if (b.retransmittedBytes !== null && b.retransmittedBytes >= FULL_SIZE_SEGMENT_BYTES) {
      // Small packets (the handshake) crossed both ways; only full-size segments are lost.
      const uplink = j.requestPath[0]?.interface ?? null;
      const link = host?.namespaces.find((n) => n.ns.role === 'host')?.links.find((l) => l.name === uplink) ?? null;
      return { id: 'large-packets-lost', namespace: null, facts: [...retrans, { kind: 'large-lost', retransmittedBytes: b.retransmittedBytes, uplink, uplinkMtu: link?.mtu ?? null }, ...checked] };
    }
    return { id: 'lost-after-host', namespace: null, facts: [...retrans, ...checked] };
  }
  const hostNs = host?.namespaces.find((n) => n.ns.role === 'host') ?? null;
  if (!host || !hostNs) {
    if (b.kind === 'no-response' || b.kind === 'reset') return { id: 'no-response', namespace: null, facts: [] };
    if (b.kind === 'refused') return { id: 'not-listening', namespace: null, facts: [] };
    return { id: 'unexplained', namespace: null, facts: retrans };
  }
  // The address and port the server's DNAT sends to, also when no packet got that far.
  const dnat = hostNs.dnat.find((r) => (r.protocol === null || r.protocol === 'tcp') && portsMatch(r.ports, [j.server.port]) && (r.inInterface === null || r.inNegated));
  const inner = j.serverInside?.address ?? dnat?.toAddress ?? null;
  const dnatPort = dnat?.toPorts ? Number(dnat.toPorts.split(/[:-]/)[0]) : null;
  const serverPorts = [...new Set([j.server.port, ...(j.serverInside ? [j.serverInside.port] : []), ...(dnatPort !== null && Number.isFinite(dnatPort) ? [dnatPort] : [])])];
  const end = j.requestPath[j.requestPath.length - 1] ?? null;
  const uplink = j.requestPath[0] ?? null;
  const container = endNamespace(host, end, inner);
  const checked: string[] = [];
  // One reading only: counters are totals (see countedRules).
  const single = host.startedAt === null;
  const read = (ns: NamespaceFacts, kind: FactKind): boolean => !(ns.unread ?? []).includes(kind);
  const saw = (ns: NamespaceFacts, kind: FactKind, what: string): void => { if (read(ns, kind)) checked.push(what); };

  switch (b.kind) {
    case 'stopped': {
      const at: PacketAt = {
        way: b.way,
        inInterface: b.after?.interface ?? null,
        outInterface: b.at?.interface ?? null,
        clientPort: j.client.port, serverPorts,
      };
      // 1. links on the path: a down interface explains what follows from it (the packet routed
      //    elsewhere and dropped by a policy, say), which is kept as further evidence.
      const nextIf = b.at?.interface ?? null;
      const down = hostNs.links.filter((l) => DOWN(l) && (l.name === nextIf || (b.way === 'request' && l.name === end?.interface)));
      const containerDown = container?.links.filter((l) => DOWN(l) && l.kind === 'veth') ?? [];
      if (down.length > 0 || containerDown.length > 0) {
        const consequences = countedRules(hostNs, at, ['drop', 'reject']).slice(0, 2).map((rule): CauseFact => ({ kind: 'rule', namespace: hostNs.ns.label, rule }));
        return {
          id: 'link-down', namespace: down.length > 0 ? hostNs.ns.label : container!.ns.label,
          facts: [...down.map((link): CauseFact => ({ kind: 'link', namespace: hostNs.ns.label, link })), ...containerDown.map((link): CauseFact => ({ kind: 'link', namespace: container!.ns.label, link })), ...consequences],
        };
      }
      saw(hostNs, 'links', 'link states');
      // 2. rules and policies that counted
      const rules = countedRules(hostNs, at, ['drop', 'reject']);
      if (rules.length > 0) return ruleCause(hostNs, rules);
      saw(hostNs, 'netfilter', single ? 'netfilter rules (one reading: their counters are totals, no rise is known)' : 'netfilter rules and policies (no DROP/REJECT counter rose on this path)');
      // 3. routes
      const routes = hostNs.routes;
      const failed = (r: (typeof routes)[number]): boolean => r.result !== 'unicast' && r.result !== 'local' && r.result !== 'broadcast';
      const relevant = b.way === 'reply'
        ? routes.filter((r) => r.to === j.client.address)
        : routes.filter((r) => (r.to === j.server.address && r.from === j.client.address) || (inner !== null && r.to === inner));
      const bad = relevant.find((r) => r.result === 'rp-filter') ?? relevant.find(failed);
      if (bad) {
        const facts: CauseFact[] = [{ kind: 'route', namespace: hostNs.ns.label, lookup: bad }];
        if (bad.result === 'rp-filter') {
          const back = routes.find((r) => r.to === j.client.address && r.from === null && r.iif === null);
          if (back) facts.push({ kind: 'route', namespace: hostNs.ns.label, lookup: back });
          return { id: 'reverse-path-filter', namespace: hostNs.ns.label, facts: [...facts, ...rpFacts(hostNs, at.inInterface)] };
        }
        return { id: 'no-route', namespace: hostNs.ns.label, facts };
      }
      // The route the reply gets leaves by another interface than the path's: it went elsewhere.
      if (b.way === 'reply' && b.at !== null) {
        const elsewhere = relevant.find((r) => (r.result === 'unicast' || r.result === 'local') && r.dev !== null && r.dev !== b.at!.interface && r.iif !== null)
          ?? relevant.find((r) => r.result === 'unicast' && r.dev !== null && r.dev !== b.at!.interface && r.from === null);
        if (elsewhere) return { id: 'routed-elsewhere', namespace: hostNs.ns.label, facts: [{ kind: 'route', namespace: hostNs.ns.label, lookup: elsewhere }] };
      }
      saw(hostNs, 'routes', 'route lookups');
      // 4. neighbours
      const neighbourFacts = neighbourTrouble(hostNs, container, b, inner, j.client.address, routes);
      if (neighbourFacts.length > 0) return { id: 'neighbour-failed', namespace: hostNs.ns.label, facts: neighbourFacts };
      saw(hostNs, 'neighbours', 'neighbour entries');
      // 5. rp_filter by the routes, when the EXDEV lookup itself was not made
      if (b.way === 'request' && at.inInterface !== null && rpFilter(hostNs, at.inInterface) === 1) {
        const back = routes.find((r) => r.to === j.client.address && r.from === null && r.iif === null && r.dev !== null);
        if ((back && back.dev !== at.inInterface) || counter(hostNs, 'TcpExt.IPReversePathFilter') > 0) {
          return { id: 'reverse-path-filter', namespace: hostNs.ns.label, facts: [...(back ? [{ kind: 'route', namespace: hostNs.ns.label, lookup: back } as CauseFact] : []), ...rpFacts(hostNs, at.inInterface)] };
        }
      }
      if (counter(hostNs, 'TcpExt.IPReversePathFilter') > 0) {
        return { id: 'reverse-path-filter', namespace: hostNs.ns.label, facts: rpFacts(hostNs, at.inInterface) };
      }
      saw(hostNs, 'sysctls', 'rp_filter');
      // 6. conntrack
      const ct = conntrackFacts(hostNs);
      if (ct.length > 0) return { id: 'conntrack-drop', namespace: hostNs.ns.label, facts: ct };
      saw(hostNs, 'conntrack', 'conntrack statistics');
      // 7. forwarding
      const forwarding = hostNs.sysctls['net.ipv4.ip_forward'];
      if (forwarding === '0' && at.inInterface !== at.outInterface) {
        return { id: 'forwarding-off', namespace: hostNs.ns.label, facts: [{ kind: 'sysctl', namespace: hostNs.ns.label, name: 'net.ipv4.ip_forward', value: '0' }] };
      }
      saw(hostNs, 'sysctls', 'ip_forward');
      // One reading: a rule of this very path that has dropped packets (not known to be these).
      if (single) {
        const totals = countedRules(hostNs, at, ['drop', 'reject'], true);
        if (totals.length > 0) return ruleCause(hostNs, totals);
      }
      // Rules that counted but on other interfaces than this path's: not the cause (they could
      // not have seen this packet as it went), but said — the path as read may be wrong.
      const elsewhere = countedRules(hostNs, { ...at, inInterface: null, outInterface: null }, ['drop', 'reject']).slice(0, 3)
        .map((rule): CauseFact => ({ kind: 'rule', namespace: hostNs.ns.label, rule }));
      return { id: 'unexplained', namespace: hostNs.ns.label, facts: [...retrans, { kind: 'checked', namespace: hostNs.ns.label, what: checked }, ...elsewhere] };
    }
    case 'no-answer': {
      // Delivered to the container's side, but maybe not to the container: a neighbour entry
      // that names another MAC sends the frames to nobody (the bridge floods them past the veth).
      const neighbours = neighbourTrouble(hostNs, container, b, inner, j.client.address, hostNs.routes);
      if (neighbours.length > 0) return { id: 'neighbour-failed', namespace: hostNs.ns.label, facts: neighbours };
      const ns = container ?? (uplink && end && uplink.interface === end.interface ? hostNs : null);
      if (ns) {
        const back = ns.routes.find((r) => r.to === j.client.address && (r.result !== 'unicast' && r.result !== 'local'));
        if (back) return { id: 'no-route', namespace: ns.ns.label, facts: [{ kind: 'route', namespace: ns.ns.label, lookup: back }] };
        const rules = countedRules(ns, { way: 'request', inInterface: null, outInterface: null, clientPort: j.client.port, serverPorts }, ['drop', 'reject']);
        if (rules.length > 0) return ruleCause(ns, rules);
        const outRules = countedRules(ns, { way: 'reply', inInterface: null, outInterface: null, clientPort: j.client.port, serverPorts }, ['drop', 'reject']);
        if (outRules.length > 0) return ruleCause(ns, outRules);
        const downLinks = ns.links.filter((l) => DOWN(l) && l.kind !== null);
        if (downLinks.length > 0) return { id: 'link-down', namespace: ns.ns.label, facts: downLinks.map((link): CauseFact => ({ kind: 'link', namespace: ns.ns.label, link })) };
        const overflow = counter(ns, 'TcpExt.ListenOverflows') + counter(ns, 'TcpExt.ListenDrops');
        if (overflow > 0) {
          return { id: 'accept-queue-full', namespace: ns.ns.label, facts: ['TcpExt.ListenOverflows', 'TcpExt.ListenDrops'].filter((n) => counter(ns, n) > 0).map((n): CauseFact => ({ kind: 'counter', namespace: ns.ns.label, name: n, delta: counter(ns, n) })) };
        }
        const ct = conntrackFacts(ns);
        if (ct.length > 0) return { id: 'conntrack-drop', namespace: ns.ns.label, facts: ct };
        if (single) {
          const totals = [...countedRules(ns, { way: 'request', inInterface: null, outInterface: null, clientPort: j.client.port, serverPorts }, ['drop', 'reject'], true),
            ...countedRules(ns, { way: 'reply', inInterface: null, outInterface: null, clientPort: j.client.port, serverPorts }, ['drop', 'reject'], true)];
          if (totals.length > 0) return ruleCause(ns, totals);
        }
        const looked = ([['routes', 'the route back'], ['netfilter', 'netfilter rules'], ['links', 'link states'], ['counters', 'listen queue counters'], ['conntrack', 'conntrack statistics']] as Array<[FactKind, string]>)
          .filter(([k]) => read(ns, k)).map(([, w]) => w);
        return { id: 'unexplained', namespace: ns.ns.label, facts: [...retrans, ...(read(ns, 'listeners') ? [listenersFact(ns, inner ?? j.server.address, serverPorts[serverPorts.length - 1]!)] : []), ...(looked.length > 0 ? [{ kind: 'checked' as const, namespace: ns.ns.label, what: looked }] : [])] };
      }
      return { id: 'unexplained', namespace: hostNs.ns.label, facts: retrans };
    }
    case 'refused':
    case 'answered-by-host': {
      // The host itself refused: an RST from a point before the end of the path, or the path
      // ends at the uplink (no DNAT takes the port anywhere) and no container is behind it.
      const hostAnswered = b.kind === 'answered-by-host' || (end !== null && end.role !== 'container' && container === null);
      const nsFirst = hostAnswered ? [hostNs] : [container ?? hostNs, hostNs];
      for (const totals of single ? [false, true] : [false]) {
        for (const ns of nsFirst) {
          const rules = countedRules(ns, { way: 'request', inInterface: null, outInterface: null, clientPort: j.client.port, serverPorts }, ['reject'], totals);
          if (rules.length > 0) return ruleCause(ns, rules);
        }
      }
      if (hostAnswered) {
        // Only what was read: no DNAT rules or listeners said missing from lists nobody read.
        const facts: CauseFact[] = [
          ...(read(hostNs, 'dnat') ? [{ kind: 'dnat' as const, port: j.server.port, toAddress: hostNs.dnat.find((r) => portsMatch(r.ports, [j.server.port]))?.toAddress ?? null, rules: hostNs.dnat.filter((r) => portsMatch(r.ports, [j.server.port])).map((r) => r.text) }] : []),
          ...(read(hostNs, 'listeners') ? [listenersFact(hostNs, j.server.address, j.server.port)] : []),
        ];
        // Containers on this host that do listen: the port was meant to reach one of them.
        for (const n of host.namespaces) {
          if (n.ns.role === 'container' && n.listeners.length > 0) facts.push({ kind: 'listeners', namespace: n.ns.label, address: address(n.links.find((l) => l.addresses.length > 0)?.addresses[0] ?? '?'), port: n.listeners[0]!.port, listeners: n.listeners.slice(0, 6) });
        }
        return { id: 'not-listening', namespace: hostNs.ns.label, facts };
      }
      // The namespace that refused: the container's (the host's listeners say nothing about a
      // container whose namespace was not read).
      const ns = container ?? (end?.role === 'container' ? null : hostNs);
      const port = j.serverInside?.port ?? j.server.port;
      return { id: 'not-listening', namespace: ns?.ns.label ?? null, facts: ns && read(ns, 'listeners') ? [listenersFact(ns, inner ?? j.server.address, port)] : [] };
    }
    case 'no-response':
    case 'reset': {
      const ns = container ?? hostNs;
      const overflow = counter(ns, 'TcpExt.ListenOverflows');
      const facts: CauseFact[] = overflow > 0 ? [{ kind: 'counter', namespace: ns.ns.label, name: 'TcpExt.ListenOverflows', delta: overflow }] : [];
      return { id: 'no-response', namespace: ns.ns.label, facts };
    }
  }
}

function rpFacts(ns: NamespaceFacts, iface: string | null): CauseFact[] {
  const out: CauseFact[] = [];
  for (const name of ['net.ipv4.conf.all.rp_filter', ...(iface ? [`net.ipv4.conf.${iface.replace(/\./g, '/')}.rp_filter`] : [])]) {
    const value = ns.sysctls[name];
    if (value !== undefined) out.push({ kind: 'sysctl', namespace: ns.ns.label, name, value });
  }
  const delta = counter(ns, 'TcpExt.IPReversePathFilter');
  if (delta > 0) out.push({ kind: 'counter', namespace: ns.ns.label, name: 'TcpExt.IPReversePathFilter', delta });
  return out;
}

function conntrackFacts(ns: NamespaceFacts): CauseFact[] {
  const c = ns.conntrack;
  if (!c) return [];
  return ['drop', 'early_drop', 'insert_failed']
    .filter((s) => (c.delta[s] ?? 0) > 0)
    .map((stat): CauseFact => ({ kind: 'conntrack', namespace: ns.ns.label, stat, delta: c.delta[stat]!, count: c.count, max: c.max }));
}

function listenersFact(ns: NamespaceFacts, addr: string, port: number): CauseFact {
  return { kind: 'listeners', namespace: ns.ns.label, address: addr, port, listeners: ns.listeners.slice(0, 12) };
}

/** A next hop whose neighbour entry failed, or resolves to another MAC than the container's interface has. */
function neighbourTrouble(hostNs: NamespaceFacts, container: NamespaceFacts | null, b: JourneyBreak, inner: string | null, client: string, routes: NamespaceFacts['routes']): CauseFact[] {
  const out: CauseFact[] = [];
  let target: string | null = null;
  if (b.way === 'request') target = inner;
  else {
    const back = routes.find((r) => r.to === client && r.from === null);
    target = back?.gateway ?? client;
  }
  if (target === null) return out;
  const containerMac = container?.links.find((l) => l.addresses.some((a) => address(a) === target))?.mac ?? null;
  for (const n of hostNs.neighbours) {
    if (n.address !== target) continue;
    const failed = n.state.some((s) => s === 'FAILED' || s === 'INCOMPLETE');
    const wrongMac = containerMac !== null && n.lladdr !== null && n.lladdr.toLowerCase() !== containerMac.toLowerCase();
    if (failed || wrongMac) out.push({ kind: 'neighbour', namespace: hostNs.ns.label, entry: n, expectedMac: containerMac });
  }
  return out;
}
