/**
 * The lab described as AWS would describe it (lab/aws-config.ts): read back through the
 * files the AWS CLI writes, evaluated like any account's configuration; each fault that is a
 * configuration change in AWS changes it where AWS would show it, every other fault leaves it
 * as it is. Offline: no lab needed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { evaluatePaths, hopText, readAwsConfigDir, writeAwsConfigDir, type ConfigHopId, type HopReason, type PathQuery } from '../../src/aws/index.js';
import { CONFIG_FAULTS, LAB, LAB_AWS_IDS, LAB_FAULTS, labAwsSnapshot } from '../../src/lab/index.js';

const query = (address: string): PathQuery => ({
  names: [LAB.domain], address, port: 80, scheme: 'http', host: LAB.domain, path: '/', method: 'GET',
  clientAddress: LAB.client, clientSeenByLoadBalancer: LAB.client, loadBalancer: null, targetAddresses: [LAB.instance.ens5],
});

/** What each configuration fault must read as, per node (a: alb-a, b: alb-b); null: allowed. */
const EXPECTED: Record<string, Record<'a' | 'b', { hop: ConfigHopId; reason: HopReason; text: RegExp } | null>> = {
  'sg-block': {
    a: { hop: 'target-sg', reason: 'sg-no-rule', text: new RegExp(`security group ${LAB_AWS_IDS.sgWeb} has no inbound rule for tcp/80 from 172\\.31\\.0\\.10 or its group ${LAB_AWS_IDS.sgAlb}`) },
    b: { hop: 'target-sg', reason: 'sg-no-rule', text: /from 172\.31\.16\.10/ },
  },
  'nacl-ephemeral': {
    a: { hop: 'target-nacl', reason: 'nacl-deny', text: new RegExp(`network ACL ${LAB_AWS_IDS.aclApp} \\(${LAB_AWS_IDS.subnetApp}\\): rule 90 denies outbound tcp 1024-65535 to 172\\.31\\.0\\.10`) },
    b: { hop: 'target-nacl', reason: 'nacl-deny', text: /rule 90 denies outbound tcp 1024-65535 to 172\.31\.16\.10/ },
  },
  'target-deregistered': {
    a: { hop: 'target-group', reason: 'no-targets', text: /target group seqas-web has no registered target/ },
    b: { hop: 'target-group', reason: 'no-targets', text: /seqas-web/ },
  },
  'listener-missing': {
    a: { hop: 'listener', reason: 'no-listener', text: /seqas-alb has no listener on port 80 \(it listens on HTTPS:443\)/ },
    b: { hop: 'listener', reason: 'no-listener', text: /no listener on port 80/ },
  },
  // The target group's own settings: health checks that fail every target (fail open) or a
  // target draining leave a routable target: the configuration allows the request.
  'healthcheck-404': { a: null, b: null },
  'targets-unhealthy': { a: null, b: null },
  'target-draining': { a: null, b: null },
  'cross-zone-off': { a: null, b: null },
  'lb-subnet-no-route': {
    a: null,
    b: { hop: 'lb-route-client', reason: 'route-missing', text: new RegExp(`route table ${LAB_AWS_IDS.routeTablePublicB} \\(${LAB_AWS_IDS.subnetPublicB}\\) has no route to 10\\.10\\.1\\.2`) },
  },
};

test('the healthy lab: both nodes\' paths allowed through every hop, each named', () => {
  const s = labAwsSnapshot({ faults: [] });
  for (const address of [LAB.albA.public, LAB.albB.public]) {
    const [p] = evaluatePaths(s, query(address));
    assert.equal(p!.status, 'allowed', `${address}: ${p!.decisive ? hopText(p!.decisive) : ''}`);
    // The target group's targets are addresses (type ip); the captured instance's is the one read.
    assert.deepEqual(p!.targets.map((t) => [t.targetId, t.address, t.port, t.networkInterfaceId, t.subnetId]), [[LAB.instance.ens5, LAB.instance.ens5, 80, LAB_AWS_IDS.eniEns5, LAB_AWS_IDS.subnetApp]]);
    assert.equal(p!.node?.privateAddress, address === LAB.albA.public ? LAB.albA.vpc : LAB.albB.vpc);
    assert.equal(p!.hops.length + p!.targets[0]!.hops.length, 12, 'every hop read');
  }
});

test('each configuration fault changes the configuration where AWS shows it; every other fault leaves it unchanged', () => {
  const healthy = JSON.stringify(labAwsSnapshot({ faults: [] }));
  assert.deepEqual([...CONFIG_FAULTS].sort(), Object.keys(EXPECTED).sort());
  for (const f of Object.keys(LAB_FAULTS)) {
    const s = labAwsSnapshot({ faults: [f] });
    if (!CONFIG_FAULTS.includes(f)) {
      assert.equal(JSON.stringify(s), healthy, `${f} is not a configuration change`);
      continue;
    }
    assert.notEqual(JSON.stringify(s), healthy, f);
    for (const [node, address] of [['a', LAB.albA.public], ['b', LAB.albB.public]] as const) {
      const want = EXPECTED[f]![node];
      const [p] = evaluatePaths(s, query(address));
      if (want === null) { assert.equal(p!.status, 'allowed', `${f} via ${node}`); continue; }
      assert.equal(p!.status, 'denied', `${f} via ${node}`);
      assert.equal(p!.decisive?.hop, want.hop, `${f} via ${node}`);
      assert.equal(p!.decisive?.reason, want.reason, `${f} via ${node}`);
      assert.match(hopText(p!.decisive!), want.text, `${f} via ${node}`);
    }
  }
});

test('the lab\'s files read back as the configuration (the AWS CLI\'s shapes); target health from the nodes\' own checks', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ftt-labaws-'));
  try {
    const h = (state: 'healthy' | 'unhealthy', reason: string | null, description: string | null) => ({ target: `${LAB.instance.ens5}:80`, name: 'ec2-a', zone: 'a', state, reason, description, lastCheck: null });
    const health = [[h('healthy', null, null)], [h('unhealthy', 'Target.Timeout', 'Request timed out')]];
    const s = labAwsSnapshot({ faults: ['sg-block'], targetHealth: health });
    writeAwsConfigDir(dir, s);
    const back = readAwsConfigDir(dir).snapshot;
    assert.deepEqual(back.targetHealth, s.targetHealth);
    assert.deepEqual(back.targetHealth![0]!.descriptions[0]!.TargetHealth, { State: 'unhealthy', Reason: 'Target.Timeout', Description: 'Request timed out' });
    assert.equal(back.securityGroups!.find((g) => g.GroupId === LAB_AWS_IDS.sgWeb)!.IpPermissions!.length, 0);
    assert.equal(labAwsSnapshot({ faults: [] }).targetHealth![0]!.descriptions[0]!.TargetHealth!.State, 'unavailable', 'no node running: AWS has no health to give');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('two instances, one per zone: their interfaces, subnets and the target group\'s two targets with their health', () => {
  const ok = (t: (typeof LAB.targets)[number]) => ({ target: `${t.ens5}:80`, name: t.name, zone: t.zone, state: 'healthy' as const, reason: null, description: null, lastCheck: null });
  const s = labAwsSnapshot({ faults: [], targetHealth: [LAB.targets.map(ok), LAB.targets.map(ok)] });
  assert.deepEqual(s.instances!.map((i) => [i.InstanceId, i.PrivateIpAddress, i.Placement?.AvailabilityZone, i.NetworkInterfaces!.map((n) => n.PrivateIpAddress)]), [
    [LAB_AWS_IDS.instance, '172.31.5.20', 'eu-west-1a', ['172.31.5.20', '172.31.64.20']],
    [LAB_AWS_IDS.instanceB, '172.31.21.20', 'eu-west-1b', ['172.31.21.20', '172.31.80.20']],
  ]);
  const enis = s.networkInterfaces!.filter((n) => n.Attachment?.InstanceId === LAB_AWS_IDS.instanceB);
  assert.deepEqual(enis.map((n) => [n.NetworkInterfaceId, n.AvailabilityZone, s.subnets!.find((x) => x.SubnetId === n.SubnetId)?.CidrBlock]), [
    [LAB_AWS_IDS.eniBEns5, 'eu-west-1b', '172.31.21.0/24'], [LAB_AWS_IDS.eniBEns6, 'eu-west-1b', '172.31.80.0/20'],
  ]);
  assert.deepEqual(s.targetHealth![0]!.descriptions.map((d) => [d.Target!.Id, d.Target!.Port, d.Target!.AvailabilityZone, d.TargetHealth!.State]), [
    ['172.31.5.20', 80, 'eu-west-1a', 'healthy'], ['172.31.21.20', 80, 'eu-west-1b', 'healthy'],
  ]);
  const g = s.targetGroups![0]!;
  assert.deepEqual([g.TargetType, g.HealthCheckPath, g.HealthCheckPort, g.HealthyThresholdCount, g.UnhealthyThresholdCount, g.Matcher?.HttpCode], ['ip', '/', 'traffic-port', 5, 2, '200']);
  // Through alb-b, the target in its own zone is the one read when the capture is there.
  const [p] = evaluatePaths(s, { ...query(LAB.albB.public), targetAddresses: ['172.31.21.20'] });
  assert.equal(p!.status, 'allowed');
  assert.deepEqual(p!.targets.map((t) => [t.targetId, t.networkInterfaceId, t.subnetId]), [['172.31.21.20', LAB_AWS_IDS.eniBEns5, LAB_AWS_IDS.subnetAppB]]);
  // The faults that change the target group, where describe-target-group(s)/-health show them.
  assert.equal(labAwsSnapshot({ faults: ['healthcheck-404'] }).targetGroups![0]!.HealthCheckPath, '/healthz');
  assert.equal(labAwsSnapshot({ faults: ['targets-unhealthy'] }).targetGroups![0]!.HealthCheckPort, '8080');
  for (const f of ['target-draining', 'cross-zone-off']) {
    const d = labAwsSnapshot({ faults: [f], targetHealth: [LAB.targets.map(ok)] }).targetHealth![0]!.descriptions;
    assert.deepEqual(d.map((x) => [x.Target!.Id, x.TargetHealth!.State, x.TargetHealth!.Reason ?? null]), [['172.31.5.20', 'healthy', null], ['172.31.21.20', 'draining', 'Target.DeregistrationInProgress']], f);
  }
});
