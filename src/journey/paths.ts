/**
 * The path a connection's packets should take through the host, in both directions, and the
 * role of each interface on it — from the host's links (bridges, bridge ports, veth peers,
 * addresses) and its DNAT rules when they were read, else from what the packets themselves
 * crossed. Never from interface names: a host whose uplink is `eth0` or `enX0` and whose
 * bridge is `br-1a2b…` reads the same as ens5 and docker0.
 *
 * The request path is the furthest any packet towards the application got — on this
 * connection, on another connection to the same server endpoint (a health check that went
 * through), or, with host facts, the DNAT target's bridge and container veth. The reply path
 * is the request path reversed: a host answers by the way it was asked (anything else is
 * asymmetric routing, itself a finding).
 */
import { BlockList, isIP } from 'node:net';
import type { ConnectionSummary, FlowAnalysis, Hop, HopDirection, HttpExchange } from '../flow/index.js';
import type { HostFacts, NamespaceFacts } from '../host/index.js';
import type { InterfaceRole, PathPoint, RoleSource } from './types.js';

export interface RoleMap {
  roleOf(iface: string): InterfaceRole;
  source: RoleSource;
}

const LOOPBACK_MAC = '00:00:00:00:00:00';

function hostNamespace(host: HostFacts | null): NamespaceFacts | null {
  return host?.namespaces.find((n) => n.ns.role === 'host') ?? null;
}

/** Roles from the host's links when host facts were read; from the packets' paths otherwise. */
export function interfaceRoles(analysis: FlowAnalysis, host: HostFacts | null): RoleMap {
  const ns = hostNamespace(host);
  if (ns && ns.links.length > 0) {
    const bridges = new Set(ns.links.filter((l) => l.kind === 'bridge').map((l) => l.name));
    const containerVeths = new Set((host?.namespaces ?? []).filter((n) => n.ns.role === 'container' && n.ns.veth).map((n) => n.ns.veth!));
    const roles = new Map<string, InterfaceRole>();
    for (const l of ns.links) {
      let role: InterfaceRole;
      if (bridges.has(l.name)) role = 'bridge';
      else if (containerVeths.has(l.name) || (l.kind === 'veth' && l.master !== null && bridges.has(l.master))) role = 'container';
      else if (l.mac === LOOPBACK_MAC || (l.kind === null && l.addresses.some((a) => a.startsWith('127.')))) role = 'loopback';
      else if (l.addresses.length > 0) role = 'uplink';
      else role = 'other';
      roles.set(l.name, role);
    }
    return { roleOf: (i) => roles.get(i) ?? 'other', source: 'links' };
  }
  // From the packets: where a connection's packets towards the server are first seen is
  // where they enter (uplink), the last point is the innermost (container side), between: bridges.
  const votes = new Map<string, Map<InterfaceRole, number>>();
  const vote = (iface: string, role: InterfaceRole): void => {
    let v = votes.get(iface);
    if (!v) votes.set(iface, (v = new Map()));
    v.set(role, (v.get(role) ?? 0) + 1);
  };
  const exchanges = exchangeIndex(analysis);
  for (const c of analysis.connections) {
    const path = longest(clientWayHops(c, exchanges));
    path.forEach((h, i) => vote(h.interface, i === 0 ? 'uplink' : i === path.length - 1 ? 'container' : 'bridge'));
  }
  const roles = new Map<string, InterfaceRole>();
  for (const [iface, v] of votes) roles.set(iface, [...v].sort((a, b) => b[1] - a[1])[0]![0]);
  return { roleOf: (i) => roles.get(i) ?? 'other', source: 'packets' };
}

/** Exchanges by id, made once per analysis (a lookup per exchange would be quadratic on a big capture). */
export type ExchangeIndex = ReadonlyMap<number, HttpExchange>;

export function exchangeIndex(analysis: FlowAnalysis): ExchangeIndex {
  return new Map(analysis.exchanges.map((e) => [e.id, e]));
}

/** Every list of points a packet from the client crossed on this connection. */
export function clientWayHops(c: ConnectionSummary, exchanges: ExchangeIndex): Hop[][] {
  const out: Hop[][] = [];
  for (const m of c.milestones) if (m.from === 'client') { out.push(m.hops); if (m.lastHops) out.push(m.lastHops); }
  for (const id of c.exchangeIds) {
    const ex = exchanges.get(id);
    if (ex?.request) out.push(ex.request.hops);
  }
  for (const p of c.packetLog) if (p.from === 'client') out.push(p.hops);
  return out;
}

function longest(paths: Hop[][]): Hop[] {
  let best: Hop[] = [];
  for (const p of paths) if (p.length > best.length) best = p;
  return best;
}

const endpointText = (e: { address: string; port: number }): string => `${e.address}:${e.port}`;

export interface ExpectedPaths {
  request: PathPoint[];
  reply: PathPoint[];
  from: 'this-connection' | 'other-connections' | 'host-facts';
}

function flip(direction: HopDirection): HopDirection {
  return direction === 'in' ? 'out' : direction === 'out' ? 'in' : direction;
}

/** The reply's path: the request's, reversed, each point crossed the other way. */
export function reversePath(path: readonly PathPoint[]): PathPoint[] {
  return [...path].reverse().map((p) => ({ ...p, direction: flip(p.direction) }));
}

function contains(cidr: string, address: string): boolean {
  const [net, bits] = cidr.split('/');
  const family = isIP(address);
  if (!net || bits === undefined || family === 0 || isIP(net) !== family) return false;
  const list = new BlockList();
  try { list.addSubnet(net, Number(bits), family === 6 ? 'ipv6' : 'ipv4'); } catch { return false; }
  return list.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

/**
 * The path the host facts say a packet to `server` takes after `entry`: DNAT of the port to
 * an inner address, the bridge whose subnet holds it, the container veth whose peer owns it.
 * Null when the facts say nothing about this server (no DNAT for it: the host answers itself).
 */
function pathFromFacts(server: { address: string; port: number }, entry: Hop, host: HostFacts, roles: RoleMap): PathPoint[] | null {
  const ns = hostNamespace(host);
  if (!ns) return null;
  const rule = ns.dnat.find((r) => dnatMatches(r, server.port, entry.interface));
  if (!rule) return null;
  const inner = rule.toAddress;
  const points: PathPoint[] = [{ interface: entry.interface, direction: entry.direction, role: roles.roleOf(entry.interface) }];
  const bridge = ns.links.find((l) => l.kind === 'bridge' && l.addresses.some((a) => contains(a, inner)));
  const container = host.namespaces.find((n) => n.ns.role === 'container' && n.links.some((l) => l.addresses.some((a) => a.split('/')[0] === inner)));
  if (bridge) points.push({ interface: bridge.name, direction: 'out', role: 'bridge' });
  if (container?.ns.veth) points.push({ interface: container.ns.veth, direction: 'out', role: 'container' });
  return points.length > 1 ? points : null;
}

function dnatMatches(r: NamespaceFacts['dnat'][number], port: number, inInterface: string): boolean {
  if (r.protocol !== null && r.protocol !== 'tcp') return false;
  if (r.inInterface !== null && (r.inInterface === inInterface) === r.inNegated) return false;
  if (r.ports === null) return true;
  const [from, to] = r.ports.split(/[:-]/).map(Number);
  return from !== undefined && port >= from && port <= (to ?? from);
}

/**
 * The expected paths of every connection, computed once per analysis: the furthest path
 * towards the application seen per server endpoint (and entry interface) is what the other
 * connections to it should cross too.
 */
export function expectedPaths(analysis: FlowAnalysis, host: HostFacts | null, roles: RoleMap, exchanges: ExchangeIndex = exchangeIndex(analysis)): (c: ConnectionSummary) => ExpectedPaths {
  const own = new Map<number, Hop[]>();
  const furthest = new Map<string, Hop[]>();
  for (const c of analysis.connections) {
    const path = longest(clientWayHops(c, exchanges));
    own.set(c.id, path);
    if (path.length === 0) continue;
    const key = `${endpointText(c.server)}|${path[0]!.interface}`;
    if (path.length > (furthest.get(key)?.length ?? 0)) furthest.set(key, path);
  }
  const toPoints = (hops: Hop[]): PathPoint[] => hops.map((h) => ({ interface: h.interface, direction: h.direction, role: roles.roleOf(h.interface) }));
  return (c) => {
    const mine = own.get(c.id) ?? longest(clientWayHops(c, exchanges));
    let best = mine;
    let from: ExpectedPaths['from'] = 'this-connection';
    if (mine.length > 0) {
      const peer = furthest.get(`${endpointText(c.server)}|${mine[0]!.interface}`);
      if (peer && peer.length > best.length) { best = peer; from = 'other-connections'; }
    }
    let request = toPoints(best);
    if (host && mine.length > 0) {
      const facts = pathFromFacts(c.server, mine[0]!, host, roles);
      if (facts && facts.length > request.length) { request = facts; from = 'host-facts'; }
    }
    return { request, reply: reversePath(request), from };
  };
}
