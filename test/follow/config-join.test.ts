/**
 * The AWS configuration next to the packets (issue 18), offline: every recorded lab fault read
 * again with the lab's configuration under that fault (lab/aws-config.ts) — a configuration
 * fault is named by its rule, any other says "configuration allows it; …" before the packets'
 * cause, and the packets' verdict (layer, cause, direction, exit code) stays theirs — and the
 * cases the lab does not make: a failure only the configuration places, a configuration that
 * denies what the packets crossed, one that denies elsewhere, one that cannot decide, one
 * that could not be read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LAB_FAULTS, labAwsSnapshot } from '../../src/lab/index.js';
import { decideVerdict, failedConfig } from '../../src/follow/index.js';
import { renderHtmlReport, renderTerminal } from '../../src/report/index.js';
import { configMatches, LAB_FAULT_CONFIG, LAB_FAULT_VERDICTS, verdictMatches } from './expected.js';
import { hasRecorded, recordedResult, rederive, savedResult } from './recorded.js';

for (const f of Object.keys(LAB_FAULTS)) {
  test(`recorded ${f} with the lab's configuration: ${LAB_FAULT_CONFIG[f]?.agreement}${LAB_FAULT_CONFIG[f]?.hop ? ` at ${LAB_FAULT_CONFIG[f]!.hop}` : ''}`, () => {
    assert.ok(hasRecorded(f), `${f} has no recorded result: re-record (test/follow/verdict.test.ts says how)`);
    const r = recordedResult(f, { aws: labAwsSnapshot({ faults: [f] }) });
    const problem = configMatches(LAB_FAULT_CONFIG[f]!, r);
    assert.equal(problem, null, `${f}: ${problem}\n${r.verdict.cause}`);
    assert.equal(verdictMatches(LAB_FAULT_VERDICTS[f]!, r, null), null, 'the packets\' verdict stays the packets\'');
    if (LAB_FAULT_CONFIG[f]!.agreement === 'agree') {
      assert.match(r.verdict.nextCheck!, /^`aws (ec2|elbv2) /, 'the next check is the configuration\'s fix');
      const layer = r.verdict.firstFailing!;
      assert.equal(r.verdict.rows.find((x) => x.layer === layer)?.config?.status, 'denied', 'the failing row\'s configuration column denies');
    }
  });
}

test('the healthy run: every hop allowed, both configuration columns ✓', () => {
  const r = recordedResult('healthy', { aws: labAwsSnapshot({ faults: [] }) });
  assert.equal(r.verdict.ok, true);
  assert.equal(r.verdict.config?.agreement, 'both-pass');
  assert.deepEqual(r.verdict.rows.map((x) => x.config?.status ?? null), [null, null, 'allowed', 'allowed', null, null]);
  assert.equal(r.aws!.paths.length, 2, 'one path per request (per load-balancer node)');
  // In the order of the requests, i.e. of DNS's answer (dnsmasq rotates it): compared as a set.
  assert.deepEqual(r.aws!.paths.map((p) => p.node?.privateAddress).sort(), ['172.31.0.10', '172.31.16.10']);
  assert.equal(r.aws!.query.clientSeenByLoadBalancer, '10.10.1.2', 'the client as the load balancer saw it: X-Forwarded-For on the instance');
  assert.ok(r.aws!.query.targetAddresses.includes('172.31.5.20'), 'the instance the capture ran on');
});

test('no capture behind the load balancer\'s 504: the packets do not place it, the configuration does', () => {
  const packetsOnly = recordedResult('sg-block', { noServer: true, aws: null });
  assert.equal(packetsOnly.verdict.causeId, 'incomplete');
  const r = recordedResult('sg-block', { noServer: true, aws: labAwsSnapshot({ faults: ['sg-block'] }) });
  assert.equal(r.verdict.firstFailing, 'instance');
  assert.equal(r.verdict.causeId, 'sg-no-rule');
  assert.equal(r.verdict.exitCode, 13);
  assert.equal(r.verdict.direction, 'request');
  assert.match(r.verdict.cause!, /^the configuration denies it: .*security group sg-\w+ has no inbound rule for tcp\/80/);
  assert.match(r.verdict.headline, /the packets were not seen there, the configuration denies it/);
  const row = r.verdict.rows.find((x) => x.layer === 'instance')!;
  assert.equal(row.status, 'fail');
  assert.equal(row.config?.status, 'denied');
  // A configuration that allows it does not place it: still not located, and it says the configuration allows it.
  const allows = recordedResult('sg-block', { noServer: true, aws: labAwsSnapshot({ faults: [] }) });
  assert.equal(allows.verdict.causeId, 'incomplete');
  assert.match(allows.verdict.cause!, /^configuration allows it; /);
});

test('the configuration denies what the packets crossed, or denies elsewhere; the verdict says so', () => {
  const passed = recordedResult('healthy', { aws: labAwsSnapshot({ faults: ['sg-block'] }) });
  assert.equal(passed.verdict.ok, true, 'the packets went through: the verdict is theirs');
  assert.equal(passed.verdict.config?.agreement, 'config-denies-passed');
  assert.equal(passed.verdict.config?.hop?.hop, 'target-sg');
  const earlier = recordedResult('host-firewall', { aws: labAwsSnapshot({ faults: ['nacl-ephemeral'] }) });
  assert.equal(earlier.verdict.config?.agreement, 'config-denies-passed', 'denied at the instance, the packets stopped inside the host');
  assert.match(earlier.verdict.cause!, /the configuration denies an earlier hop — .*rule 90 .* — yet the packets crossed it/);
  assert.equal(earlier.verdict.causeId, 'dropped-by-rule');
  const later = recordedResult('dns-nxdomain', { aws: labAwsSnapshot({ faults: ['sg-block'] }) });
  assert.equal(later.verdict.config?.agreement, 'elsewhere');
  assert.match(later.verdict.cause!, /NXDOMAIN.*\(the configuration also denies it further on: /);
});

test('a configuration that cannot decide says why; one that could not be read leaves the packets\' verdict alone', () => {
  const s = labAwsSnapshot({ faults: [] });
  s.networkAcls = null;
  const r = recordedResult('host-firewall', { aws: s });
  assert.equal(r.verdict.config?.agreement, 'not-determinable');
  assert.match(r.verdict.cause!, /\(the configuration does not decide it: network ACL of the load balancer's subnet \(client side\): not determinable: describe-network-acls\.json was not read\)$/);
  assert.equal(r.verdict.rows.find((x) => x.layer === 'loadBalancer')?.config?.status, 'unknown');

  const { verdict: _v, aws: _a, ...ev } = savedResult('host-firewall');
  const failed = decideVerdict({ ...ev, aws: failedConfig('files', '/nonexistent', 'AWS_CONFIG_DIR: …') });
  const plain = rederive(savedResult('host-firewall'), { aws: null }).verdict;
  assert.equal(failed.cause, plain.cause);
  assert.equal(failed.config?.agreement, 'not-determinable');
  assert.ok(failed.rows.every((x) => !x.config));
});

test('the table\'s AWS CONFIG column and the report say the configuration\'s reading', () => {
  const r = recordedResult('sg-block', { aws: labAwsSnapshot({ faults: ['sg-block'] }) });
  const text = renderTerminal(r, { color: false, width: 110, compact: true });
  assert.match(text, /LAYER +EVIDENCE +AWS CONFIG +TIME/);
  assert.match(text, /❌  Instance \(\w+\) .*✗ no SG rule\n[^\n]* sg-\w+\n/, 'the group on the cell\'s second line');
  assert.match(text, /Load balancer .*✓ allows/);
  assert.match(text.replace(/\n +/g, " "), /and the configuration names it: .*has no inbound rule for tcp\/80/);
  const verbose = renderTerminal(r, { color: false, width: 110, verbose: true }).replace(/\n +/g, ' ');
  assert.match(verbose, /AWS configuration: denies it — via seqas-alb in eu-west-1[ab] \(172\.31\.\d+\.10\): target's security groups/);
  const html = renderHtmlReport(r);
  assert.match(html, /class="row-config cfg-denied">AWS configuration: denies it/);
  const plain = renderTerminal(recordedResult('sg-block', { aws: null }), { color: false, width: 110, compact: true });
  assert.doesNotMatch(plain, /AWS CONFIG/, 'no column without a configuration');
});

test('hostile outputs (a number where AWS puts a list) are said in aws.error, never a crash', () => {
  const s = labAwsSnapshot({ faults: [] });
  (s.securityGroups![0] as unknown as Record<string, unknown>).IpPermissions = 5;
  (s.networkAcls![0] as unknown as Record<string, unknown>).Entries = 'all';
  const r = recordedResult('host-firewall', { aws: s });
  assert.equal(r.aws?.status, 'error');
  assert.match(r.aws!.error!, /^AWS_CONFIG_SHAPE: a field is not in AWS's shape/);
  assert.equal(r.verdict.causeId, 'dropped-by-rule');
});
