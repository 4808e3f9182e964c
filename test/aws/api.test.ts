/**
 * `--aws` and `aws-snapshot`: the SDK's own clients (their middleware stack: signing, the
 * Query protocol, XML parsing, retries) asked a local endpoint (test/aws/endpoint.ts) that
 * answers with recorded responses in AWS's documented shapes; fake credentials; no network
 * beyond 127.0.0.1.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { evaluatePaths, fetchAwsConfig, readAwsConfigDir, writeAwsConfigDir, type AwsApiOptions, type PathQuery } from '../../src/aws/index.js';
import { selfCliArgv } from '../../src/self.js';
import { main } from '../../src/cli/main.js';
import { memoryIO } from '../../src/cli/io.js';
import http from 'node:http';
import type { FollowResult } from '../../src/follow/index.js';
import { FAKE_CREDENTIALS, startFakeAws, type FakeAws } from './endpoint.js';

// The SDK's notice that its 2027 releases need Node 22 is the maintainers' (the CLI hides it too).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

let aws: FakeAws;
before(async () => { aws = await startFakeAws(); });
after(async () => { await aws.close(); });

const opts = (over: Partial<AwsApiOptions> = {}): AwsApiOptions => ({ region: 'eu-west-1', endpoint: aws.url, credentials: FAKE_CREDENTIALS, maxAttempts: 1, ...over });

const query = (over: Partial<PathQuery> = {}): PathQuery => ({
  names: ['shop.example.com', 'shop-alb-1234567890.eu-west-1.elb.amazonaws.com'], address: '198.51.100.44', port: 80, scheme: 'http',
  host: 'shop.example.com', path: '/', method: 'GET', clientAddress: '203.0.113.9', clientSeenByLoadBalancer: null, loadBalancer: null, targetAddresses: [], ...over,
});

const READ_ONLY = /^(Describe|Get)[A-Za-z]+$/;

test('--aws: every describe call through the SDK, pages followed, the outputs typed as AWS gives them', async () => {
  aws.calls.length = 0;
  const s = await fetchAwsConfig(opts());
  assert.ok(aws.calls.every((c) => READ_ONLY.test(c.action)), `only read-only calls: ${aws.calls.map((c) => c.action).join(', ')}`);
  assert.ok(aws.calls.every((c) => c.authorization.includes(`Credential=${FAKE_CREDENTIALS.accessKeyId}/`) && c.authorization.startsWith('AWS4-HMAC-SHA256')), 'signed with the credentials given (SigV4)');
  assert.deepEqual([...new Set(aws.calls.map((c) => c.action))].sort(), [
    'DescribeInstances', 'DescribeListeners', 'DescribeLoadBalancers', 'DescribeNetworkAcls', 'DescribeNetworkInterfaces', 'DescribeRouteTables',
    'DescribeRules', 'DescribeSecurityGroups', 'DescribeSubnets', 'DescribeTargetGroups', 'DescribeTargetHealth', 'GetManagedPrefixListEntries',
  ]);
  assert.equal(aws.calls.filter((c) => c.action === 'DescribeListeners').length, 2, 'the second page asked with the first page\'s marker');
  assert.equal(aws.calls.find((c) => c.action === 'DescribeListeners' && c.params.get('Marker'))?.params.get('Marker'), 'page2');
  assert.equal(aws.calls.find((c) => c.action === 'DescribeSecurityGroups' && c.params.get('NextToken'))?.params.get('NextToken'), 'sg-page2');

  assert.deepEqual(s.loadBalancers!.map((l) => [l.LoadBalancerName, l.Scheme, l.SecurityGroups, l.AvailabilityZones!.map((z) => z.SubnetId)]),
    [['shop-alb', 'internet-facing', ['sg-0alb'], ['subnet-0pub1a', 'subnet-0pub1b']]]);
  assert.deepEqual(s.listeners!.map((l) => `${l.Protocol}:${l.Port}`), ['HTTP:80', 'HTTPS:443']);
  assert.deepEqual(s.rules!.map((r) => r.Priority), ['10', 'default', 'default']);
  assert.deepEqual(s.rules![0]!.Actions![0]!.FixedResponseConfig, { StatusCode: '503', ContentType: 'text/plain', MessageBody: 'back soon' });
  assert.deepEqual(s.targetHealth!.map((h) => [h.targetGroupArn.split('/')[1], h.descriptions.map((d) => `${d.Target?.Id}:${d.Target?.Port} ${d.TargetHealth?.State}`)]), [['shop-web', ['i-0f76fade:80 healthy']]]);
  assert.deepEqual(s.instances!.map((i) => [i.InstanceId, i.PrivateIpAddress, i.NetworkInterfaces![0]!.Attachment?.DeviceIndex]), [['i-0f76fade', '10.20.10.15', 0]]);
  assert.deepEqual(s.securityGroups!.map((g) => g.GroupId), ['sg-0alb', 'sg-0web'], 'both pages');
  assert.deepEqual(s.securityGroups![1]!.IpPermissions![0]!.UserIdGroupPairs, [{ UserId: '111122223333', GroupId: 'sg-0alb' }]);
  assert.deepEqual(s.networkAcls!.find((a) => a.NetworkAclId === 'acl-0app')!.Entries!.map((e) => [e.RuleNumber, e.Egress, e.RuleAction, e.Protocol, e.PortRange ? `${e.PortRange.From}-${e.PortRange.To}` : null]),
    [[100, false, 'allow', '6', '80-80'], [32767, false, 'deny', '-1', null], [100, true, 'allow', '6', '1024-65535'], [32767, true, 'deny', '-1', null]]);
  assert.deepEqual(s.routeTables!.map((t) => [t.RouteTableId, t.Routes!.map((r) => `${r.DestinationCidrBlock}>${r.GatewayId ?? r.NatGatewayId}`), t.Associations!.map((a) => a.Main ? 'main' : a.SubnetId)]), [
    ['rtb-0main', ['10.20.0.0/16>local', '0.0.0.0/0>nat-0a1b2c3d'], ['main']],
    ['rtb-0public', ['10.20.0.0/16>local', '0.0.0.0/0>igw-0a1b2c3d'], ['subnet-0pub1a', 'subnet-0pub1b']],
  ]);
  assert.deepEqual(s.networkInterfaces!.map((n) => [n.NetworkInterfaceId, n.PrivateIpAddress, n.Association?.PublicIp ?? null, n.Description ?? '']), [
    ['eni-0alb1a', '10.20.0.44', '198.51.100.44', 'ELB app/shop-alb/6d0ecf831eec9f09'],
    ['eni-0alb1b', '10.20.1.71', '198.51.100.71', 'ELB app/shop-alb/6d0ecf831eec9f09'],
    ['eni-0web', '10.20.10.15', null, ''],
  ]);
  assert.deepEqual(s.prefixLists, [{ prefixListId: 'pl-0bastion', entries: [{ Cidr: '192.0.2.0/28', Description: 'bastion' }] }], 'the prefix list a group names');

  // The same evaluation as from files: the request through the zone-a node reaches the instance.
  const [p] = evaluatePaths(s, query());
  assert.equal(p!.status, 'allowed', JSON.stringify(p!.decisive));
  assert.deepEqual([p!.node?.networkInterfaceId, p!.targets[0]?.targetId, p!.targets[0]?.address], ['eni-0alb1a', 'i-0f76fade', '10.20.10.15']);
  const [m] = evaluatePaths(s, query({ path: '/maintenance/now', address: '198.51.100.71' }));
  assert.equal(m!.decisive?.reason, 'rule-fixed-response');
});

test('aws-snapshot\'s files read back as the same configuration', async () => {
  const s = await fetchAwsConfig(opts());
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ftt-aws-'));
  try {
    const files = writeAwsConfigDir(dir, s);
    assert.ok(files.includes('describe-target-health.shop-web.json'));
    assert.ok(files.includes('get-managed-prefix-list-entries.pl-0bastion.json'));
    const back = readAwsConfigDir(dir);
    assert.deepEqual(back.snapshot, JSON.parse(JSON.stringify(s)), 'dates become the ISO strings the AWS CLI prints; nothing else changes');
    assert.deepEqual(back.files.sort(), files.sort());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('one load balancer named: only it, its groups, and its VPC\'s resources are asked for', async () => {
  aws.calls.length = 0;
  await fetchAwsConfig(opts({ loadBalancer: 'shop-alb' }));
  assert.equal(aws.calls.find((c) => c.action === 'DescribeLoadBalancers')?.params.get('Names.member.1'), 'shop-alb');
  assert.equal(aws.calls.find((c) => c.action === 'DescribeTargetGroups')?.params.get('LoadBalancerArn'), 'arn:aws:elasticloadbalancing:eu-west-1:111122223333:loadbalancer/app/shop-alb/6d0ecf831eec9f09');
  for (const action of ['DescribeSecurityGroups', 'DescribeNetworkAcls', 'DescribeRouteTables', 'DescribeSubnets', 'DescribeNetworkInterfaces', 'DescribeInstances']) {
    const c = aws.calls.find((x) => x.action === action)!;
    assert.deepEqual([c.params.get('Filter.1.Name'), c.params.get('Filter.1.Value.1')], ['vpc-id', 'vpc-0a1b2c3d'], action);
  }
});

test('a refused call is an error with its IAM action and what to do', async () => {
  aws.failures.set('DescribeNetworkAcls', { status: 403, code: 'UnauthorizedOperation', message: 'You are not authorized to perform this operation.' });
  try {
    await assert.rejects(fetchAwsConfig(opts()), (e: { code?: string; message?: string; hint?: string; exitCode?: number }) => {
      assert.equal(e.code, 'AWS_ACCESS_DENIED');
      assert.match(e.message!, /ec2:DescribeNetworkAcls was refused: You are not authorized/);
      assert.match(e.hint!, /read-only actions ec2:DescribeNetworkAcls/);
      assert.equal(e.exitCode, 17);
      return true;
    });
  } finally {
    aws.failures.clear();
  }
  aws.failures.set('DescribeLoadBalancers', { status: 403, code: 'InvalidClientTokenId', message: 'The security token included in the request is invalid.' });
  try {
    await assert.rejects(fetchAwsConfig(opts()), (e: { code?: string }) => e.code === 'AWS_AUTH');
  } finally {
    aws.failures.clear();
  }
});

/**
 * The CLI in a child, the SDK's own configuration from the environment (the user's way),
 * pointed at the local endpoint (served by this process: the child runs asynchronously).
 */
async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const home = mkdtempSync(path.join(os.tmpdir(), 'ftt-aws-home-'));
  try {
    const argv = selfCliArgv();
    const child = spawn(argv[0]!, [...argv.slice(1), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH ?? '', HOME: home, AWS_CONFIG_FILE: path.join(home, 'none'), AWS_SHARED_CREDENTIALS_FILE: path.join(home, 'none'),
        AWS_EC2_METADATA_DISABLED: 'true', AWS_ENDPOINT_URL: aws.url, AWS_REGION: 'eu-west-1', AWS_MAX_ATTEMPTS: '1',
        AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey, ...env,
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => { stdout += b.toString('utf8'); });
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString('utf8'); });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    return { code, stdout, stderr };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

test('flowtrace aws-snapshot DIR: the credentials, region and endpoint from the environment as the AWS CLI takes them; a refusal exits 17', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ftt-aws-snap-'));
  try {
    const r = await cli(['aws-snapshot', dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '', 'nothing on stderr (the SDK\'s Node version notice is the maintainers\', not the user\'s)');
    assert.match(r.stdout, /1 load balancers, 2 listeners, 3 rules, 1 target groups, 1 instances, 2 security groups/);
    assert.deepEqual(readdirSync(dir).sort(), [
      'describe-instances.json', 'describe-listeners.json', 'describe-load-balancers.json', 'describe-network-acls.json', 'describe-network-interfaces.json',
      'describe-route-tables.json', 'describe-rules.json', 'describe-security-groups.json', 'describe-subnets.json', 'describe-target-groups.json',
      'describe-target-health.shop-web.json', 'get-managed-prefix-list-entries.pl-0bastion.json',
    ]);
    const lbs = JSON.parse(readFileSync(path.join(dir, 'describe-load-balancers.json'), 'utf8')) as { LoadBalancers: Array<{ CreatedTime: string }> };
    assert.equal(lbs.LoadBalancers[0]!.CreatedTime, '2024-03-25T21:26:12.920Z', 'as the AWS CLI prints it');

    const none = await cli(['aws-snapshot', dir], { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' });
    assert.equal(none.code, 17, none.stderr);
    assert.match(none.stderr, /^error\[AWS_NO_CREDENTIALS\]: .*\nhint: configure them/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.equal((await cli(['aws-snapshot'])).code, 2);
});

test('follow --aws: the configuration asked of the API while the walk runs; a refusal leaves the verdict to the packets', async () => {
  const app = http.createServer((_req, res) => { res.writeHead(200); res.end('ok'); });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  const appPort = (app.address() as { port: number }).port;
  const saved = { ...process.env };
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: aws.url, AWS_ACCESS_KEY_ID: FAKE_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: FAKE_CREDENTIALS.secretAccessKey,
    AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: '/nonexistent/ftt-aws-config', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/ftt-aws-credentials', AWS_MAX_ATTEMPTS: '1',
  });
  const follow = async (): Promise<{ code: number; result: FollowResult }> => {
    const io = memoryIO();
    const code = await main(['follow', `http://127.0.0.1:${appPort}/`, '--json', '--timeout', '3', '--aws', '--aws-region', 'eu-west-1', '--aws-lb', 'shop-alb'], io);
    return { code, result: JSON.parse(io.out.join('')) as FollowResult };
  };
  try {
    aws.calls.length = 0;
    const ok = await follow();
    assert.equal(ok.code, 0, ok.result.verdict.headline);
    assert.equal(ok.result.aws?.status, 'ok');
    assert.match(ok.result.aws!.from, /^api \(region eu-west-1, load balancer shop-alb\)$/);
    assert.match(ok.result.aws!.paths[0]!.loadBalancerArn!, /loadbalancer\/app\/shop-alb\//, 'the load balancer named');
    assert.equal(ok.result.aws!.paths[0]!.status, 'unknown', '127.0.0.1 is none of its nodes');
    assert.deepEqual(ok.result.aws!.snapshot!.loadBalancers!.map((l) => l.LoadBalancerName), ['shop-alb'], 'the part of the configuration kept');
    assert.ok(aws.calls.some((c) => c.action === 'DescribeLoadBalancers' && c.params.get('Names.member.1') === 'shop-alb'));
    aws.failures.set('DescribeSubnets', { status: 403, code: 'UnauthorizedOperation', message: 'You are not authorized to perform this operation.' });
    const refused = await follow();
    assert.equal(refused.code, 0, 'the walk and its verdict do not depend on the configuration');
    assert.equal(refused.result.aws?.status, 'error');
    assert.match(refused.result.aws!.error!, /AWS_ACCESS_DENIED: ec2:DescribeSubnets was refused/);
    assert.equal(refused.result.verdict.config?.agreement, 'not-determinable');
  } finally {
    aws.failures.clear();
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
    app.close();
  }
});
