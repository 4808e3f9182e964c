/**
 * PcapngWriter: what it writes is read back by our reader AND by real tshark (interface
 * names, comments, directions, timestamps), including a re-write of a real capture.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PcapngWriter, writePcapng, LINKTYPE } from '../../src/capture/index.js';
import { UsageError } from '../../src/errors.js';
import { DATA_DIR, parseInChunks, epochString, tsharkFrames, type CollectedPacket } from './helpers.js';

const http = parseInChunks(readFileSync(path.join(DATA_DIR, 'http-lo.pcap')));
const sll2 = parseInChunks(readFileSync(path.join(DATA_DIR, 'tcp-any-sll2.pcap')));

function withTempFile<T>(bytes: Uint8Array, fn: (file: string) => T): T {
  const dir = mkdtempSync(path.join(tmpdir(), 'fttcapture-'));
  try {
    const file = path.join(dir, 'out.pcapng');
    writeFileSync(file, bytes);
    return fn(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function tsharkFields(file: string, fields: string[]): string[][] {
  const out = execFileSync('tshark', ['-r', file, '-T', 'fields', '-E', 'separator=|', ...fields.flatMap((f) => ['-e', f])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return out.split('\n').filter((l) => l.length > 0).map((l) => l.split('|'));
}

const toPacket = (p: CollectedPacket, interfaceId: number, extra: { comment?: string | null; epbDirection?: number } = {}) => ({
  interfaceId, tsSec: p.tsSec, tsNsec: p.tsNsec, data: Buffer.from(p.dataHex, 'hex'), originalLength: p.originalLength, ...extra,
});

test('three interfaces with names, comments and directions: tshark and our reader agree with what was written', () => {
  const writer = new PcapngWriter({ comment: 'flowtrace writer test' });
  assert.equal(writer.addInterface({ name: 'ens5', linkType: LINKTYPE.LINUX_SLL2 }), 0);
  assert.equal(writer.addInterface({ name: 'docker0', linkType: LINKTYPE.LINUX_SLL2, description: 'the Docker bridge' }), 1);
  assert.equal(writer.addInterface({ name: 'lo', linkType: LINKTYPE.ETHERNET, snaplenBytes: 65535 }), 2);
  writer.writePacket(toPacket(sll2.packets[0], 0, { comment: 'hop 1: ens5 in', epbDirection: 1 }));
  writer.writePacket(toPacket(sll2.packets[1], 1, { comment: 'hop 2: docker0 out', epbDirection: 2 }));
  writer.writePacket(toPacket(http.packets[3], 2));
  const bytes = writer.bytes();
  assert.equal(bytes.length, writer.size);

  const back = parseInChunks(bytes, [7]);
  assert.equal(back.error, null);
  assert.deepEqual(back.sections, [{ index: 0, comment: 'flowtrace writer test' }]);
  assert.deepEqual(back.interfaces.map((i) => [i.name, i.linkType, i.tsUnitsPerSecond, i.description, i.snaplenBytes]), [
    ['ens5', 276, 1e9, null, 262144], ['docker0', 276, 1e9, 'the Docker bridge', 262144], ['lo', 1, 1e9, null, 65535],
  ]);
  assert.deepEqual(back.packets.map((p) => [p.interfaceId, p.comment, p.epbDirection, p.dataHex, p.tsSec, p.tsNsec]), [
    [0, 'hop 1: ens5 in', 1, sll2.packets[0].dataHex, sll2.packets[0].tsSec, sll2.packets[0].tsNsec],
    [1, 'hop 2: docker0 out', 2, sll2.packets[1].dataHex, sll2.packets[1].tsSec, sll2.packets[1].tsNsec],
    [2, null, 0, http.packets[3].dataHex, http.packets[3].tsSec, http.packets[3].tsNsec],
  ]);

  withTempFile(bytes, (file) => {
    const rows = tsharkFields(file, ['frame.interface_name', 'frame.comment', 'frame.packet_flags_direction', 'frame.time_epoch', 'frame.len', 'frame.protocols']);
    assert.equal(rows.length, 3);
    assert.deepEqual(rows.map((r) => r[0]), ['ens5', 'docker0', 'lo']);
    assert.deepEqual(rows.map((r) => r[1]), ['hop 1: ens5 in', 'hop 2: docker0 out', '']);
    assert.match(rows[0][2], /^(0x0*1|1)$/, 'inbound');
    assert.match(rows[1][2], /^(0x0*2|2)$/, 'outbound');
    assert.equal(rows[0][3], epochString(sll2.packets[0]));
    assert.equal(rows[2][3], epochString(http.packets[3]));
    assert.match(rows[0][5], /sll.*ip.*tcp/, 'tshark decodes the SLL2 packet');
    assert.match(rows[2][5], /eth.*ip.*tcp.*http/, 'tshark decodes the HTTP request');
  });
});

test('re-writing a real capture keeps every packet, timestamp and length (tshark reads both the same)', () => {
  const original = path.join(DATA_DIR, 'http-lo.pcap');
  const bytes = writePcapng([{ name: 'lo', linkType: LINKTYPE.ETHERNET }], http.packets.map((p) => toPacket(p, 0)));
  const back = parseInChunks(bytes);
  assert.deepEqual(back.packets.map((p) => [p.dataHex, p.tsSec, p.tsNsec, p.originalLength]), http.packets.map((p) => [p.dataHex, p.tsSec, p.tsNsec, p.originalLength]));
  withTempFile(bytes, (file) => {
    const ours = tsharkFrames(file);
    const theirs = tsharkFrames(original);
    assert.deepEqual(ours.map((f) => [f.timeEpoch, f.len, f.capLen]), theirs.map((f) => [f.timeEpoch, f.len, f.capLen]));
    assert.ok(ours.every((f) => f.interfaceName === 'lo'));
  });
});

test('writePcapng sorts packets by time; the sink receives the blocks as written; microsecond resolution; statistics', () => {
  const later = { interfaceId: 0, tsSec: 20, tsNsec: 5, data: Uint8Array.of(2) };
  const earlier = { interfaceId: 1, tsSec: 10, tsNsec: 999_999_999, data: Uint8Array.of(1) };
  const sorted = parseInChunks(writePcapng([{ name: 'a', linkType: 1 }, { name: 'b', linkType: 1 }], [later, earlier]));
  assert.deepEqual(sorted.packets.map((p) => p.dataHex), ['01', '02']);

  const chunks: Uint8Array[] = [];
  const w = new PcapngWriter({ sink: (b) => chunks.push(b), application: 'test-app' });
  w.addInterface({ name: 'us', linkType: 101, resolution: 'us' });
  w.writePacket({ interfaceId: 0, tsSec: 1_700_000_000, tsNsec: 123_456_789, data: Uint8Array.of(0x45) });
  w.writeStatistics({ interfaceId: 0, tsSec: 1_700_000_001, tsNsec: 0, receivedPackets: 1, droppedByInterface: null, droppedByOs: 0, deliveredToUser: 1 });
  assert.equal(chunks.length, 4, 'SHB, IDB, EPB, ISB');
  assert.throws(() => w.bytes(), UsageError);
  const back = parseInChunks(Buffer.concat(chunks));
  assert.equal(back.interfaces[0].tsUnitsPerSecond, 1e6);
  assert.deepEqual([back.packets[0].tsSec, back.packets[0].tsNsec], [1_700_000_000, 123_456_000]);
  assert.deepEqual(back.stats, [{ interfaceId: 0, tsSec: 1_700_000_001, tsNsec: 0, receivedPackets: 1, droppedByInterface: null, droppedByOs: 0, deliveredToUser: 1 }]);
  withTempFile(Buffer.concat(chunks), (file) => {
    const appl = execFileSync('capinfos', [file], { encoding: 'utf8' });
    assert.match(appl, /Capture application:\s+test-app/);
  });
});

test('a packet on an interface that was not added is a usage error, not a corrupt file', () => {
  const w = new PcapngWriter();
  assert.throws(() => w.writePacket({ interfaceId: 0, tsSec: 0, tsNsec: 0, data: new Uint8Array(0) }), /only 0 interface\(s\) were added/);
});
