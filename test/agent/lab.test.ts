/**
 * In the lab (engineer C's replica): the client requests through an ALB node while
 * flowtrace captures in ec2 — the request is seen on ens5, docker0 and the container's veth
 * with the right names and directions, the pcapng is checked by tshark, the agent started
 * through `netns:ec2` finds the request by its trace id, rejects bad messages and keeps
 * working, and no process is left behind.
 *
 * The lab is brought up in before() and taken down in after() — unless it was already up
 * when this file started (another run's lab: taking it down would break that run).
 * Needs root; skipped otherwise, saying so.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { labExec, nsName, dropAlbIdleConnections, LAB } from '../../src/lab/index.js';
import { useLab } from '../helpers/lab.js';
import { connectAgent, type ErrorMessage } from '../../src/agent/index.js';
import { selfCliArgv } from '../../src/self.js';

const SKIP = process.getuid?.() === 0 ? false : 'needs root: the lab is built from network namespaces';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fttagent-lab-'));

useLab();
after(() => { fs.rmSync(tmp, { recursive: true, force: true }); });

function newRoot(): string {
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(Math.random() * 16).toString(16)).join('');
  return `1-${Math.floor(Date.now() / 1000).toString(16)}-${hex(24)}`;
}

/**
 * curl from the client through ALB node a, with a trace id the ALB keeps, until the request
 * lands on ec2 (ec2-a), where the capture runs: the node takes its two targets in turn (a try
 * that went to ec2-b is not in ec2's capture). Each on a new connection to the target (the
 * node's kept-alive ones closed first), so that the capture sees its handshake.
 */
async function clientRequest(root: string): Promise<void> {
  for (let i = 0; i < 4; i++) {
    await dropAlbIdleConnections();
    const r = await labExec('client', ['curl', '-sS', '--max-time', '8', '-w', '\n%{http_code}',
      '--resolve', `${LAB.domain}:80:${LAB.albA.public}`, '-H', `X-Amzn-Trace-Id: Root=${root}`, `http://${LAB.domain}/`]);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.at(-1), '200', `curl: ${r.stderr}`);
    if ((JSON.parse(lines.slice(0, -1).join('\n')) as { instance: string }).instance === LAB.targets[0]!.name) return;
  }
  throw new Error(`no request through alb-a reached ${LAB.targets[0]!.name} in 4 tries`);
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

test('flowtrace capture in ec2 sees the request on ens5 → docker0 → veth; tshark reads the pcapng with names', { skip: SKIP }, async () => {
  const root = newRoot();
  const file = path.join(tmp, 'ec2.pcapng');
  const argv = ['ip', 'netns', 'exec', nsName('ec2'), ...selfCliArgv(), 'capture', '-w', file, '--for', '5s', 'port', '80'];
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  for (let i = 0; i < 200 && !err.includes('Ctrl-C to stop'); i++) await new Promise((r) => setTimeout(r, 50));
  const tcpdumpPid = Number(/tcpdump pid (\d+)/.exec(err)?.[1]);
  assert.ok(tcpdumpPid > 0, err);
  assert.match(err, /following NAT: port 80 → 172\.17\.0\.2:8080, capturing port 80 or 8080/);
  assert.match(err, new RegExp(`${LAB.containerVeth} \\[docker0\\] → eth0 172\\.17\\.0\\.2/16 in namespace ${nsName('container')}`));
  await clientRequest(root);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal(code, 0, err);
  assert.equal(alive(tcpdumpPid), false, 'tcpdump is gone');
  // Live lines: the request's SYN on each interface, with the DNAT'ed destination inside.
  assert.match(out, new RegExp(` ens5\\s+In\\s+IP 172\\.31\\.\\d+\\.10\\.\\d+ > 172\\.31\\.5\\.20\\.80: Flags \\[S\\]`));
  assert.match(out, / docker0\s+Out\s+IP 172\.31\.\d+\.10\.\d+ > 172\.17\.0\.2\.8080: Flags \[S\]/);
  assert.match(out, new RegExp(` ${LAB.containerVeth}\\s+Out\\s+IP 172\\.31\\.\\d+\\.10\\.\\d+ > 172\\.17\\.0\\.2\\.8080: Flags \\[S\\]`));
  assert.match(out, new RegExp(`trace ${root}`));

  // (not `http.request`: tshark takes the veth copy for a retransmission of the docker0 one,
  // same tuple and seq, and does not dissect it as HTTP)
  const t = spawnSync('tshark', ['-r', file, '-Y', `frame contains "${root}" and frame contains "GET / HTTP/1.1"`, '-T', 'fields', '-e', 'frame.interface_name', '-e', 'frame.packet_flags_direction', '-e', 'frame.comment'], { encoding: 'utf8' });
  assert.equal(t.status, 0, t.stderr);
  const rows = t.stdout.trim().split('\n').map((l) => l.split('\t'));
  assert.deepEqual(rows.map((r) => r[0]), ['ens5', 'docker0', LAB.containerVeth]);
  assert.deepEqual(rows.map((r) => r[1]), ['0x00000001', '0x00000002', '0x00000002']); // inbound, outbound, outbound
  assert.ok(rows.every((r) => r[2].includes(`trace ${root} request hop`)), JSON.stringify(rows));
});

test('the agent through netns:ec2 finds the request by trace id; bad messages get errors and it goes on', { skip: SKIP }, async () => {
  const agent = await connectAgent('netns:ec2');
  try {
    assert.ok(agent.hello.interfaces.some((i) => i.name === 'ens5'));
    for (const [line, code] of [['not json', 'MALFORMED'], ['{"type":"start","ports":[0]}', 'BAD_PORT'], ['{"type":"start","interfaces":["ens5 docker0"]}', 'BAD_INTERFACE'], ['{"type":"nope"}', 'UNKNOWN_TYPE']] as const) {
      agent.sendRaw(line);
      const m = await agent.next();
      assert.equal((m as ErrorMessage).code, code);
    }
    const root = newRoot();
    const started = await agent.start({ ports: [80], traceId: root, pcapng: true });
    assert.equal(started.filter, '(port 80 or port 8080)');
    await clientRequest(newRoot()); // another request first: not the one asked for
    await clientRequest(root);
    const r = await agent.stop();
    assert.equal(r.found, true, JSON.stringify(r.exchanges));
    const ex = r.exchange as { request: { traceId: { root: string }; xForwardedFor: string; hops: Array<{ interface: string; direction: string }> }; response: { status: number } };
    assert.equal(ex.request.traceId.root, root);
    assert.equal(ex.request.xForwardedFor, LAB.client);
    assert.equal(ex.response.status, 200);
    assert.deepEqual(ex.request.hops.map((h) => `${h.interface} ${h.direction}`), ['ens5 in', 'docker0 out', `${LAB.containerVeth} out`]);
    assert.ok(r.pcapng && r.pcapng.length > 0);
    assert.equal(r.packets.droppedByKernel, 0);
    // The typed reading (capabilities flow-analysis, host-facts): the analysis with milestones
    // and packet logs, the ports followed, the host's facts with the container behind the veth.
    assert.ok(agent.hello.capabilities.includes('flow-analysis') && agent.hello.capabilities.includes('host-facts'));
    assert.deepEqual(started.ports, [80, 8080]);
    assert.deepEqual(r.ports, [80, 8080]);
    const conn = r.analysis!.connections.find((c) => c.exchangeIds.some((id) => r.analysis!.exchanges.find((e) => e.id === id)?.request?.traceId?.root === root))!;
    assert.ok(conn, 'the request\'s connection is in the analysis');
    assert.deepEqual(conn.milestones.filter((m) => m.kind === 'syn-ack').map((m) => m.hops.map((h) => `${h.interface} ${h.direction}`)), [[`${LAB.containerVeth} in`, 'docker0 in', 'ens5 out']]);
    assert.ok(conn.packetLog.length >= 7, 'every packet of the connection logged');
    const hostNs = r.host!.namespaces.find((n) => n.ns.role === 'host')!;
    assert.ok(hostNs.links.some((l) => l.name === 'docker0' && l.kind === 'bridge'));
    const ctr = r.host!.namespaces.find((n) => n.ns.role === 'container')!;
    assert.equal(ctr.ns.veth, LAB.containerVeth);
    assert.ok(ctr.listeners.some((l) => l.port === LAB.container.port));
    assert.ok(ctr.routes.some((q) => q.result === 'unicast'), 'the container\'s route back to the load balancer was looked up');
    assert.ok(hostNs.netfilter.some((x) => x.kind === 'policy' && x.chain === 'FORWARD'), 'the FORWARD policy with its counter');
  } finally {
    await agent.close();
  }
  assert.equal(agent.pid !== null && alive(agent.pid), false, 'the agent exited');
  const left = spawnSync('ip', ['netns', 'pids', nsName('ec2')], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean).map(Number);
  for (const pid of left) {
    const comm = fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    assert.notEqual(comm, 'tcpdump', `tcpdump ${pid} left in ft-ec2`);
  }
});
