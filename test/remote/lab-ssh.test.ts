/**
 * In the lab: `follow --server ssh://lab-ec2` — agentless, over the real sshd on the lab's EC2
 * node, reached from the client through the bastion (ProxyJump), as user ftlab with exactly
 * the documented sudoers lines and no flowtrace on its PATH — reads the same as
 * `follow --server netns:ec2` (the agent): the verdict and the journey, on the healthy path
 * and on faults of every kind (in the host, in the VPC, in the container's namespace, one ALB
 * node's path, the application).
 *
 * `conntrack-full` is not compared: a full conntrack table on the instance drops new
 * connections, ssh's too (as it would on a real instance): follow over ssh says the server
 * side could not be reached, and the test checks exactly that.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { labUp, labDown, injectFault, healFault, LAB, LAB_SSH, nsName, type LabFaultName } from '../../src/lab/index.js';
import { selfCliArgv } from '../../src/self.js';
import type { FollowResult } from '../../src/follow/index.js';
import { reading } from './reading.js';

let builtByUs = false;

before(async () => {
  const s = await labUp();
  builtByUs = !s.alreadyUp;
  await healFault();
});

after(async () => {
  await healFault().catch(() => {});
  if (builtByUs) await labDown();
});

function follow(server: string): Promise<{ code: number | null; result: FollowResult | null; stderr: string }> {
  const argv = ['ip', 'netns', 'exec', nsName('client'), 'env', `FLOWTRACE_SSH_CONFIG=${LAB_SSH.config}`, ...selfCliArgv(), 'follow', `http://${LAB.domain}/`,
    '--server', server, '--json', '--timeout', '5', '--lb-name', `${LAB.albA.public}=alb-a@${LAB.albA.zone}`, '--lb-name', `${LAB.albB.public}=alb-b@${LAB.albB.zone}`];
  return new Promise((resolve) => {
    const c = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    c.stdout.on('data', (b: Buffer) => out.push(b));
    c.stderr.on('data', (b: Buffer) => err.push(b));
    c.on('close', (code) => {
      let result: FollowResult | null = null;
      try { result = JSON.parse(Buffer.concat(out).toString('utf8')) as FollowResult; } catch { /* said by the assertion */ }
      resolve({ code, result, stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

/** Faults of every kind: where they act, and which way they break. */
const FAULTS: LabFaultName[] = [
  'reply-drop-host', // a host rule on the reply (iptables counters over sudo)
  'nacl-ephemeral', // the VPC drops the replies (outside the host: nothing there explains it)
  'container-no-route', // the container's namespace (sudo nsenter: its routes and counters)
  'app-localhost', // what listens in the container (sudo nsenter … ss -ltnHp)
  'no-route-back', // one ALB node's path (route lookups, partial failure)
  'rp-filter', // sysctls and kernel counters, the request's way
];

test('follow over ssh (agentless, through the bastion) reads the same as with the agent: healthy and six faults', { timeout: 600_000 }, async () => {
  const differ: string[] = [];
  for (const fault of [null, ...FAULTS]) {
    await healFault();
    if (fault) await injectFault(fault);
    const ssh = await follow(LAB_SSH.target);
    const agent = await follow('netns:ec2');
    const name = fault ?? 'healthy';
    assert.ok(ssh.result && agent.result, `${name}: ${ssh.stderr}${agent.stderr}`);
    assert.equal(ssh.result.server?.status, 'ok', `${name}: ${ssh.result.server?.error}`);
    assert.match(ssh.result.server?.filter ?? '', /agentless: tcpdump and host facts over ssh as ftlab/, `${name}: agentless (no flowtrace on the instance)`);
    assert.deepEqual(ssh.result.server?.host?.problems ?? [], [], `${name}: every documented sudoers line did its part`);
    if (JSON.stringify(reading(ssh.result, 'lab')) !== JSON.stringify(reading(agent.result, 'lab'))) {
      differ.push(`${name}:\n  ssh:   ${JSON.stringify(reading(ssh.result, 'lab'))}\n  agent: ${JSON.stringify(reading(agent.result, 'lab'))}`);
    }
    if (fault === null) assert.equal(ssh.code, 0, ssh.result.verdict.headline);
    else assert.notEqual(ssh.code, 0, `${name}: ${ssh.result.verdict.headline}`);
  }
  assert.deepEqual(differ, []);
});

test('conntrack-full: ssh to the instance is refused as any new connection; the server row says so, nothing is guessed', { timeout: 120_000 }, async () => {
  await healFault();
  await injectFault('conntrack-full');
  try {
    const ssh = await follow(LAB_SSH.target);
    assert.ok(ssh.result, ssh.stderr);
    assert.equal(ssh.result.server?.status, 'error');
    assert.match(ssh.result.server?.error ?? '', /^SSH_CONNECT|^SSH_FAILED|^SSH_LOST/);
    const rows = Object.fromEntries(ssh.result.verdict.rows.map((r) => [r.layer, r.status]));
    assert.equal(rows.container, 'not-checked');
  } finally {
    await healFault();
  }
});
