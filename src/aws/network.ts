/**
 * The VPC's three filters on a packet, as AWS documents them:
 *  - security groups (stateful, allow-only: a packet passes when some rule of some group on
 *    the interface allows it; the reply is allowed with it),
 *    https://docs.aws.amazon.com/vpc/latest/userguide/vpc-security-groups.html
 *  - network ACLs (stateless, per subnet: entries in rule-number order, the first that matches
 *    decides; none matching is the `*` rule's deny; each direction is checked on its own —
 *    the reply goes to the client's ephemeral port),
 *    https://docs.aws.amazon.com/vpc/latest/userguide/vpc-network-acls.html
 *  - route tables (per subnet, else the VPC's main table; the most specific route wins),
 *    https://docs.aws.amazon.com/vpc/latest/userguide/VPC_Route_Tables.html
 * Each returns a hop's reading (status, reason, the rule, the facts); IPv4 TCP only.
 */
import { matchCidr, parseCidr, type Match } from './cidr.js';
import { commandOf } from './files.js';
import type {
  AddressSpec, AwsSnapshot, ConfigFact, ConfigRule, HopReason, HopStatus, NetworkAcl, RouteTable, RuleSource,
} from './types.js';

export interface Reading {
  status: HopStatus;
  reason: HopReason;
  resource: string | null;
  rule: ConfigRule | null;
  facts: ConfigFact[];
  way?: 'request' | 'reply';
}

/** The ephemeral ports a load balancer (and most clients) connect from: the range NACLs must let back. */
export const EPHEMERAL_PORTS = { from: 1024, to: 65535 } as const;

const notRead = (part: keyof AwsSnapshot): Reading => ({ status: 'unknown', reason: 'not-read', resource: null, rule: null, facts: [{ kind: 'missing-output', command: commandOf(part) }] });

function isTcp(protocol: string | undefined): 'all' | 'tcp' | null {
  if (protocol === '-1' || protocol === 'all') return 'all';
  if (protocol === '6' || protocol === 'tcp') return 'tcp';
  return null;
}

/** The CIDRs of a prefix list, or null when its entries were not read. */
function prefixListCidrs(s: AwsSnapshot, id: string): string[] | null {
  const set = s.prefixLists?.find((p) => p.prefixListId === id);
  return set ? set.entries.map((e) => e.Cidr ?? '').filter((c) => c !== '') : null;
}

function anyMatch(cidrs: string[], who: AddressSpec): Match {
  let best: Match = 'no';
  for (const c of cidrs) {
    const m = matchCidr(c, who);
    if (m === 'yes') return 'yes';
    if (m === 'maybe') best = 'maybe';
  }
  return best;
}

// ── security groups ────────────────────────────────────────────────────────────────────

export interface GroupsQuery {
  groupIds: string[];
  egress: boolean;
  port: number;
  /** The other end: the client, the load balancer node, the target. */
  peer: AddressSpec;
  /** The other end's security groups (a rule may name a group instead of addresses). */
  peerGroups: string[];
}

/** Whether some rule of the groups allows TCP to/from the peer on the port. */
export function evaluateGroups(s: AwsSnapshot, q: GroupsQuery): Reading {
  const fact: ConfigFact = { kind: 'groups', groupIds: q.groupIds, egress: q.egress, protocol: 'tcp', port: q.port, peer: q.peer, peerGroups: q.peerGroups };
  if (!s.securityGroups) return notRead('securityGroups');
  let maybe: Reading | null = null;
  const missing: string[] = [];
  for (const id of q.groupIds) {
    const g = s.securityGroups.find((x) => x.GroupId === id);
    if (!g) { missing.push(id); continue; }
    for (const p of (q.egress ? g.IpPermissionsEgress : g.IpPermissions) ?? []) {
      const proto = isTcp(p.IpProtocol);
      if (proto === null) continue;
      if (proto === 'tcp' && p.FromPort !== undefined && p.ToPort !== undefined && (q.port < p.FromPort || q.port > p.ToPort)) continue;
      const rule = (source: RuleSource): ConfigRule => ({
        kind: 'sg-permission', groupId: id, egress: q.egress, protocol: proto === 'all' ? 'all' : 'tcp',
        fromPort: proto === 'all' ? null : p.FromPort ?? null, toPort: proto === 'all' ? null : p.ToPort ?? null, source,
      });
      for (const r of p.IpRanges ?? []) {
        const m = matchCidr(r.CidrIp, q.peer);
        if (m === 'yes') return { status: 'allowed', reason: 'sg-allows', resource: id, rule: rule({ kind: 'cidr', cidr: r.CidrIp! }), facts: [fact] };
        if (m === 'maybe') maybe ??= { status: 'unknown', reason: 'client-unknown', resource: id, rule: rule({ kind: 'cidr', cidr: r.CidrIp! }), facts: [fact, { kind: 'client', seen: null }] };
      }
      for (const pair of p.UserIdGroupPairs ?? []) {
        if (pair.GroupId && q.peerGroups.includes(pair.GroupId)) {
          return { status: 'allowed', reason: 'sg-allows', resource: id, rule: rule({ kind: 'group', groupId: pair.GroupId }), facts: [fact] };
        }
      }
      for (const pl of p.PrefixListIds ?? []) {
        if (!pl.PrefixListId) continue;
        const cidrs = prefixListCidrs(s, pl.PrefixListId);
        if (cidrs === null) {
          maybe ??= { status: 'unknown', reason: 'prefix-list-unread', resource: id, rule: rule({ kind: 'prefix-list', prefixListId: pl.PrefixListId, cidr: null }), facts: [fact, { kind: 'prefix-list', prefixListId: pl.PrefixListId }] };
          continue;
        }
        const hit = cidrs.find((c) => matchCidr(c, q.peer) === 'yes');
        if (hit) return { status: 'allowed', reason: 'sg-allows', resource: id, rule: rule({ kind: 'prefix-list', prefixListId: pl.PrefixListId, cidr: hit }), facts: [fact] };
        if (anyMatch(cidrs, q.peer) === 'maybe') maybe ??= { status: 'unknown', reason: 'client-unknown', resource: id, rule: rule({ kind: 'prefix-list', prefixListId: pl.PrefixListId, cidr: null }), facts: [fact, { kind: 'client', seen: null }] };
      }
    }
  }
  if (maybe) return maybe;
  if (missing.length > 0) {
    return { status: 'unknown', reason: 'not-found', resource: missing[0]!, rule: null, facts: [fact, ...missing.map((m): ConfigFact => ({ kind: 'missing-resource', resource: m, command: commandOf('securityGroups') }))] };
  }
  return { status: 'denied', reason: 'sg-no-rule', resource: q.groupIds.join(',') || null, rule: null, facts: [fact] };
}

// ── network ACLs ───────────────────────────────────────────────────────────────────────

/** The network ACL of a subnet: the one associated with it, else the VPC's default one. */
export function aclOfSubnet(s: AwsSnapshot, subnetId: string, vpcId: string | null): NetworkAcl | null {
  const acls = s.networkAcls ?? [];
  return acls.find((a) => (a.Associations ?? []).some((x) => x.SubnetId === subnetId))
    ?? acls.find((a) => a.IsDefault === true && (vpcId === null || a.VpcId === vpcId))
    ?? null;
}

/** AWS's `*` entry: the last rule of every ACL, the deny when nothing else matched. */
const DEFAULT_RULE_NUMBER = 32767;

export interface AclQuery {
  subnetId: string;
  vpcId: string | null;
  egress: boolean;
  /** The destination ports checked: one port (towards a listener or target) or the ephemeral range (replies). */
  fromPort: number;
  toPort: number;
  peer: AddressSpec;
}

/** First match in rule-number order over a port range; any port denied denies (some connections use it). */
export function evaluateAcl(s: AwsSnapshot, q: AclQuery): Reading {
  if (!s.networkAcls) return notRead('networkAcls');
  const acl = aclOfSubnet(s, q.subnetId, q.vpcId);
  const fact = (denied: { from: number; to: number } | null, aclId: string): ConfigFact => ({
    kind: 'nacl', aclId, subnetId: q.subnetId, egress: q.egress, protocol: 'tcp', fromPort: q.fromPort, toPort: q.toPort, peer: q.peer, deniedPorts: denied,
  });
  if (!acl) return { status: 'unknown', reason: 'not-found', resource: null, rule: null, facts: [{ kind: 'missing-resource', resource: `the network ACL of ${q.subnetId}`, command: commandOf('networkAcls') }] };
  const aclId = acl.NetworkAclId ?? '?';
  const entries = (acl.Entries ?? []).filter((e) => e.Egress === q.egress && e.CidrBlock !== undefined).sort((a, b) => (a.RuleNumber ?? 0) - (b.RuleNumber ?? 0));
  // Ports still undecided, as disjoint ranges; each entry decides the part of them it covers.
  let open: Array<{ from: number; to: number }> = [{ from: q.fromPort, to: q.toPort }];
  let firstAllow: ConfigRule | null = null;
  for (const e of entries) {
    const proto = isTcp(e.Protocol);
    if (proto === null) continue;
    const m = matchCidr(e.CidrBlock, q.peer);
    if (m === 'no') continue;
    const from = proto === 'all' || e.PortRange?.From === undefined ? 0 : e.PortRange.From;
    const to = proto === 'all' || e.PortRange?.To === undefined ? 65535 : e.PortRange.To;
    const covered = open.map((r) => ({ from: Math.max(r.from, from), to: Math.min(r.to, to) })).filter((r) => r.from <= r.to);
    if (covered.length === 0) continue;
    const action = e.RuleAction === 'deny' ? 'deny' : 'allow';
    const number = e.RuleNumber ?? 0;
    const rule: ConfigRule = number === DEFAULT_RULE_NUMBER && action === 'deny'
      ? { kind: 'nacl-default', aclId, egress: q.egress }
      : { kind: 'nacl-entry', aclId, ruleNumber: number, egress: q.egress, action, protocol: proto === 'all' ? 'all' : 'tcp', cidr: e.CidrBlock!, fromPort: proto === 'all' ? null : from, toPort: proto === 'all' ? null : to };
    if (m === 'maybe') {
      // Whether this entry applies depends on the client's address, which is not known.
      return { status: 'unknown', reason: 'client-unknown', resource: aclId, rule, facts: [fact(null, aclId), { kind: 'client', seen: null }] };
    }
    if (action === 'deny') {
      return { status: 'denied', reason: rule.kind === 'nacl-default' ? 'nacl-default-deny' : 'nacl-deny', resource: aclId, rule, facts: [fact(covered[0]!, aclId)] };
    }
    firstAllow ??= rule;
    open = open.flatMap((r) => {
      const left = r.from < from ? [{ from: r.from, to: Math.min(r.to, from - 1) }] : [];
      const right = r.to > to ? [{ from: Math.max(r.from, to + 1), to: r.to }] : [];
      return [...left, ...right];
    });
    if (open.length === 0) return { status: 'allowed', reason: 'nacl-allows', resource: aclId, rule: firstAllow, facts: [fact(null, aclId)] };
  }
  // No entry matched what is left: the `*` rule (present in AWS's output or not) denies it.
  return { status: 'denied', reason: 'nacl-default-deny', resource: aclId, rule: { kind: 'nacl-default', aclId, egress: q.egress }, facts: [fact(open[0]!, aclId)] };
}

// ── route tables ───────────────────────────────────────────────────────────────────────

/** The route table of a subnet: the one associated with it, else the VPC's main table. */
export function routeTableOfSubnet(s: AwsSnapshot, subnetId: string, vpcId: string | null): { table: RouteTable; main: boolean } | null {
  const tables = s.routeTables ?? [];
  const own = tables.find((t) => (t.Associations ?? []).some((a) => a.SubnetId === subnetId));
  if (own) return { table: own, main: false };
  const main = tables.find((t) => (t.Associations ?? []).some((a) => a.Main === true) && (vpcId === null || t.VpcId === vpcId));
  return main ? { table: main, main: true } : null;
}

function routeTarget(r: NonNullable<RouteTable['Routes']>[number]): string {
  return r.GatewayId ?? r.NatGatewayId ?? r.TransitGatewayId ?? r.VpcPeeringConnectionId ?? r.NetworkInterfaceId ?? r.InstanceId
    ?? r.EgressOnlyInternetGatewayId ?? r.CarrierGatewayId ?? r.LocalGatewayId ?? r.CoreNetworkArn ?? '?';
}

export interface RouteQuery {
  subnetId: string;
  vpcId: string | null;
  destination: AddressSpec;
  /**
   * The packets go to the internet (an internet-facing load balancer answering a client
   * outside the VPC): only an internet gateway carries them with the load balancer's address.
   */
  internet: boolean;
}

/** The most specific route for the destination in the subnet's table, and what it leads to. */
export function evaluateRoute(s: AwsSnapshot, q: RouteQuery): Reading {
  if (!s.routeTables) return notRead('routeTables');
  const found = routeTableOfSubnet(s, q.subnetId, q.vpcId);
  if (!found) return { status: 'unknown', reason: 'not-found', resource: null, rule: null, facts: [{ kind: 'missing-resource', resource: `the route table of ${q.subnetId}`, command: commandOf('routeTables') }] };
  const { table, main } = found;
  const id = table.RouteTableId ?? '?';
  const facts: ConfigFact[] = [{ kind: 'route-lookup', routeTableId: id, subnetId: q.subnetId, destination: q.destination, main }];
  let best: { route: NonNullable<RouteTable['Routes']>[number]; prefix: number; destination: string } | null = null;
  let longestMaybe = -1;
  let maybeReason: HopReason = 'client-unknown';
  for (const r of table.Routes ?? []) {
    const cidrs = r.DestinationCidrBlock ? [r.DestinationCidrBlock] : r.DestinationPrefixListId ? prefixListCidrs(s, r.DestinationPrefixListId) : [];
    if (cidrs === null) {
      // A prefix list whose entries were not read may hold the destination.
      longestMaybe = Math.max(longestMaybe, 33);
      maybeReason = 'prefix-list-unread';
      facts.push({ kind: 'prefix-list', prefixListId: r.DestinationPrefixListId! });
      continue;
    }
    for (const c of cidrs) {
      const m = matchCidr(c, q.destination);
      const prefix = parseCidr(c)?.prefix ?? -1;
      if (m === 'yes' && (!best || prefix > best.prefix)) best = { route: r, prefix, destination: r.DestinationPrefixListId ?? c };
      if (m === 'maybe') longestMaybe = Math.max(longestMaybe, prefix);
    }
  }
  if (longestMaybe > (best?.prefix ?? -1)) {
    return { status: 'unknown', reason: maybeReason, resource: id, rule: null, facts: maybeReason === 'client-unknown' ? [...facts, { kind: 'client', seen: null }] : facts };
  }
  if (!best) return { status: 'denied', reason: 'route-missing', resource: id, rule: null, facts };
  const target = routeTarget(best.route);
  const rule: ConfigRule = { kind: 'route', routeTableId: id, destination: best.destination, target, state: best.route.State ?? null };
  if (best.route.State === 'blackhole') return { status: 'denied', reason: 'route-blackhole', resource: id, rule, facts };
  if (target === 'local') return { status: 'allowed', reason: 'route-local', resource: id, rule, facts };
  if (q.internet) {
    return target.startsWith('igw-')
      ? { status: 'allowed', reason: 'route-gateway', resource: id, rule, facts }
      : { status: 'denied', reason: 'route-not-igw', resource: id, rule, facts };
  }
  // Inside the VPC a route more specific than `local` sends the packets through an appliance;
  // outside it (peering, transit gateway, VPN) the other side's configuration is not read.
  return { status: 'unknown', reason: 'route-appliance', resource: id, rule, facts };
}

/** The VPC's own block(s): the destinations of its `local` routes. */
export function vpcBlocks(s: AwsSnapshot, vpcId: string | null): string[] {
  const out = new Set<string>();
  for (const t of s.routeTables ?? []) {
    if (vpcId !== null && t.VpcId !== vpcId) continue;
    for (const r of t.Routes ?? []) if (r.GatewayId === 'local' && r.DestinationCidrBlock) out.add(r.DestinationCidrBlock);
  }
  return [...out];
}
