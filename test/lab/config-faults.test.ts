/**
 * The lab's faults that are configuration changes in AWS and came with issue 18, as root:
 * what a user sees with curl, what the lab changed, and `flowtrace lab aws-config` saying the
 * same; healed back to a lab that answers through both nodes and a configuration that is the
 * healthy one again. One lab for the file.
 */
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LAB, LAB_AWS_IDS, labStatus, labExec, injectFault, healFault } from '../../src/lab/index.js';
import { useLab } from '../helpers/lab.js';
import { main } from '../../src/cli/main.js';
import { memoryIO } from '../../src/cli/io.js';
import { ROOT_SKIP, curl } from './helpers.js';

const via = (alb: { public: string }, scheme: 'http' | 'https' = 'http', timeoutS = 8) =>
  curl(`${scheme}://${LAB.domain}/`, ['--resolve', `${LAB.domain}:${scheme === 'https' ? 443 : 80}:${alb.public}`, ...(scheme === 'https' ? ['--cacert', LAB.caFile] : [])], timeoutS);

/** `flowtrace lab aws-config DIR`: the files it writes, parsed. */
async function awsConfig(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ftt-labcfg-'));
  try {
    const io = memoryIO();
    assert.equal(await main(['lab', 'aws-config', dir], io), 0, io.err.join(''));
    assert.equal(io.out.join(''), `${dir}\n`, 'prints the folder, for "$(flowtrace lab aws-config)"');
    const read = (f: string): unknown => JSON.parse(readFileSync(path.join(dir, f), 'utf8'));
    return {
      listeners: read('describe-listeners.json'), routeTables: read('describe-route-tables.json'),
      instances: read('describe-instances.json'), targetHealth: read('describe-target-health.seqas-web.json'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('configuration faults (root)', { skip: ROOT_SKIP }, () => {
  let healthyConfig: Record<string, unknown> = {};
  useLab();
  before(async () => { healthyConfig = await awsConfig(); });

  async function withFault(name: string, checks: () => Promise<void>): Promise<void> {
    await injectFault(name);
    try {
      assert.deepEqual(labStatus().faults, [name]);
      await checks();
    } finally {
      await healFault(name);
    }
    for (const alb of [LAB.albA, LAB.albB]) assert.equal((await via(alb)).status, 200, `after heal ${name}, via ${alb.public}`);
    assert.deepEqual(await awsConfig(), healthyConfig, `after heal ${name}: the healthy configuration`);
  }

  test('lab aws-config describes both targets: two instances in two zones with their ENIs, the target group\'s two targets healthy; target-unhealthy: ec2-b unhealthy as the nodes\' checks find it', async () => {
    type Instances = { Reservations: Array<{ Instances: Array<{ InstanceId: string; PrivateIpAddress: string; Placement: { AvailabilityZone: string }; NetworkInterfaces: Array<{ PrivateIpAddress: string }> }> }> };
    type Health = { TargetHealthDescriptions: Array<{ Target: { Id: string; AvailabilityZone?: string }; TargetHealth: { State: string; Reason?: string } }> };
    const instances = (healthyConfig.instances as Instances).Reservations.flatMap((r) => r.Instances);
    assert.deepEqual(instances.map((i) => [i.PrivateIpAddress, i.Placement.AvailabilityZone, i.NetworkInterfaces.map((n) => n.PrivateIpAddress)]),
      LAB.targets.map((t) => [t.ens5, `${LAB.region}${t.zone}`, [t.ens5, t.secondEni]]));
    const health = (c: Record<string, unknown>) => (c.targetHealth as Health).TargetHealthDescriptions.map((d) => `${d.Target.Id} ${d.Target.AvailabilityZone} ${d.TargetHealth.State}${d.TargetHealth.Reason ? ` ${d.TargetHealth.Reason}` : ''}`);
    assert.deepEqual(health(healthyConfig), ['172.31.5.20 eu-west-1a healthy', '172.31.21.20 eu-west-1b healthy']);
    await injectFault('target-unhealthy');
    try {
      assert.deepEqual(health(await awsConfig()), ['172.31.5.20 eu-west-1a healthy', '172.31.21.20 eu-west-1b unhealthy Target.FailedHealthChecks']);
    } finally {
      await healFault('target-unhealthy');
      // ec2-b is in service again after 5 passing checks (~10 s): the next tests compare with the healthy configuration.
      for (let i = 0; i < 100 && !labStatus().describeTargetHealth.TargetHealthDescriptions.every((d) => d.TargetHealth.State === 'healthy'); i++) await new Promise((r) => setTimeout(r, 250));
    }
  });

  test('listener-missing: port 80 refused at once through both nodes, 443 answers; no HTTP:80 listener in describe-listeners', () => withFault('listener-missing', async () => {
    for (const alb of [LAB.albA, LAB.albB]) {
      const r = await via(alb);
      assert.equal(r.exit, 7, `curl via ${alb.public}: connection refused (${r.stderr})`);
      assert.equal((await via(alb, 'https')).status, 200, 'the HTTPS listener is still there');
    }
    const listening = (await labExec('alb-a', ['ss', '-ltnH'])).stdout;
    assert.doesNotMatch(listening, /:80\s/);
    assert.match(listening, /:443\s/);
    const cfg = await awsConfig();
    assert.deepEqual((cfg.listeners as { Listeners: Array<{ Protocol: string; Port: number }> }).Listeners.map((l) => `${l.Protocol}:${l.Port}`), ['HTTPS:443']);
  }));

  test('lb-subnet-no-route: through alb-b a connect timeout (its SYN-ACK has no way back), through alb-a 200; zone b\'s route table without 0.0.0.0/0', () => withFault('lb-subnet-no-route', async () => {
    const b = await via(LAB.albB, 'http', 3);
    assert.equal(b.exit, 28, `curl via alb-b: connect timeout (${b.stderr})`);
    assert.equal((await via(LAB.albA)).status, 200);
    const routes = (await labExec('alb-b', ['ip', 'route'])).stdout;
    assert.doesNotMatch(routes, /^default/m);
    assert.match(routes, /172\.31\.0\.0\/16 dev vpc0/, 'the VPC is still on-link: health checks go on');
    const tables = (await awsConfig()).routeTables as { RouteTables: Array<{ RouteTableId: string; Routes: Array<{ DestinationCidrBlock: string }> }> };
    const routesOf = (id: string) => tables.RouteTables.find((t) => t.RouteTableId === id)!.Routes.map((r) => r.DestinationCidrBlock);
    assert.deepEqual(routesOf(LAB_AWS_IDS.routeTablePublicB), [LAB.vpcCidr]);
    assert.deepEqual(routesOf(LAB_AWS_IDS.routeTablePublicA), [LAB.vpcCidr, '0.0.0.0/0']);
  }));
});
