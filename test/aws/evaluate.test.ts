/**
 * The static evaluator on hand-written configurations (./fixture.ts): each rule kind —
 * security-group references to other groups, CIDR and prefix-list sources, network ACL rule
 * order, the default deny and the stateless way back, the most specific route — and each
 * load-balancer hop, with cases that must come out allowed, denied (by which rule) and not
 * determinable (and why).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluatePaths, hopText, pathText, scopeSnapshot, type AwsSnapshot, type ConfigHop, type ConfigHopId, type ConfigPath, type PathQuery } from '../../src/aws/index.js';
import { API, baseSnapshot, L80, LB_ARN, NODE_A, NODE_B, TG_WEB, WEB } from './fixture.js';

function query(over: Partial<PathQuery> = {}): PathQuery {
  return {
    names: ['www.example.com'], address: NODE_A.public, port: 80, scheme: 'http', host: 'www.example.com', path: '/', method: 'GET',
    clientAddress: '198.51.100.7', clientSeenByLoadBalancer: null, loadBalancer: null, targetAddresses: [], ...over,
  };
}

function one(s: AwsSnapshot, over: Partial<PathQuery> = {}): ConfigPath {
  const paths = evaluatePaths(s, query(over));
  assert.equal(paths.length, 1);
  return paths[0]!;
}

function hopOf(p: ConfigPath, id: ConfigHopId): ConfigHop {
  const h = p.hops.find((x) => x.hop === id) ?? p.targets[0]?.hops.find((x) => x.hop === id);
  assert.ok(h, `no hop ${id} in ${JSON.stringify(p.hops.map((x) => x.hop))}`);
  return h;
}

test('the healthy configuration: every hop allows the request, each named by the rule that does', () => {
  const p = one(baseSnapshot());
  assert.equal(p.status, 'allowed', pathText(p));
  assert.equal(p.decisive, null);
  assert.equal(p.node?.networkInterfaceId, 'eni-alb-a');
  assert.equal(p.node?.zone, 'eu-west-1a');
  assert.deepEqual(p.targets.map((t) => [t.targetId, t.address, t.port, t.networkInterfaceId]), [['i-web', WEB, 8080, 'eni-web']]);
  const sg = hopOf(p, 'target-sg');
  assert.deepEqual(sg.rule, { kind: 'sg-permission', groupId: 'sg-web', egress: false, protocol: 'tcp', fromPort: 8080, toPort: 8080, source: { kind: 'group', groupId: 'sg-alb' } });
  assert.equal(hopOf(p, 'listener').rule?.kind, 'listener');
  assert.deepEqual(hopOf(p, 'rule').rule, { kind: 'listener-rule', ruleArn: `${L80.replace(':listener/', ':listener-rule/')}/rdefault00000080`, priority: 'default', action: 'forward', statusCode: null, targetGroupArns: [TG_WEB] });
  assert.equal(hopOf(p, 'lb-route-client').reason, 'route-gateway');
  assert.match(hopText(hopOf(p, 'lb-route-client')), /rtb-public: 0\.0\.0\.0\/0 → igw-1/);
  assert.equal(hopOf(p, 'target-route').reason, 'route-local');
  assert.deepEqual(hopOf(p, 'target-nacl').rule, { kind: 'nacl-entry', aclId: 'acl-app', ruleNumber: 100, egress: false, action: 'allow', protocol: 'tcp', cidr: '10.0.0.0/16', fromPort: 8080, toPort: 8080 });
  assert.match(pathText(p), /every hop allows it/);
});

test('security group referencing another group: the target\'s group without the load balancer\'s group is denied, naming the group', () => {
  const s = baseSnapshot();
  s.securityGroups!.find((g) => g.GroupId === 'sg-web')!.IpPermissions = [{ IpProtocol: 'tcp', FromPort: 8080, ToPort: 8080, UserIdGroupPairs: [{ GroupId: 'sg-other' }] }];
  const p = one(s);
  assert.equal(p.status, 'denied');
  assert.equal(p.decisive?.hop, 'target-sg');
  assert.equal(p.decisive?.reason, 'sg-no-rule');
  assert.equal(p.decisive?.resource, 'sg-web');
  assert.match(hopText(p.decisive!), /security group sg-web has no inbound rule for tcp\/8080 from 10\.0\.0\.10 or its group sg-alb/);
  // The right port from the right group, but another protocol or port: still no rule.
  s.securityGroups!.find((g) => g.GroupId === 'sg-web')!.IpPermissions = [{ IpProtocol: 'udp', FromPort: 8080, ToPort: 8080, UserIdGroupPairs: [{ GroupId: 'sg-alb' }] }, { IpProtocol: 'tcp', FromPort: 80, ToPort: 80, UserIdGroupPairs: [{ GroupId: 'sg-alb' }] }];
  assert.equal(one(s).decisive?.reason, 'sg-no-rule');
  // all traffic (-1) from the group allows every port
  s.securityGroups!.find((g) => g.GroupId === 'sg-web')!.IpPermissions = [{ IpProtocol: '-1', UserIdGroupPairs: [{ GroupId: 'sg-alb' }] }];
  assert.equal(one(s).status, 'allowed');
});

test('security group with a CIDR source: the node inside the block passes, the node outside it is denied', () => {
  const s = baseSnapshot();
  const api = { path: '/api/v1/items' };
  assert.equal(one(s, api).status, 'allowed', 'sg-api allows 10.0.0.0/23: both nodes');
  assert.equal(one(s, { ...api, address: NODE_B.public }).status, 'allowed');
  s.securityGroups!.find((g) => g.GroupId === 'sg-api')!.IpPermissions = [{ IpProtocol: 'tcp', FromPort: 9000, ToPort: 9000, IpRanges: [{ CidrIp: '10.0.0.0/24' }] }];
  const a = one(s, api);
  const b = one(s, { ...api, address: NODE_B.public });
  assert.equal(a.status, 'allowed');
  assert.deepEqual(hopOf(a, 'target-sg').rule?.kind === 'sg-permission' ? hopOf(a, 'target-sg').rule : null, { kind: 'sg-permission', groupId: 'sg-api', egress: false, protocol: 'tcp', fromPort: 9000, toPort: 9000, source: { kind: 'cidr', cidr: '10.0.0.0/24' } });
  assert.equal(b.status, 'denied');
  assert.equal(b.decisive?.hop, 'target-sg');
  assert.deepEqual(b.targets.map((t) => [t.targetId, t.networkInterfaceId]), [[API, 'eni-api']], 'an ip target: its interface by address');
});

test('security group with a prefix-list source: allowed by an entry, denied without one, not determinable when the entries were not read', () => {
  const s = baseSnapshot();
  s.securityGroups!.find((g) => g.GroupId === 'sg-web')!.IpPermissions = [{ IpProtocol: 'tcp', FromPort: 8080, ToPort: 8080, PrefixListIds: [{ PrefixListId: 'pl-0abc' }] }];
  const unread = one(s);
  assert.equal(unread.status, 'unknown');
  assert.equal(unread.decisive?.hop, 'target-sg');
  assert.equal(unread.decisive?.reason, 'prefix-list-unread');
  assert.match(hopText(unread.decisive!), /prefix list pl-0abc were not read/);
  s.prefixLists = [{ prefixListId: 'pl-0abc', entries: [{ Cidr: '192.0.2.0/24' }, { Cidr: '10.0.0.0/20', Description: 'public subnets' }] }];
  const ok = one(s);
  assert.equal(ok.status, 'allowed');
  const okRule = hopOf(ok, 'target-sg').rule;
  assert.deepEqual(okRule?.kind === 'sg-permission' ? okRule.source : null, { kind: 'prefix-list', prefixListId: 'pl-0abc', cidr: '10.0.0.0/20' });
  s.prefixLists = [{ prefixListId: 'pl-0abc', entries: [{ Cidr: '192.0.2.0/24' }] }];
  assert.equal(one(s).decisive?.reason, 'sg-no-rule');
});

test('network ACL: the lowest rule number that matches decides, whatever comes after it', () => {
  const s = baseSnapshot();
  const acl = s.networkAcls!.find((a) => a.NetworkAclId === 'acl-app')!;
  acl.Entries!.push({ RuleNumber: 90, Protocol: '6', RuleAction: 'deny', Egress: false, CidrBlock: '10.0.0.0/24', PortRange: { From: 8080, To: 8080 } });
  const a = one(s);
  assert.equal(a.status, 'denied');
  assert.equal(a.decisive?.hop, 'target-nacl');
  assert.equal(a.decisive?.way, 'request');
  assert.deepEqual(a.decisive?.rule, { kind: 'nacl-entry', aclId: 'acl-app', ruleNumber: 90, egress: false, action: 'deny', protocol: 'tcp', cidr: '10.0.0.0/24', fromPort: 8080, toPort: 8080 });
  assert.match(hopText(a.decisive!), /network ACL acl-app \(subnet-app\): rule 90 denies inbound tcp 8080 from 10\.0\.0\.10/);
  assert.equal(one(s, { address: NODE_B.public }).status, 'allowed', 'node b is outside rule 90\'s block');
  // The same deny numbered after the allow: the allow (100) decides first.
  acl.Entries!.find((e) => e.RuleNumber === 90)!.RuleNumber = 105;
  const later = one(s);
  assert.equal(later.status, 'allowed');
  const laterRule = hopOf(later, 'target-nacl').rule;
  assert.equal(laterRule?.kind === 'nacl-entry' ? laterRule.ruleNumber : null, 100);
});

test('network ACL: stateless — the replies to the ephemeral ports need their own outbound rule; none is the * rule\'s deny, part of the range is enough to deny', () => {
  const s = baseSnapshot();
  const acl = s.networkAcls!.find((a) => a.NetworkAclId === 'acl-app')!;
  acl.Entries = acl.Entries!.filter((e) => !(e.Egress && e.RuleNumber === 100));
  const p = one(s);
  assert.equal(p.status, 'denied');
  assert.equal(p.decisive?.hop, 'target-nacl');
  assert.equal(p.decisive?.way, 'reply');
  assert.equal(p.decisive?.reason, 'nacl-default-deny');
  assert.deepEqual(p.decisive?.rule, { kind: 'nacl-default', aclId: 'acl-app', egress: true });
  assert.match(hopText(p.decisive!), /no rule allows outbound tcp 1024-65535 to 10\.0\.0\.10: the \* rule denies it \(the replies/);
  // The Linux range only (32768–60999): the load balancer's ports 1024–32767 are denied.
  acl.Entries!.push({ RuleNumber: 100, Protocol: '6', RuleAction: 'allow', Egress: true, CidrBlock: '10.0.0.0/16', PortRange: { From: 32768, To: 65535 } });
  const part = one(s);
  assert.equal(part.status, 'denied');
  const fact = part.decisive!.facts.find((f) => f.kind === 'nacl');
  assert.deepEqual(fact && fact.kind === 'nacl' ? fact.deniedPorts : null, { from: 1024, to: 32767 });
  // Without any * entry in the output (hand-written), nothing matching is still a deny.
  acl.Entries = acl.Entries!.filter((e) => e.RuleNumber !== 32767);
  acl.Entries.push({ RuleNumber: 120, Protocol: '6', RuleAction: 'allow', Egress: true, CidrBlock: '10.0.0.0/16', PortRange: { From: 1024, To: 32767 } });
  assert.equal(one(s).status, 'allowed', 'two entries covering the range together');
});

test('network ACL: inside one subnet no ACL is crossed; a subnet without its own ACL has the VPC\'s default', () => {
  const s = baseSnapshot();
  const eni = s.networkInterfaces!.find((n) => n.NetworkInterfaceId === 'eni-web')!;
  eni.SubnetId = 'subnet-pub-a';
  const p = one(s);
  assert.equal(hopOf(p, 'target-nacl').reason, 'same-subnet');
  assert.equal(hopOf(p, 'lb-nacl-target').reason, 'same-subnet');
  const s2 = baseSnapshot();
  s2.networkAcls!.find((a) => a.NetworkAclId === 'acl-app')!.Associations = [];
  assert.equal(hopOf(one(s2), 'target-nacl').resource, 'acl-default');
});

test('route tables: the most specific route wins — an appliance is not determinable, a blackhole denies, no route denies, a NAT gateway is not a way back to the internet', () => {
  const s = baseSnapshot();
  const main = s.routeTables!.find((t) => t.RouteTableId === 'rtb-main')!;
  main.Routes!.push({ DestinationCidrBlock: '10.0.0.0/24', NetworkInterfaceId: 'eni-firewall', State: 'active' });
  const a = one(s);
  assert.equal(a.status, 'unknown');
  assert.equal(a.decisive?.hop, 'target-route');
  assert.equal(a.decisive?.reason, 'route-appliance');
  assert.deepEqual(a.decisive?.rule, { kind: 'route', routeTableId: 'rtb-main', destination: '10.0.0.0/24', target: 'eni-firewall', state: 'active' });
  assert.equal(hopOf(one(s, { address: NODE_B.public }), 'target-route').reason, 'route-local', 'node b is not in the /24: the VPC\'s local route');
  main.Routes!.push({ DestinationCidrBlock: '10.0.1.0/24', NetworkInterfaceId: 'eni-gone', State: 'blackhole' });
  const b = one(s, { address: NODE_B.public });
  assert.equal(b.decisive?.reason, 'route-blackhole');
  assert.match(hopText(b.decisive!), /rtb-main: 10\.0\.1\.0\/24 → eni-gone \(blackhole\): the route is a blackhole/);

  const pub = baseSnapshot();
  const table = pub.routeTables!.find((t) => t.RouteTableId === 'rtb-public')!;
  table.Routes = table.Routes!.filter((r) => r.DestinationCidrBlock !== '0.0.0.0/0');
  const missing = one(pub);
  assert.equal(missing.status, 'denied');
  assert.equal(missing.decisive?.hop, 'lb-route-client');
  assert.equal(missing.decisive?.reason, 'route-missing');
  assert.match(hopText(missing.decisive!), /route table rtb-public \(subnet-pub-a\) has no route to 198\.51\.100\.7/);
  table.Routes!.push({ DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: 'nat-1', State: 'active' });
  assert.equal(one(pub).decisive?.reason, 'route-not-igw');
  // A more specific route for the client's network through the gateway wins over a broken default.
  table.Routes!.push({ DestinationCidrBlock: '198.51.100.0/24', GatewayId: 'igw-1', State: 'active' });
  assert.equal(one(pub).status, 'allowed');
});

test('listener: none on the port is denied naming the ports it has; HTTPS to an HTTP listener is denied', () => {
  const s = baseSnapshot();
  assert.equal(one(s, { port: 8443, scheme: 'https' }).decisive?.hop, 'lb-sg-in', 'the load balancer\'s group comes first: it does not allow 8443');
  s.securityGroups!.find((g) => g.GroupId === 'sg-alb')!.IpPermissions!.push({ IpProtocol: 'tcp', FromPort: 8443, ToPort: 8443, IpRanges: [{ CidrIp: '0.0.0.0/0' }] });
  const p = one(s, { port: 8443, scheme: 'https' });
  assert.equal(p.status, 'denied');
  assert.equal(p.decisive?.hop, 'listener');
  assert.equal(p.decisive?.reason, 'no-listener');
  assert.match(hopText(p.decisive!), /web-alb has no listener on port 8443 \(it listens on HTTP:80, HTTPS:443\)/);
  assert.deepEqual(p.targets, [], 'nothing behind a missing listener');
  assert.equal(one(s, { port: 80, scheme: 'https' }).decisive?.reason, 'listener-protocol');
});

test('listener rules: priority order, the default last; a fixed response denies; a condition the URL cannot decide is not determinable', () => {
  const s = baseSnapshot();
  assert.equal(one(s, { path: '/api/x' }).targets[0]?.targetId, API, 'rule 10 (path /api/*) forwards to the api group');
  assert.equal(one(s, { path: '/apix' }).targets[0]?.targetId, 'i-web', 'the default rule');
  const rules = s.rules!;
  rules.push({ RuleArn: `${L80.replace(':listener/', ':listener-rule/')}/r0000000000000005`, Priority: '5', IsDefault: false,
    Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['*.example.com'] } }, { Field: 'path-pattern', PathPatternConfig: { Values: ['/maintenance*', '/'] } }],
    Actions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '503', ContentType: 'text/plain', MessageBody: 'down' } }] });
  const fixed = one(s);
  assert.equal(fixed.status, 'denied');
  assert.equal(fixed.decisive?.hop, 'rule');
  assert.equal(fixed.decisive?.reason, 'rule-fixed-response');
  assert.match(hopText(fixed.decisive!), /rule 5: fixed-response 503: the load balancer answers it itself/);
  assert.equal(one(s, { host: 'example.org', names: ['example.org'] }).status, 'allowed', 'another host: rule 5 does not match');
  rules.push({ RuleArn: `${L80.replace(':listener/', ':listener-rule/')}/r0000000000000001`, Priority: '1', IsDefault: false,
    Conditions: [{ Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: 'X-Canary', Values: ['1'] } }], Actions: [{ Type: 'forward', TargetGroupArn: TG_WEB }] });
  const header = one(s, { path: '/apix' });
  assert.equal(header.status, 'unknown');
  assert.equal(header.decisive?.reason, 'condition-unknown');
  assert.match(hopText(header.decisive!), /rule 1's http-header condition/);
});

test('target group: none registered is denied; a target in a zone the load balancer does not use takes nothing; every target unhealthy fails open', () => {
  const s = baseSnapshot();
  s.targetHealth!.find((h) => h.targetGroupArn === TG_WEB)!.descriptions = [];
  const none = one(s);
  assert.equal(none.decisive?.hop, 'target-group');
  assert.equal(none.decisive?.reason, 'no-targets');
  assert.match(hopText(none.decisive!), /target group web has no registered target/);
  s.targetHealth!.find((h) => h.targetGroupArn === TG_WEB)!.descriptions = [{ Target: { Id: 'i-web', Port: 8080 }, TargetHealth: { State: 'unused', Reason: 'Target.NotInUse' } }];
  assert.equal(one(s).decisive?.reason, 'targets-not-routable');
  s.targetHealth!.find((h) => h.targetGroupArn === TG_WEB)!.descriptions = [{ Target: { Id: 'i-web', Port: 8080 }, TargetHealth: { State: 'unhealthy', Reason: 'Target.FailedHealthChecks' } }];
  const open = one(s);
  assert.equal(open.status, 'allowed', 'every target unhealthy: the load balancer routes to all');
  assert.equal(hopOf(open, 'target-group').reason, 'targets-routable');
});

test('not determinable: an output not read, a client address the load balancer does not see, a load balancer not found', () => {
  const s = baseSnapshot();
  s.securityGroups = null;
  const p = one(s);
  assert.equal(p.status, 'unknown');
  assert.equal(p.decisive?.hop, 'lb-sg-in');
  assert.equal(p.decisive?.reason, 'not-read');
  assert.match(hopText(p.decisive!), /describe-security-groups\.json was not read/);

  // Behind NAT: a private client address is not what an internet-facing load balancer sees.
  const nat = baseSnapshot();
  nat.securityGroups!.find((g) => g.GroupId === 'sg-alb')!.IpPermissions = [{ IpProtocol: 'tcp', FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: '198.51.100.0/24' }] }];
  assert.equal(one(nat).status, 'allowed', 'the client\'s own public address is in the block');
  const behind = one(nat, { clientAddress: '192.168.1.20' });
  assert.equal(behind.status, 'unknown');
  assert.equal(behind.decisive?.reason, 'client-unknown');
  assert.equal(one(baseSnapshot(), { clientAddress: '192.168.1.20' }).status, 'allowed', '0.0.0.0/0 allows whatever address it is');

  const two = baseSnapshot();
  two.loadBalancers!.push({ ...two.loadBalancers![0]!, LoadBalancerArn: LB_ARN.replace('web-alb', 'other'), LoadBalancerName: 'other', DNSName: 'other.elb.amazonaws.com' });
  const lost = one(two, { address: '192.0.2.99' });
  assert.equal(lost.decisive?.reason, 'load-balancer-unknown');
  const byName = evaluatePaths(two, query({ address: null, names: ['www.example.com', 'web-alb-1234567890.eu-west-1.elb.amazonaws.com.'] }));
  assert.deepEqual(byName.map((p) => p.node?.loadBalancerName), ['web-alb', 'web-alb'], 'by the CNAME chain');
  assert.equal(one(two, { address: NODE_B.private }).node?.zone, 'eu-west-1b', 'by a node\'s address');
});

test('every node when no address is given; the capture\'s instance is the target preferred', () => {
  const s = baseSnapshot();
  const paths = evaluatePaths(s, query({ address: null }));
  assert.deepEqual(paths.map((p) => p.node?.privateAddress), [NODE_A.private, NODE_B.private]);
  s.targetHealth!.find((h) => h.targetGroupArn === TG_WEB)!.descriptions.push({ Target: { Id: API, Port: 8080 }, TargetHealth: { State: 'healthy' } });
  s.targetGroups!.find((g) => g.TargetGroupArn === TG_WEB)!.TargetType = 'ip';
  assert.equal(one(s).targets.length, 2);
  assert.deepEqual(one(s, { targetAddresses: [WEB] }).targets.map((t) => t.targetId), ['i-web']);
});

test('the scoped snapshot (what --json keeps) evaluates the same as the whole one', () => {
  const s = baseSnapshot();
  // Things the path does not touch.
  s.securityGroups!.push({ GroupId: 'sg-unrelated', IpPermissions: [], IpPermissionsEgress: [] });
  s.subnets!.push({ SubnetId: 'subnet-x', VpcId: 'vpc-2', CidrBlock: '172.16.0.0/24' });
  for (const q of [query(), query({ path: '/api/1', address: NODE_B.public }), query({ address: null })]) {
    const full = evaluatePaths(s, q);
    const scoped = scopeSnapshot(s, full);
    assert.deepEqual(evaluatePaths(scoped, q), full);
    assert.ok(!scoped.securityGroups!.some((g) => g.GroupId === 'sg-unrelated'));
    assert.ok(!scoped.subnets!.some((x) => x.SubnetId === 'subnet-x'));
  }
});
