/**
 * pcap reading, checked against tshark on captures made by tcpdump on loopback (see
 * test/data/capture/README.md), plus byte-swapped and hand-made variants.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { CORPUS_DIR, DATA_DIR, epochString, parseInChunks, pcapToBigEndian, tsharkFrames, Bytes, concat } from './helpers.js';
import { CaptureParser } from '../../src/capture/index.js';

const file = (name: string): string => path.join(DATA_DIR, name);

function assertMatchesTshark(name: string, filePath = file(name)): ReturnType<typeof parseInChunks> {
  const got = parseInChunks(readFileSync(filePath));
  assert.equal(got.error, null, `${name}: ${String(got.error)}`);
  const frames = tsharkFrames(filePath);
  assert.equal(got.packets.length, frames.length, `${name}: packet count`);
  assert.ok(frames.length > 0);
  for (let i = 0; i < frames.length; i++) {
    const p = got.packets[i];
    const f = frames[i];
    assert.equal(p.index, f.number);
    assert.equal(epochString(p), f.timeEpoch, `${name} #${f.number} time`);
    assert.equal(p.originalLength, f.len, `${name} #${f.number} len`);
    assert.equal(p.capturedLength, f.capLen, `${name} #${f.number} caplen`);
    assert.equal(p.dataHex.length / 2, p.capturedLength);
  }
  return got;
}

test('microsecond pcap from tcpdump -i lo: every timestamp and length as tshark reads them', () => {
  const got = assertMatchesTshark('http-lo.pcap');
  assert.equal(got.summary?.format, 'pcap');
  assert.deepEqual(got.interfaces, [{ id: 0, linkType: 1, name: null, description: null, snaplenBytes: 262144, tsUnitsPerSecond: 1e6, fcsLengthBytes: null }]);
  assert.ok(got.packets.every((p) => p.tsNsec % 1000 === 0 && p.linkType === 1 && p.interfaceId === 0));
  assert.equal(got.summary?.bytes, readFileSync(file('http-lo.pcap')).length);
  assert.equal(got.summary?.truncated, null);
});

test('nanosecond pcap (--time-stamp-precision=nano) keeps the nanoseconds', () => {
  const nano = assertMatchesTshark('http-lo-nano.pcap');
  assert.equal(nano.interfaces[0].tsUnitsPerSecond, 1e9);
  assert.ok(nano.packets.some((p) => p.tsNsec % 1000 !== 0), 'some timestamps have sub-microsecond digits');
  // Same traffic captured at the same time in µs: same bytes, times within a millisecond.
  const micro = parseInChunks(readFileSync(file('http-lo.pcap')));
  assert.deepEqual(nano.packets.map((p) => p.dataHex), micro.packets.map((p) => p.dataHex));
  for (let i = 0; i < micro.packets.length; i++) {
    // Two tcpdump processes, two sockets, each stamped on its own: close, not identical.
    const microNs = BigInt(micro.packets[i].tsSec) * 1_000_000_000n + BigInt(micro.packets[i].tsNsec);
    const nanoNs = BigInt(nano.packets[i].tsSec) * 1_000_000_000n + BigInt(nano.packets[i].tsNsec);
    const diff = microNs > nanoNs ? microNs - nanoNs : nanoNs - microNs;
    assert.ok(diff < 1_000_000n, `#${i + 1}: ${microNs} vs ${nanoNs}`);
  }
});

test('snaplen-cut packets (tcpdump -s 80): caplen < len and data is the prefix of the whole packet', () => {
  const cut = assertMatchesTshark('http-lo-snap80.pcap');
  const whole = parseInChunks(readFileSync(file('http-lo.pcap')));
  assert.equal(cut.interfaces[0].snaplenBytes, 80);
  let cutCount = 0;
  for (let i = 0; i < cut.packets.length; i++) {
    const c = cut.packets[i];
    assert.ok(c.capturedLength <= 80);
    assert.equal(c.originalLength, whole.packets[i].originalLength);
    assert.ok(whole.packets[i].dataHex.startsWith(c.dataHex));
    if (c.capturedLength < c.originalLength) cutCount++;
  }
  assert.ok(cutCount >= 2, 'the HTTP request and response were cut');
});

test('LINUX_SLL2 pcap from tcpdump -i any carries link type 276', () => {
  const got = assertMatchesTshark('tcp-any-sll2.pcap');
  assert.equal(got.interfaces[0].linkType, 276);
  assert.ok(got.packets.every((p) => p.linkType === 276));
});

test('big-endian pcap (µs and ns) reads exactly like the little-endian original', () => {
  for (const name of ['http-lo.pcap', 'http-lo-nano.pcap', 'http-lo-snap80.pcap']) {
    const original = readFileSync(file(name));
    const swapped = pcapToBigEndian(original);
    assert.notDeepEqual(swapped.subarray(0, 4), original.subarray(0, 4));
    const a = parseInChunks(original);
    const b = parseInChunks(swapped);
    assert.equal(b.error, null);
    assert.deepEqual(b.packets, a.packets, name);
    assert.deepEqual(b.interfaces, a.interfaces, name);
  }
});

test('big-endian pcaps of the tcpdump corpus match tshark', () => {
  for (const name of ['isup.pcap', 'pptp.pcap', 'slow-ossp.pcap', 'ipoib.pcap']) assertMatchesTshark(name, path.join(CORPUS_DIR, name));
});

test('records longer than the file snaplen are cut to it exactly as libpcap cuts them (tcpdump -r F -w - as the oracle)', () => {
  // Hostile corpus files whose records exceed the header's snaplen (802_15_4_beacon is big-endian).
  for (const name of ['802_15_4-data.pcap', '802_15_4_beacon.pcap', 'q933-heapoverflow-2.pcap', 'dccp_options-oobr.pcap', 'vrrp-vrrp_print-oobr-2.pcap']) {
    const file = path.join(CORPUS_DIR, name);
    const ours = parseInChunks(readFileSync(file));
    assert.equal(ours.error, null);
    assert.equal(ours.warnings.filter((w) => /cut to the snaplen, as libpcap does/.test(w)).length, 1, name);
    const rewritten = execFileSync('tcpdump', ['-r', file, '-w', '-'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const libpcap = parseInChunks(rewritten);
    assert.deepEqual(ours.packets.map((p) => [p.capturedLength, p.originalLength, p.dataHex]), libpcap.packets.map((p) => [p.capturedLength, p.originalLength, p.dataHex]), name);
    assert.ok(ours.packets.every((p) => p.capturedLength <= ours.interfaces[0].snaplenBytes));
  }
});

test('snaplen 0 means libpcap\'s maximum: nothing is cut', () => {
  const header = new Bytes(true).u32(0xa1b2c3d4).u16(2).u16(4).u32(0).u32(0).u32(0).u32(1);
  const rec = new Bytes(true).u32(1).u32(0).u32(300).u32(300).raw(new Uint8Array(300).fill(7));
  const got = parseInChunks(concat(header.bytes(), rec.bytes()));
  assert.equal(got.packets[0].capturedLength, 300);
  assert.deepEqual(got.warnings, []);
});

test('the FCS bits of the link-type field are split off the link type', () => {
  const header = new Bytes(true).u32(0xa1b2c3d4).u16(2).u16(4).u32(0).u32(0).u32(65535)
    .u32((2 << 28) | 0x04000000 | 1); // FCS present, 2 × 16-bit words, LINKTYPE_ETHERNET
  const packet = new Bytes(true).u32(1700000000).u32(123456).u32(4).u32(4).raw([1, 2, 3, 4]);
  const got = parseInChunks(concat(header.bytes(), packet.bytes()));
  assert.equal(got.error, null);
  assert.equal(got.interfaces[0].linkType, 1);
  assert.equal(got.interfaces[0].fcsLengthBytes, 4);
  assert.equal(got.packets[0].linkType, 1);
  assert.equal(got.packets[0].tsNsec, 123456000);
});

test("Kuznetzov's modified pcap (magic 0xa1b2cd34): the 8 extra header bytes are skipped", () => {
  const header = new Bytes(false).u32(0xa1b2cd34).u16(2).u16(4).u32(0).u32(0).u32(65535).u32(1);
  const rec = (ts: number, data: number[]): Uint8Array => new Bytes(false).u32(ts).u32(5).u32(data.length).u32(data.length + 10)
    .u32(7).u16(0x0800).u8(0).u8(0).raw(data).bytes();
  const got = parseInChunks(concat(header.bytes(), rec(1, [9, 9]), rec(2, [1, 2, 3])));
  assert.equal(got.error, null);
  assert.deepEqual(got.packets.map((p) => [p.tsSec, p.tsNsec, p.dataHex, p.originalLength]), [[1, 5000, '0909', 12], [2, 5000, '010203', 13]]);
});

test('out-of-range sub-second fields are kept as written for the printer (tcpdump: "(invalid us)"), tsNsec stays in range', () => {
  // tcpdump's own test captures for this; their .out shows `17:16:10.1000000 (invalid us)`.
  for (const [name, raw] of [['timestamp_invalid_micro.pcap', [null, 1_000_000, 2_147_483_648]], ['timestamp_invalid_nano.pcap', [null, 1_000_000_000, 2_147_483_648]]] as const) {
    const seen: Array<[sec: number, nsec: number, invalid: number | null | undefined]> = [];
    const parser = new CaptureParser({ onPacket(p) { seen.push([p.tsSec, p.tsNsec, p.tsInvalidFraction]); } });
    parser.push(readFileSync(path.join(CORPUS_DIR, name)));
    parser.end();
    assert.deepEqual(seen.map((t) => t[2]), raw, name);
    assert.equal(seen[1][0], seen[2][0], `${name}: the seconds are the file's, nothing carried`);
    assert.ok(seen.every((t) => t[1] <= 999_999_999));
    assert.equal(seen[1][1], 999_999_999);
  }
});
