/**
 * The words for a configuration hop's reading. The evaluation decides with ids and facts
 * (./evaluate.ts); this module only says them, the way the AWS console names things.
 */
import type { AddressSpec, ConfigFact, ConfigHop, ConfigHopId, ConfigPath, ConfigRule, RuleSource, TargetState } from './types.js';

export const HOP_TITLES: Record<ConfigHopId, string> = {
  'lb-nacl-client': 'network ACL of the load balancer\'s subnet (client side)',
  'lb-sg-in': 'load balancer\'s security groups (inbound)',
  'lb-route-client': 'route table of the load balancer\'s subnet (back to the client)',
  listener: 'listener',
  rule: 'listener rule',
  'target-group': 'target group',
  'lb-sg-out': 'load balancer\'s security groups (outbound)',
  'lb-route-target': 'route table of the load balancer\'s subnet (to the target)',
  'lb-nacl-target': 'network ACL of the load balancer\'s subnet (target side)',
  'target-nacl': 'network ACL of the target\'s subnet',
  'target-sg': 'target\'s security groups (inbound)',
  'target-route': 'route table of the target\'s subnet (back to the load balancer)',
};

function peerText(p: AddressSpec): string {
  return p.kind === 'address' ? p.address : 'the client (any public address: the one the load balancer sees is not known)';
}

function ports(from: number | null, to: number | null): string {
  if (from === null || to === null || (from === 0 && to === 65535) || (from === -1)) return 'all ports';
  return from === to ? `${from}` : `${from}-${to}`;
}

function sourceText(s: RuleSource): string {
  if (s.kind === 'cidr') return s.cidr;
  if (s.kind === 'group') return s.groupId;
  return `${s.prefixListId}${s.cidr ? ` (${s.cidr})` : ''}`;
}

/** A rule as the console lists it. */
export function ruleText(r: ConfigRule): string {
  switch (r.kind) {
    case 'sg-permission':
      return `${r.groupId} ${r.egress ? 'outbound' : 'inbound'} ${r.protocol === 'all' ? 'all traffic' : `tcp ${ports(r.fromPort, r.toPort)}`} ${r.egress ? 'to' : 'from'} ${sourceText(r.source)}`;
    case 'nacl-entry':
      return `${r.aclId} ${r.egress ? 'outbound' : 'inbound'} rule ${r.ruleNumber}: ${r.action} ${r.protocol === 'all' ? 'all traffic' : `tcp ${ports(r.fromPort, r.toPort)}`} ${r.egress ? 'to' : 'from'} ${r.cidr}`;
    case 'nacl-default':
      return `${r.aclId} ${r.egress ? 'outbound' : 'inbound'} rule *: deny all`;
    case 'route':
      return `${r.routeTableId}: ${r.destination} → ${r.target}${r.state && r.state !== 'active' ? ` (${r.state})` : ''}`;
    case 'listener':
      return `listener ${r.protocol}:${r.port}`;
    case 'listener-rule':
      return `rule ${r.priority}: ${r.action}${r.statusCode ? ` ${r.statusCode}` : ''}${r.targetGroupArns.length ? ` to ${r.targetGroupArns.map(shortArn).join(', ')}` : ''}`;
  }
}

/** `…:targetgroup/seqas-web/73e2…` → `seqas-web`; `…:listener/app/seqas-alb/…/ID` → `listener/…/ID`. */
export function shortArn(arn: string): string {
  const tg = /:targetgroup\/([^/]+)\//.exec(arn);
  if (tg) return tg[1]!;
  const lb = /:loadbalancer\/(?:app|net|gwy)\/([^/]+)\//.exec(arn);
  if (lb) return lb[1]!;
  const parts = arn.split('/');
  return parts.length > 2 ? `${parts[0]!.split(':').pop()}/…/${parts[parts.length - 1]}` : arn;
}

function targetsText(ts: TargetState[]): string {
  return ts.map((t) => `${t.id}:${t.port} ${t.state ?? '?'}${t.reason ? ` (${t.reason})` : ''}`).join(', ');
}

function missingText(facts: ConfigFact[]): string {
  const m = facts.find((f) => f.kind === 'missing-output' || f.kind === 'missing-resource');
  if (!m) return '';
  if (m.kind === 'missing-output') return `${m.command.split(' ')[0]}.json was not read${m.command.includes(' ') ? ` (for ${m.command.split(' ').pop()})` : ''}`;
  if (m.kind === 'missing-resource') return `${m.resource} is not in ${m.command}.json`;
  return '';
}

/** One hop's reading, in one clause. */
export function hopText(h: ConfigHop): string {
  const f = h.facts;
  const groups = f.find((x): x is Extract<ConfigFact, { kind: 'groups' }> => x.kind === 'groups');
  const acl = f.find((x): x is Extract<ConfigFact, { kind: 'nacl' }> => x.kind === 'nacl');
  const route = f.find((x): x is Extract<ConfigFact, { kind: 'route-lookup' }> => x.kind === 'route-lookup');
  const listeners = f.find((x): x is Extract<ConfigFact, { kind: 'listeners' }> => x.kind === 'listeners');
  const targets = f.find((x): x is Extract<ConfigFact, { kind: 'targets' }> => x.kind === 'targets');
  const rule = h.rule ? ruleText(h.rule) : '';
  switch (h.reason) {
    case 'sg-allows':
      return h.rule ? `security group ${rule} allows it` : 'the load balancer has no security group (nothing filtered)';
    case 'sg-no-rule':
      return groups
        ? `security group${groups.groupIds.length > 1 ? 's' : ''} ${groups.groupIds.join(', ')} ${groups.groupIds.length > 1 ? 'have' : 'has'} no ${groups.egress ? 'outbound' : 'inbound'} rule for tcp/${groups.port} ${groups.egress ? 'to' : 'from'} ${peerText(groups.peer)}${groups.peerGroups.length ? ` or its group${groups.peerGroups.length > 1 ? 's' : ''} ${groups.peerGroups.join(', ')}` : ''}`
        : 'no security group rule allows it';
    case 'nacl-allows':
      return `network ACL ${h.resource}${acl ? ` (${acl.subnetId})` : ''} allows it${h.rule ? ` (${rule})` : ''}`;
    case 'same-subnet':
      return `same subnet (${h.resource}): no network ACL crossed`;
    case 'nacl-deny':
    case 'nacl-default-deny': {
      const what = acl ? `${acl.egress ? 'outbound' : 'inbound'} tcp ${ports(acl.deniedPorts?.from ?? acl.fromPort, acl.deniedPorts?.to ?? acl.toPort)} ${acl.egress ? 'to' : 'from'} ${peerText(acl.peer)}` : 'it';
      const why = h.reason === 'nacl-deny' ? `rule ${h.rule?.kind === 'nacl-entry' ? h.rule.ruleNumber : '?'} denies ${what}` : `no rule allows ${what}: the * rule denies it`;
      return `network ACL ${h.resource}${acl ? ` (${acl.subnetId})` : ''}: ${why}${h.way === 'reply' ? ' (the replies: ACLs are stateless)' : ''}`;
    }
    case 'route-local':
    case 'route-gateway':
      return `route table ${rule}`;
    case 'route-missing':
      return `route table ${h.resource}${route ? ` (${route.subnetId}${route.main ? ', the VPC\'s main table' : ''})` : ''} has no route to ${route ? peerText(route.destination) : 'the destination'}`;
    case 'route-blackhole':
      return `route table ${rule}: the route is a blackhole (its target is gone)`;
    case 'route-not-igw':
      return `route table ${rule}: not an internet gateway, so an internet-facing load balancer's replies to ${route ? peerText(route.destination) : 'the client'} do not go back the way they came`;
    case 'listener-found':
      return rule;
    case 'no-listener':
      return listeners
        ? `${listeners.loadBalancer} has no listener on port ${listeners.wanted.port}${listeners.ports.length ? ` (it listens on ${listeners.ports.map((p) => `${p.protocol}:${p.port}`).join(', ')})` : ' (it has no listener)'}`
        : 'no listener on the port';
    case 'listener-protocol':
      return `the ${rule} does not speak ${listeners?.wanted.protocol ?? 'the request\'s protocol'}`;
    case 'rule-forward':
    case 'rule-redirect':
    case 'rule-fixed-ok':
      return rule;
    case 'rule-fixed-response':
      return `${rule}: the load balancer answers it itself`;
    case 'targets-routable':
      return `${targets?.targetGroupName ?? shortArn(h.resource ?? '')}: ${targets ? targetsText(targets.targets) : 'targets take requests'}`;
    case 'no-targets':
      return `target group ${targets?.targetGroupName ?? shortArn(h.resource ?? '')} has no registered target`;
    case 'targets-not-routable':
      return `target group ${targets?.targetGroupName ?? shortArn(h.resource ?? '')}: no target takes requests (${targets ? targetsText(targets.targets) : ''})`;
    case 'not-read':
    case 'not-found':
      return `not determinable: ${missingText(f) || 'an output was not read'}`;
    case 'prefix-list-unread': {
      const pl = f.find((x) => x.kind === 'prefix-list');
      return `not determinable: the entries of prefix list ${pl && pl.kind === 'prefix-list' ? pl.prefixListId : '?'} were not read (get-managed-prefix-list-entries)`;
    }
    case 'client-unknown':
      return `not determinable: it depends on the client's address as the load balancer sees it${rule ? ` (${rule})` : ''}`;
    case 'condition-unknown': {
      const c = f.find((x) => x.kind === 'condition');
      return `not determinable: rule ${c && c.kind === 'condition' ? c.priority : '?'}'s ${c && c.kind === 'condition' ? c.field : ''} condition depends on more than the URL`;
    }
    case 'route-appliance':
      return `not determinable: ${rule} sends it through an appliance or another network whose configuration is not read`;
    case 'ipv6':
      return 'not determinable: IPv6 is not evaluated';
    case 'rule-authenticate':
      return `not determinable: ${rule} authenticates first (the request is sent to the identity provider)`;
    case 'load-balancer-unknown':
      return 'not determinable: no load balancer in the outputs has this name or address (give --aws-lb NAME)';
    case 'target-unknown':
      return `not determinable: target ${h.resource ?? '?'}: ${missingText(f) || 'its interface is not in the outputs'}`;
  }
}

/** The path in one line: the decisive hop, or what allows it. */
export function pathText(p: ConfigPath): string {
  if (p.decisive) return `${HOP_TITLES[p.decisive.hop]}: ${hopText(p.decisive)}`;
  const lb = p.node?.loadBalancerName ?? 'the load balancer';
  const t = p.targets.map((x) => `${x.targetId}${x.address ? ` (${x.address}:${x.port})` : ''}`).join(', ');
  return `${lb} → ${t || 'its answer'}: every hop allows it (${p.hops.length + (p.targets[0]?.hops.length ?? 0)} checks)`;
}

/** A node as people name it: `seqas-alb in eu-west-1b (172.31.16.10)`. */
export function nodeLabel(p: ConfigPath): string {
  const n = p.node;
  if (!n) return p.address ?? 'the load balancer';
  return `${n.loadBalancerName ?? shortArn(n.loadBalancerArn)}${n.zone ? ` in ${n.zone}` : ''}${n.privateAddress ? ` (${n.privateAddress})` : ''}`;
}
