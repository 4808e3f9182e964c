/**
 * Reading a folder of AWS CLI outputs: the names, several outputs of one command joined, the
 * files that must say what they are about, and the errors (missing folder, none of the
 * outputs, not JSON, not the command's shape) with the file and what to do.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readAwsConfigDir, writeAwsConfigDir, AWS_COMMANDS, AWS_IAM_ACTIONS } from '../../src/aws/index.js';
import { baseSnapshot, TG_API, TG_WEB } from './fixture.js';

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ftt-awsfiles-'));
  try { fn(dir); } finally { rmSync(dir, { recursive: true, force: true }); }
}

const put = (dir: string, name: string, body: unknown): void => writeFileSync(path.join(dir, name), typeof body === 'string' ? body : JSON.stringify(body));

test('the commands and the IAM actions they need', () => {
  assert.deepEqual(AWS_COMMANDS.map((c) => c.command), [
    'describe-load-balancers', 'describe-listeners', 'describe-rules', 'describe-target-groups', 'describe-target-health', 'describe-instances',
    'describe-security-groups', 'describe-network-acls', 'describe-route-tables', 'describe-subnets', 'describe-network-interfaces', 'get-managed-prefix-list-entries',
  ]);
  assert.ok(AWS_IAM_ACTIONS.includes('elasticloadbalancing:DescribeTargetHealth'));
  assert.ok(AWS_IAM_ACTIONS.includes('ec2:GetManagedPrefixListEntries'));
  assert.ok(AWS_IAM_ACTIONS.every((a) => /^(ec2|elasticloadbalancing):(Describe|Get)/.test(a)), 'read-only actions only');
});

test('a written snapshot reads back the same; outputs not written are "not read" (null)', () => {
  withDir((dir) => {
    const s = baseSnapshot();
    s.prefixLists = [{ prefixListId: 'pl-0abc', entries: [{ Cidr: '10.0.0.0/8' }] }];
    s.subnets = null;
    const files = writeAwsConfigDir(dir, s);
    assert.ok(files.includes('describe-target-health.web.json') && files.includes('describe-target-health.api.json'));
    assert.ok(!files.includes('describe-subnets.json'));
    const back = readAwsConfigDir(dir).snapshot;
    // Read in file-name order: describe-target-health.api.json first.
    assert.deepEqual(back, { ...s, targetHealth: [...s.targetHealth!].sort((a, b) => a.targetGroupArn.localeCompare(b.targetGroupArn)) });
    // A second snapshot into the same folder leaves no output of the first behind.
    const t = baseSnapshot();
    t.prefixLists = null;
    writeAwsConfigDir(dir, t);
    assert.equal(readAwsConfigDir(dir).snapshot.prefixLists, null);
  });
});

test('several outputs of one command are joined; describe-instances\' reservations are flattened', () => {
  withDir((dir) => {
    const s = baseSnapshot();
    put(dir, 'describe-security-groups.json', { SecurityGroups: s.securityGroups!.slice(0, 1) });
    put(dir, 'describe-security-groups.vpc-2.json', { SecurityGroups: s.securityGroups!.slice(1) });
    put(dir, 'describe-instances.json', { Reservations: [{ ReservationId: 'r-1', Instances: s.instances }, { ReservationId: 'r-2', Instances: [{ InstanceId: 'i-2' }] }] });
    const back = readAwsConfigDir(dir);
    assert.deepEqual(back.snapshot.securityGroups!.map((g) => g.GroupId), ['sg-alb', 'sg-web', 'sg-api']);
    assert.deepEqual(back.snapshot.instances!.map((i) => i.InstanceId), ['i-web', 'i-2']);
    assert.equal(back.snapshot.loadBalancers, null);
    assert.deepEqual(back.files, ['describe-instances.json', 'describe-security-groups.json', 'describe-security-groups.vpc-2.json']);
  });
});

test('target health names its group: by the file name, or alone with one group', () => {
  withDir((dir) => {
    const s = baseSnapshot();
    put(dir, 'describe-target-groups.json', { TargetGroups: s.targetGroups });
    put(dir, 'describe-target-health.api.json', { TargetHealthDescriptions: s.targetHealth![1]!.descriptions });
    put(dir, 'describe-target-health.1111111111111111.json', { TargetHealthDescriptions: s.targetHealth![0]!.descriptions });
    assert.deepEqual(readAwsConfigDir(dir).snapshot.targetHealth!.map((h) => h.targetGroupArn).sort(), [TG_WEB, TG_API].sort());
  });
  withDir((dir) => {
    const s = baseSnapshot();
    put(dir, 'describe-target-groups.json', { TargetGroups: s.targetGroups!.slice(0, 1) });
    put(dir, 'describe-target-health.json', { TargetHealthDescriptions: s.targetHealth![0]!.descriptions });
    assert.equal(readAwsConfigDir(dir).snapshot.targetHealth![0]!.targetGroupArn, TG_WEB);
    put(dir, 'describe-target-groups.json', { TargetGroups: s.targetGroups });
    assert.throws(() => readAwsConfigDir(dir), { code: 'AWS_CONFIG_AMBIGUOUS', message: /does not say which target group/ });
  });
  withDir((dir) => {
    put(dir, 'get-managed-prefix-list-entries.json', { Entries: [] });
    assert.throws(() => readAwsConfigDir(dir), { code: 'AWS_CONFIG_AMBIGUOUS', hint: /get-managed-prefix-list-entries\.pl-ID\.json/ });
  });
});

test('errors name the folder or the file and say what to do', () => {
  assert.throws(() => readAwsConfigDir('/nonexistent/ftt-aws'), { code: 'AWS_CONFIG_DIR', exitCode: 3, message: /ENOENT/ });
  withDir((dir) => {
    put(dir, 'notes.txt', 'hello');
    assert.throws(() => readAwsConfigDir(dir), { code: 'AWS_CONFIG_EMPTY', hint: /describe-load-balancers\.json/ });
    put(dir, 'describe-subnets.json', '{"Subnets": [');
    assert.throws(() => readAwsConfigDir(dir), { code: 'AWS_CONFIG_MALFORMED', message: /describe-subnets\.json is not the output of `aws ec2 describe-subnets`: not JSON/ });
    put(dir, 'describe-subnets.json', '{"Subnets": {"SubnetId": "x"}}');
    assert.throws(() => readAwsConfigDir(dir), { code: 'AWS_CONFIG_MALFORMED', message: /Subnets is not a list/ });
    put(dir, 'describe-subnets.json', '[1, 2]');
    assert.throws(() => readAwsConfigDir(dir), { code: 'AWS_CONFIG_MALFORMED', message: /not a JSON object/, hint: /aws ec2 describe-subnets --output json > describe-subnets\.json/ });
    put(dir, 'describe-subnets.json', '{"Subnets": [null]}');
    assert.throws(() => readAwsConfigDir(dir), { code: 'AWS_CONFIG_MALFORMED' });
    put(dir, 'describe-subnets.json', '{}');
    assert.deepEqual(readAwsConfigDir(dir).snapshot.subnets, [], 'an output without its list is an empty answer');
  });
});
