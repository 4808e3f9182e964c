/**
 * The static evaluation of a request's path through the AWS configuration, hop by hop, the
 * way Reachability Analyzer reads it (it sends no packet): for one load-balancer node,
 *
 *  1. the client → the node: the node subnet's network ACL (in: the listener port; out: the
 *     ephemeral ports back), the load balancer's security groups (in), the subnet's route
 *     back to the client (an internet gateway for an internet-facing load balancer);
 *  2. the listener on the request's port and protocol, the rule that routes it, the target
 *     group and its targets' state;
 *  3. for each target the request may go to: the load balancer's groups (out), both subnets'
 *     route tables (each to the other's address), both network ACLs when the subnets differ
 *     (the target port one way, the ephemeral ports back), the target's groups (in).
 *
 * Each hop is allowed, denied by a named rule (or by the absence of one: a security group with
 * no matching rule, an ACL's `*` rule), or not determinable (an output not read, a client
 * address not known, a condition not decidable). The path's status: the first denied hop in
 * the request's order decides; else the first not determinable; else allowed.
 */
import { isPrivateIpv4, matchCidr } from './cidr.js';
import {
  chooseLoadBalancer, evaluateListener, evaluateRules, evaluateTargetGroup, loadBalancerNodes, nodeOfAddress, targetInterface,
} from './elb.js';
import { EPHEMERAL_PORTS, evaluateAcl, evaluateGroups, evaluateRoute, vpcBlocks, type Reading } from './network.js';
import type {
  AddressSpec, AwsSnapshot, ConfigHop, ConfigHopId, ConfigNode, ConfigPath, ConfigTargetPath, HopStatus, LoadBalancer, PathQuery,
} from './types.js';

function hop(id: ConfigHopId, r: Reading, way: 'request' | 'reply' = 'request'): ConfigHop {
  return { hop: id, status: r.status, reason: r.reason, resource: r.resource, rule: r.rule, way: r.way ?? way, facts: r.facts };
}

const unknownHop = (id: ConfigHopId, reason: ConfigHop['reason'], facts: ConfigHop['facts'] = [], resource: string | null = null): ConfigHop =>
  ({ hop: id, status: 'unknown', reason, resource, rule: null, way: 'request', facts });

/** Both directions of a stateless ACL: the request's port one way, the ephemeral ports back. The first that denies decides. */
function aclBothWays(s: AwsSnapshot, subnetId: string, vpcId: string | null, peer: AddressSpec, port: number, outbound: boolean): Reading {
  // `outbound`: the request leaves this subnet (the load balancer's side); else it enters it.
  const there = evaluateAcl(s, { subnetId, vpcId, egress: outbound, fromPort: port, toPort: port, peer });
  const back = evaluateAcl(s, { subnetId, vpcId, egress: !outbound, fromPort: EPHEMERAL_PORTS.from, toPort: EPHEMERAL_PORTS.to, peer });
  // The reply's ports: towards the peer's ephemeral port (leaving) or into this side's (entering).
  for (const [r, way] of [[there, 'request'], [back, 'reply']] as const) if (r.status === 'denied') return { ...r, way };
  for (const [r, way] of [[there, 'request'], [back, 'reply']] as const) if (r.status === 'unknown') return { ...r, way };
  return { ...there, facts: [...there.facts, ...back.facts], way: 'request' };
}

function worst(statuses: HopStatus[]): HopStatus {
  return statuses.includes('denied') ? 'denied' : statuses.includes('unknown') ? 'unknown' : 'allowed';
}

function decisiveOf(hops: ConfigHop[]): ConfigHop | null {
  return hops.find((h) => h.status === 'denied') ?? hops.find((h) => h.status === 'unknown') ?? null;
}

/** The address the load balancer sees the client with: the one it knows, unless that one is private and the load balancer is on the internet (NAT). */
function clientSpec(q: PathQuery, lb: LoadBalancer, inVpc: (a: string) => boolean): AddressSpec | null {
  if (q.clientSeenByLoadBalancer && !q.clientSeenByLoadBalancer.includes(':')) return { kind: 'address', address: q.clientSeenByLoadBalancer };
  const a = q.clientAddress;
  if (a && !a.includes(':')) {
    if (lb.Scheme !== 'internet-facing' || !isPrivateIpv4(a) || inVpc(a)) return { kind: 'address', address: a };
    return { kind: 'any-public' };
  }
  return lb.Scheme === 'internet-facing' ? { kind: 'any-public' } : null;
}

function targetPath(s: AwsSnapshot, lb: LoadBalancer, node: ConfigNode, target: { id: string; port: number }): ConfigTargetPath {
  const t = targetInterface(s, target.id);
  const base = { targetId: target.id, address: t.address, port: target.port, networkInterfaceId: t.eni?.NetworkInterfaceId ?? null, subnetId: t.eni?.SubnetId ?? null };
  if (!t.eni || !t.address) {
    const hops = [unknownHop('target-sg', 'target-unknown', t.missing ? [t.missing] : [], target.id)];
    return { ...base, hops, status: 'unknown' };
  }
  const lbGroups = lb.SecurityGroups ?? [];
  const targetGroups = (t.eni.Groups ?? []).map((g) => g.GroupId ?? '').filter(Boolean);
  const vpcId = lb.VpcId ?? t.eni.VpcId ?? null;
  const nodeAddr = node.privateAddress;
  const hops: ConfigHop[] = [];
  // A load balancer without security groups (a network load balancer may have none) filters nothing itself.
  hops.push(lbGroups.length > 0
    ? hop('lb-sg-out', evaluateGroups(s, { groupIds: lbGroups, egress: true, port: target.port, peer: { kind: 'address', address: t.address }, peerGroups: targetGroups }))
    : { hop: 'lb-sg-out', status: 'allowed', reason: 'sg-allows', resource: null, rule: null, way: 'request', facts: [] });
  if (node.subnetId) hops.push(hop('lb-route-target', evaluateRoute(s, { subnetId: node.subnetId, vpcId, destination: { kind: 'address', address: t.address }, internet: false })));
  else hops.push(unknownHop('lb-route-target', 'not-found', [], node.loadBalancerArn));
  const sameSubnet = node.subnetId !== null && node.subnetId === t.eni.SubnetId;
  if (sameSubnet) {
    // Traffic inside one subnet does not cross its network ACL.
    for (const id of ['lb-nacl-target', 'target-nacl'] as const) hops.push({ hop: id, status: 'allowed', reason: 'same-subnet', resource: node.subnetId, rule: null, way: 'request', facts: [] });
  } else {
    hops.push(node.subnetId
      ? hop('lb-nacl-target', aclBothWays(s, node.subnetId, vpcId, { kind: 'address', address: t.address }, target.port, true))
      : unknownHop('lb-nacl-target', 'not-found'));
    hops.push(nodeAddr && t.eni.SubnetId
      ? hop('target-nacl', aclBothWays(s, t.eni.SubnetId, vpcId, { kind: 'address', address: nodeAddr }, target.port, false))
      : unknownHop('target-nacl', 'not-found'));
  }
  hops.push(nodeAddr
    ? hop('target-sg', evaluateGroups(s, { groupIds: targetGroups, egress: false, port: target.port, peer: { kind: 'address', address: nodeAddr }, peerGroups: lbGroups }))
    : unknownHop('target-sg', 'not-found'));
  hops.push(nodeAddr && t.eni.SubnetId
    ? hop('target-route', evaluateRoute(s, { subnetId: t.eni.SubnetId, vpcId, destination: { kind: 'address', address: nodeAddr }, internet: false }), 'reply')
    : unknownHop('target-route', 'not-found'));
  return { ...base, hops, status: worst(hops.map((h) => h.status)) };
}

function nodePath(s: AwsSnapshot, lb: LoadBalancer, node: ConfigNode, q: PathQuery, address: string | null): ConfigPath {
  const vpcId = lb.VpcId ?? null;
  const blocks = vpcBlocks(s, vpcId);
  const inVpc = (a: string): boolean => blocks.some((b) => matchCidr(b, { kind: 'address', address: a }) === 'yes');
  const client = clientSpec(q, lb, inVpc);
  const hops: ConfigHop[] = [];

  // 1. the client → the node
  const clientFacts = [{ kind: 'client' as const, seen: q.clientSeenByLoadBalancer ?? q.clientAddress }];
  if (!client) {
    for (const id of ['lb-nacl-client', 'lb-sg-in', 'lb-route-client'] as const) hops.push(unknownHop(id, 'client-unknown', clientFacts));
  } else {
    hops.push(node.subnetId ? hop('lb-nacl-client', aclBothWays(s, node.subnetId, vpcId, client, q.port, false)) : unknownHop('lb-nacl-client', 'not-found'));
    hops.push((lb.SecurityGroups ?? []).length > 0
      ? hop('lb-sg-in', evaluateGroups(s, { groupIds: lb.SecurityGroups!, egress: false, port: q.port, peer: client, peerGroups: [] }))
      : { hop: 'lb-sg-in', status: 'allowed', reason: 'sg-allows', resource: null, rule: null, way: 'request', facts: [] });
    const internet = lb.Scheme === 'internet-facing' && (client.kind === 'any-public' || !inVpc(client.address));
    hops.push(node.subnetId
      ? hop('lb-route-client', evaluateRoute(s, { subnetId: node.subnetId, vpcId, destination: client, internet }), 'reply')
      : unknownHop('lb-route-client', 'not-found'));
  }

  // 2. listener, rule, target group
  const listener = evaluateListener(s, lb, q);
  hops.push(hop('listener', listener));
  let targets: ConfigTargetPath[] = [];
  if (listener.listener && listener.status !== 'denied') {
    const rule = evaluateRules(s, listener.listener, q, client);
    hops.push(hop('rule', rule));
    const groups = rule.targetGroupArns.map((arn) => evaluateTargetGroup(s, arn));
    if (groups.length > 0) {
      // Several weighted groups: the request may go to any; the first that allows stands for them.
      const g = groups.find((x) => x.status === 'allowed') ?? groups[0]!;
      hops.push(hop('target-group', g));
      // 3. each target the request may go to: the capture's instance when it is one of them.
      const routable = g.targets.filter((t) => t.routable);
      const paths = routable.map((t) => targetPath(s, lb, node, t));
      const preferred = paths.filter((p) => p.address !== null && q.targetAddresses.includes(p.address));
      targets = preferred.length > 0 ? preferred : paths;
    }
  }
  // The first denied hop in the request's order decides; the targets' hops come after the group.
  const targetHops = targets.length > 0 ? (targets.find((t) => t.status === 'denied') ?? targets.find((t) => t.status === 'unknown') ?? targets[0]!).hops : [];
  const all = [...hops, ...targetHops];
  return { address, loadBalancerArn: lb.LoadBalancerArn ?? null, node, hops, targets, status: worst(all.map((h) => h.status)), decisive: decisiveOf(all) };
}

/**
 * The configuration's reading of the path of a request sent to `q.address` (one path), or of
 * every node of the load balancer when no address is given (one path per node).
 */
export function evaluatePaths(s: AwsSnapshot, q: PathQuery): ConfigPath[] {
  const choice = chooseLoadBalancer(s, q);
  if (!choice.lb) {
    const h = unknownHop('listener', choice.facts.length > 0 && choice.facts[0]!.kind === 'missing-output' ? 'not-read' : 'load-balancer-unknown', choice.facts);
    return [{ address: q.address, loadBalancerArn: null, node: null, hops: [h], targets: [], status: 'unknown', decisive: h }];
  }
  const nodes = loadBalancerNodes(s, choice.lb);
  if (q.address !== null) {
    // The request's node; a name that resolved to addresses the outputs do not show is still this load balancer (one node stands for it).
    const node = nodeOfAddress(nodes, q.address) ?? (nodes.length === 1 ? nodes[0]! : null);
    if (!node) {
      const h = unknownHop('lb-nacl-client', 'not-found', [{ kind: 'missing-resource', resource: `the node of ${choice.lb.LoadBalancerName ?? '?'} with address ${q.address}`, command: 'describe-network-interfaces' }]);
      return [{ address: q.address, loadBalancerArn: choice.lb.LoadBalancerArn ?? null, node: null, hops: [h], targets: [], status: 'unknown', decisive: h }];
    }
    return [nodePath(s, choice.lb, node, q, q.address)];
  }
  return nodes.map((n) => nodePath(s, choice.lb!, n, q, null));
}
