/**
 * Live: builds the EC2-host miniature (fttflow-<pid>-* namespaces: ens5, docker0, a veth,
 * Docker's DNAT for -p 80:8080, a real node:http app), has real curl send two requests on
 * one keep-alive connection with X-Amzn-Trace-Id and X-Forwarded-For, captures with real
 * `tcpdump -i any` in the ec2 namespace, and analyses that fresh capture through the CLI.
 * Needs root (namespaces, tcpdump); leaves no namespace or process behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { main } from '../../src/cli/main.js';
import { memoryIO } from '../../src/cli/io.js';
import type { FlowAnalysis } from '../../src/flow/index.js';
import { captureScenario, TRACE } from './make-captures.js';
import { isRoot, NS_PREFIX } from './netns-lab.js';

const skip = isRoot() ? false : 'needs root to build network namespaces and run tcpdump (run the tests as root)';

function ourNamespaces(): string[] {
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  return r.stdout.split('\n').map((l) => l.split(' ')[0]).filter((n) => n.startsWith(`${NS_PREFIX}${process.pid}-`));
}

test('live: a fresh -i any capture on the miniature EC2 host tells the seed story', { skip, timeout: 60_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fttflow-'));
  try {
    const pcap = path.join(dir, 'live.pcap');
    const { ifmap } = await captureScenario('seed-keepalive', pcap);
    assert.deepEqual(ourNamespaces(), [], 'namespaces removed after the capture');
    const ifmapFile = path.join(dir, 'live.ifmap');
    writeFileSync(ifmapFile, ifmap);

    const io = memoryIO();
    assert.equal(await main(['analyze', pcap, '--ifmap', ifmapFile, '--json'], io), 0, io.err.join(''));
    const a = JSON.parse(io.out.join('')) as FlowAnalysis;
    assert.equal(a.exchanges.length, 2);
    assert.deepEqual(a.exchanges.map((e) => e.request?.traceId?.raw), [TRACE.first, TRACE.second]);
    for (const ex of a.exchanges) {
      assert.equal(ex.response?.status, 200);
      assert.deepEqual(ex.request!.hops.map((h) => `${h.interface} ${h.direction}`), ['ens5 in', 'docker0 out', 'veth3f2a1b9 out']);
      assert.deepEqual(ex.response!.hops.map((h) => `${h.interface} ${h.direction}`), ['veth3f2a1b9 in', 'docker0 in', 'ens5 out']);
      assert.ok(ex.timeToFirstByteMs !== null && ex.timeToFirstByteMs > 0);
    }
    assert.deepEqual(a.natMappings.map((m) => `${m.kind} ${m.from} → ${m.to}`), ['dnat 172.31.5.20:80 → 172.17.0.2:8080']);
    assert.equal(a.duplicates.maxCopies, 3);
    assert.deepEqual(a.anomalies, []);

    const text = memoryIO();
    assert.equal(await main(['analyze', pcap, '--ifmap', ifmapFile, '--request', TRACE.second.split(';')[0]], text), 0);
    const out = text.out.join('');
    assert.match(out, /ALB node 172\.31\.0\.10 → ens5 → docker0 → veth3f2a1b9 → container 172\.17\.0\.2:8080 → HTTP 200 \([\d.]+ (ms|µs)\)/);
    assert.match(out, /seen 3×: -i any captures each packet on every interface it crosses/);
    assert.match(out, /GET \/chunked/);
    assert.doesNotMatch(out, /exchange 1 /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(ourNamespaces(), []);
  }
});

test('live: container app down → RST from the container, named', { skip, timeout: 60_000 }, async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fttflow-'));
  try {
    const pcap = path.join(dir, 'down.pcap');
    const { ifmap } = await captureScenario('app-down', pcap);
    writeFileSync(path.join(dir, 'down.ifmap'), ifmap);
    const io = memoryIO();
    assert.equal(await main(['analyze', pcap, '--ifmap', path.join(dir, 'down.ifmap'), '--json'], io), 0, io.err.join(''));
    const a = JSON.parse(io.out.join('')) as FlowAnalysis;
    assert.ok(a.anomalies.some((x) => x.kind === 'rst-from-server' && /container/.test(x.message)), JSON.stringify(a.anomalies));
  } finally {
    rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(ourNamespaces(), []);
  }
});
