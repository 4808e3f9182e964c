/**
 * The benchmark's synthetic captures are real enough to trust the numbers: tcpdump finds no
 * bad checksums, tshark sees one TCP conversation and one GET/200 per exchange, the 3-copy
 * SLL2 variant shows each request on ens5 before NAT and on docker0/veth after it. Also the
 * BENCHMARKS.md renderer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateHttpCapture } from '../../bench/gen-http-capture.js';
import { renderBenchmarksMd, parseBenchmarksMd, type StoredSection } from '../../bench/run.js';
import { parseIfmap } from '../../src/capture/index.js';
import { parseInChunks } from './helpers.js';

const EXCHANGES = 150;

function inTemp<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(path.join(tmpdir(), 'fttcapture-bench-'));
  try { return fn(dir); } finally { rmSync(dir, { recursive: true, force: true }); }
}

const tshark = (file: string, ...args: string[]): string => execFileSync('tshark', ['-r', file, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 });

test('Ethernet capture: 10 packets per exchange, valid checksums, one conversation and one GET/200 each, time order', () => {
  inTemp((dir) => {
    const file = path.join(dir, 'gen.pcap');
    const result = generateHttpCapture({ exchanges: EXCHANGES, out: file, seed: 7 });
    assert.equal(result.packets, EXCHANGES * 10);
    const verbose = execFileSync('tcpdump', ['-nn', '-vv', '-r', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 });
    assert.doesNotMatch(verbose, /incorrect/, 'no bad IP/TCP checksum');
    assert.equal(tshark(file, '-q', '-z', 'conv,tcp').split('\n').filter((l) => /<->/.test(l)).length, EXCHANGES);
    const requests = tshark(file, '-Y', 'http.request.method == "GET"', '-T', 'fields', '-e', 'http.host', '-e', 'http.request.line').trim().split('\n');
    assert.equal(requests.length, EXCHANGES);
    assert.ok(requests.every((r) => r.startsWith('app.seqas.online\t') && /X-Amzn-Trace-Id: Root=1-[0-9a-f]{8}-[0-9a-f]{24}/.test(r)));
    assert.equal(tshark(file, '-Y', 'http.response.code == 200').trim().split('\n').length, EXCHANGES);
    const got = parseInChunks(readFileSync(file));
    for (let i = 1; i < got.packets.length; i++) {
      const a = got.packets[i - 1];
      const b = got.packets[i];
      assert.ok(a.tsSec < b.tsSec || (a.tsSec === b.tsSec && a.tsNsec <= b.tsNsec), `time order at #${i + 1}`);
    }
    // The same seed gives the same bytes.
    const again = path.join(dir, 'again.pcap');
    generateHttpCapture({ exchanges: EXCHANGES, out: again, seed: 7 });
    assert.deepEqual(readFileSync(again), readFileSync(file));
  });
});

test('SLL2 3-interface capture: requests on ens5 to the instance, on docker0 and veth DNAT\'ed to 172.17.0.2:8080', () => {
  inTemp((dir) => {
    const file = path.join(dir, 'gen3.pcap');
    const result = generateHttpCapture({ exchanges: 20, out: file, format: 'sll2-3if', seed: 3 });
    assert.equal(result.packets, 20 * 10 * 3);
    const ifmap = parseIfmap(readFileSync(result.ifmapFile!, 'utf8'));
    // Requests = client data segments (tshark would call the second post-NAT copy a retransmission, not HTTP).
    const rows = tshark(file, '-Y', 'tcp.len > 0 && tcp.srcport != 80 && tcp.srcport != 8080', '-T', 'fields', '-e', 'sll.ifindex', '-e', 'sll.pkttype', '-e', 'ip.dst', '-e', 'tcp.dstport', '-e', 'ip.id', '-e', 'tcp.seq_raw')
      .trim().split('\n').map((l) => l.split('\t'));
    assert.equal(rows.length, 60);
    const byInterface = new Map<string, string[][]>();
    for (const r of rows) byInterface.set(ifmap.get(Number(r[0]))!, [...(byInterface.get(ifmap.get(Number(r[0]))!) ?? []), r]);
    assert.deepEqual([...byInterface.keys()].sort(), ['docker0', 'ens5', 'veth1a2b3c4']);
    assert.ok(byInterface.get('ens5')!.every((r) => r[1] === '0' && r[2] === '10.0.1.10' && r[3] === '80'), 'ens5 In, before DNAT');
    for (const name of ['docker0', 'veth1a2b3c4']) {
      assert.ok(byInterface.get(name)!.every((r) => r[1] === '4' && r[2] === '172.17.0.2' && r[3] === '8080'), `${name} Out, after DNAT`);
    }
    // The three copies of one request share what NAT does not change: IP ID and sequence number.
    const key = (r: string[]): string => `${r[4]}/${r[5]}`;
    assert.deepEqual(byInterface.get('ens5')!.map(key), byInterface.get('docker0')!.map(key));
    assert.equal(execFileSync('tcpdump', ['-nn', '-vv', '-r', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).includes('incorrect'), false);
  });
});

test('BENCHMARKS.md: a header on how to reproduce, every section, failures marked', () => {
  const machine = { cpu: 'cpu', cores: 2, memoryGiB: 8, node: 'v20', kernel: 'Linux', loadAverage1m: 0.5 };
  const sections: StoredSection[] = [
    { id: 'read', title: 'read: decoding', issue: 2, command: 'npm run bench -- read', markdown: '| a | b |\n|---|---|\n| 1 | 2 |', data: {}, goalMet: true, measuredAt: '2026-11-23T20:00:00.000Z', machine },
    { id: 'trace', title: 'trace: time', issue: 5, command: 'npm run bench -- trace', markdown: 'old numbers', data: {}, goalMet: false, measuredAt: '2026-11-22T10:00:00.000Z', machine, error: 'lab busy' },
  ];
  const md = renderBenchmarksMd(sections);
  assert.match(md, /^# Benchmarks\n/);
  assert.match(md, /`npm run bench`/);
  assert.match(md, /\| \[read: decoding\]\(#read\) \| #2 \| yes \| 2026-11-23 20:00 UTC \| `npm run bench -- read` \|/);
  assert.match(md, /\| \[trace: time\]\(#trace\) \| #5 \| failed to run \|/);
  assert.match(md, /## read: decoding\n\nIssue #2 · `npm run bench -- read` · 2026-11-23 20:00 UTC · cpu, 2 cores/);
  assert.match(md, /\*\*The case failed to run:\*\* lab busy\n\nold numbers/);
  assert.ok(md.indexOf('## read') < md.indexOf('## trace'));
});

test('BENCHMARKS.md: sections with no bench/out result (a fresh clone) are kept verbatim from the committed file', () => {
  const machine = { cpu: 'cpu', cores: 2, memoryGiB: 8, node: 'v20', kernel: 'Linux', loadAverage1m: 0.5 };
  const section = (id: string, markdown: string): StoredSection => ({ id, title: `${id} title`, issue: 2, command: `npm run bench -- ${id}`, markdown, data: {}, goalMet: true, measuredAt: '2026-11-23T20:00:00.000Z', machine });
  const committed = renderBenchmarksMd([section('alpha', 'alpha numbers'), section('read', 'old read numbers'), section('zeta', 'zeta numbers\n\n| x |\n|---|')]);
  const kept = parseBenchmarksMd(committed);
  assert.deepEqual(kept.map((k) => k.id), ['alpha', 'read', 'zeta']);
  // Only `read` was re-run: alpha and zeta come back exactly as they were, in id order.
  const next = renderBenchmarksMd([section('read', 'new read numbers')], kept.filter((k) => k.id !== 'read'));
  assert.match(next, /new read numbers/);
  assert.doesNotMatch(next, /old read numbers/);
  for (const k of kept.filter((x) => x.id !== 'read')) {
    assert.ok(next.includes(k.body), k.id);
    assert.ok(next.includes(k.tableRow), k.id);
  }
  assert.ok(next.indexOf('## alpha') < next.indexOf('## read') && next.indexOf('## read') < next.indexOf('## zeta'));
  assert.equal(renderBenchmarksMd([], parseBenchmarksMd(next)), next, 'a render of only kept sections changes nothing');
});
