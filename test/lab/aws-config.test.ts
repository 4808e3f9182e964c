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
    assert.deepEqual(p!.targets.map((t) => [t.targetId, t.address, t.port, t.networkInterfaceId, t.subnetId]), [[LAB_AWS_IDS.instance, LAB.instance.ens5, 80, LAB_AWS_IDS.eniEns5, LAB_AWS_IDS.subnetApp]]);
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
    const health = [[{ target: `${LAB.instance.ens5}:80`, state: 'healthy' as const, reason: null, lastCheck: null }], [{ target: `${LAB.instance.ens5}:80`, state: 'unhealthy' as const, reason: 'Target.Timeout', lastCheck: null }]];
    const s = labAwsSnapshot({ faults: ['sg-block'], targetHealth: health });
    writeAwsConfigDir(dir, s);
    const back = readAwsConfigDir(dir).snapshot;
    assert.deepEqual(back.targetHealth, s.targetHealth);
    assert.deepEqual(back.targetHealth![0]!.descriptions[0]!.TargetHealth, { State: 'unhealthy', Reason: 'Target.Timeout', Description: 'Health checks failed' });
    assert.equal(back.securityGroups!.find((g) => g.GroupId === LAB_AWS_IDS.sgWeb)!.IpPermissions!.length, 0);
    assert.equal(labAwsSnapshot({ faults: [] }).targetHealth![0]!.descriptions[0]!.TargetHealth!.State, 'unavailable', 'no node running: AWS has no health to give');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
