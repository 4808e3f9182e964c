/**
 * Live capture in a miniature EC2 host (./host.ts: namespaces `fttcap-*`, a real HTTP server
 * behind Docker's DNAT, a real curl): the request is seen on ens5, docker0 and the veth with
 * the right names and directions, the filter followed NAT, the veth is attributed to the
 * container's namespace and process, `flowtrace capture -w` writes pcapng that tshark reads
 * with interface names and comments, and nothing is left running.
 * Needs root (namespaces, tcpdump); skipped otherwise, saying so.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { startCapture, type LivePacket } from '../../src/capture/live/index.js';
import { createDecoder, formatIPv4 } from '../../src/decode/index.js';
import { selfCliArgv } from '../../src/self.js';
import { buildMiniHost, isRoot, leftovers, HOST, type MiniHost } from './host.js';

const SKIP = isRoot() ? false : 'needs root: builds network namespaces and runs tcpdump';
const TRACE = '1-67891233-abcdef012345678912345678';
let host: MiniHost | null = null;

before(async () => { if (!SKIP) host = await buildMiniHost('fttcap-'); });
after(() => { host?.destroy(); });

function alive(pid: number | null): boolean {
  if (pid === null) return false;
  try { process.kill(pid, 0); return true; } catch { return false; }
}

interface Seen { iface: string | null; dir: string; src: string; dst: string; sport: number; dport: number; syn: boolean; ack: boolean; http: boolean }

function describe(packets: LivePacket[]): Seen[] {
  const d = createDecoder();
  return packets.map((p) => {
    const x = d.decode(p.linkType, p.data);
    return {
      iface: p.interfaceName, dir: p.direction,
      src: x.ipVersion === 4 ? formatIPv4(x.ipv4.src) : '', dst: x.ipVersion === 4 ? formatIPv4(x.ipv4.dst) : '',
      sport: x.tcp.present ? x.tcp.srcPort : 0, dport: x.tcp.present ? x.tcp.dstPort : 0,
      syn: x.tcp.present && (x.tcp.flags & 0x02) !== 0, ack: x.tcp.present && (x.tcp.flags & 0x10) !== 0,
      http: x.tcp.present && x.tcp.payloadLength > 0,
    };
  });
}

test('a request through DNAT is seen on ens5, docker0 and the veth with names and directions', { skip: SKIP }, async () => {
  const h = host!;
  const cap = await startCapture({ netns: h.ec2, filter: 'tcp port 80' });
  assert.ok(alive(cap.pid), 'tcpdump runs while capturing');
  assert.equal(cap.effectiveFilter, '(tcp port 80 or tcp port 8080)');
  assert.match(cap.notes.join('\n'), /following NAT: port 80 → 172\.17\.0\.2:8080, capturing port 80 or 8080/);
  // Container attribution: the veth leads to eth0 in fttcap-ctr, where the node server runs.
  const veth = cap.veths.find((v) => v.veth === HOST.veth);
  assert.ok(veth, 'the veth is attributed');
  assert.equal(veth.bridge, 'docker0');
  assert.equal(veth.peerName, 'eth0');
  assert.equal(veth.namespaceName, h.ctr);
  assert.deepEqual(veth.peerAddresses, ['172.17.0.2/16']);
  assert.ok(veth.processes.some((p) => p.pid === h.server.pid && p.comm === 'node'), JSON.stringify(veth.processes));

  const body = h.request(TRACE);
  assert.match(body, new RegExp(TRACE));
  const result = await cap.stop();
  assert.equal(result.stoppedBy, 'stop');
  assert.equal(alive(cap.pid), false, 'tcpdump is gone after stop');
  assert.ok(result.kernel, 'tcpdump reported its counters');
  assert.equal(result.kernel.droppedByKernel, 0);

  const seen = describe(result.packets);
  const syns = seen.filter((s) => s.syn && !s.ack);
  assert.deepEqual(syns.map((s) => `${s.iface} ${s.dir} ${s.dst}:${s.dport}`), [
    `ens5 in ${HOST.ens5Address}:80`,
    `docker0 out ${HOST.containerAddress}:8080`,
    `${HOST.veth} out ${HOST.containerAddress}:8080`,
  ]);
  const synAcks = seen.filter((s) => s.syn && s.ack);
  assert.deepEqual(synAcks.map((s) => `${s.iface} ${s.dir} ${s.src}:${s.sport}`), [
    `${HOST.veth} in ${HOST.containerAddress}:8080`,
    `docker0 in ${HOST.containerAddress}:8080`,
    `ens5 out ${HOST.ens5Address}:80`,
  ]);
  // Every interface name comes from the capture namespace's own map.
  assert.deepEqual([...new Set(seen.map((s) => s.iface))].sort(), ['docker0', 'ens5', HOST.veth].sort());
});

test('-c stops after N packets; --for stops after the duration; limits leave no tcpdump behind', { skip: SKIP }, async () => {
  const h = host!;
  const cap = await startCapture({ netns: h.ec2, filter: 'tcp port 80', maxPackets: 3, attribute: false });
  h.request(TRACE);
  const r = await cap.done;
  assert.equal(r.stoppedBy, 'count');
  assert.equal(r.packets.length, 3);
  assert.equal(alive(cap.pid), false);
  const timed = await startCapture({ netns: h.ec2, filter: 'tcp port 80', maxDurationMs: 300, attribute: false });
  const t = await timed.done;
  assert.equal(t.stoppedBy, 'duration');
  assert.equal(alive(timed.pid), false);
});

test('-i restricts to the named interfaces (kernel-side, by ifindex) and keeps SLL2 directions', { skip: SKIP }, async () => {
  const h = host!;
  const cap = await startCapture({ netns: h.ec2, interfaces: [HOST.veth], filter: 'tcp port 80', attribute: false });
  assert.match(cap.effectiveFilter, /^\(ifindex \d+\) and \(\(tcp port 80 or tcp port 8080\)\)$/);
  h.request(TRACE);
  const r = await cap.stop();
  assert.ok(r.packets.length >= 6);
  assert.ok(r.packets.every((p) => p.interfaceName === HOST.veth));
  assert.deepEqual([...new Set(r.packets.map((p) => p.direction))].sort(), ['in', 'out']);
});

test('flowtrace capture -w writes pcapng that tshark reads with interface names, directions and comments', { skip: SKIP }, async () => {
  const h = host!;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fttcap-'));
  const file = path.join(dir, 'ec2.pcapng');
  try {
    const argv = ['ip', 'netns', 'exec', h.ec2, ...selfCliArgv(), 'capture', '-w', file, '--for', '4s', 'port', '80'];
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    // Wait for the capture to listen (its first stderr line), then send the request.
    for (let i = 0; i < 200 && !err.includes('Ctrl-C to stop'); i++) await new Promise((r) => setTimeout(r, 50));
    assert.match(err, /following NAT: port 80 → 172\.17\.0\.2:8080/);
    assert.match(err, new RegExp(`${HOST.veth} \\[docker0\\] → eth0 172\\.17\\.0\\.2/16 in namespace ${h.ctr} \\(pid \\d+ node\\)`));
    h.request(TRACE, ['Authorization: Bearer not-for-the-agent']);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0, err);
    // Live lines like tcpdump -i any -nn, then the analysis.
    assert.match(out, / ens5\s+In\s+IP 172\.31\.0\.10\.\d+ > 172\.31\.5\.20\.80: Flags \[S\]/);
    assert.match(out, / docker0\s+Out\s+IP 172\.31\.0\.10\.\d+ > 172\.17\.0\.2\.8080: Flags \[S\]/);
    assert.match(out, /GET \/hello → 200/);
    assert.match(err, /(\d+) packets captured \(tcpdump wrote \1\), \d+ received by filter, 0 dropped by kernel \(stopped by duration\)/);

    const t = spawnSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.interface_name', '-e', 'frame.packet_flags_direction', '-e', 'tcp.flags.str', '-e', 'frame.comment'], { encoding: 'utf8' });
    assert.equal(t.status, 0, t.stderr);
    const rows = t.stdout.trim().split('\n').map((l) => l.split('\t'));
    assert.deepEqual([...new Set(rows.map((r) => r[0]))].sort(), ['docker0', 'ens5', HOST.veth].sort());
    const synRows = rows.filter((r) => /^·+S·$/.test(r[2]) || r[2] === '··········S·');
    assert.deepEqual(synRows.map((r) => r[0]), ['ens5', 'docker0', HOST.veth]);
    // The request head carries flowtrace's hop comment on each interface.
    const commented = rows.filter((r) => (r[3] ?? '').includes(`trace ${TRACE} request hop`));
    assert.deepEqual(commented.map((r) => r[0]), ['ens5', 'docker0', HOST.veth]);
    assert.match(commented[0][3], /request hop 1\/3 \(ens5 In → docker0 Out → veth1a2b3c4 Out\)/);
    // Time order across interfaces.
    const times = spawnSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.time_epoch'], { encoding: 'utf8' }).stdout.trim().split('\n').map(Number);
    assert.deepEqual(times, [...times].sort((a, b) => a - b));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('nothing is left behind: no fttcap- namespace after teardown, no tcpdump of ours', { skip: SKIP }, () => {
  const h = host!;
  h.destroy();
  host = null;
  assert.deepEqual(leftovers('fttcap-'), []);
  const lsns = spawnSync('lsns', ['-t', 'net', '-o', 'PID,COMMAND', '-n'], { encoding: 'utf8' }).stdout;
  assert.ok(!/fttcap-/.test(lsns));
});
