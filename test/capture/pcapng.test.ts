/**
 * pcapng reading: captures made by dumpcap/editcap/mergecap (test/data/capture/README.md)
 * checked against tshark, byte-swapped big-endian copies, and hand-made blocks for what no
 * tool here writes (SPB, base-2 if_tsresol, if_tsoffset, epb_flags, unknown/custom blocks).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  DATA_DIR, epochString, parseInChunks, pcapngToBigEndian, tsharkFrames, concat, shb, idb, epb, spb, isb, block,
  u8opt, u32opt, u64opt, Bytes,
} from './helpers.js';

const file = (name: string): string => path.join(DATA_DIR, name);

function assertMatchesTshark(name: string): ReturnType<typeof parseInChunks> {
  const got = parseInChunks(readFileSync(file(name)));
  assert.equal(got.error, null, `${name}: ${String(got.error)}`);
  const frames = tsharkFrames(file(name));
  assert.equal(got.packets.length, frames.length, `${name}: packet count`);
  for (let i = 0; i < frames.length; i++) {
    const p = got.packets[i];
    const f = frames[i];
    assert.equal(epochString(p), f.timeEpoch, `${name} #${f.number} time`);
    assert.equal(p.originalLength, f.len);
    assert.equal(p.capturedLength, f.capLen);
    assert.equal(p.interfaceId, f.interfaceId, `${name} #${f.number} interface`);
    assert.equal(p.comment ?? '', f.comment, `${name} #${f.number} comment`);
  }
  return got;
}

test('dumpcap pcapng: if_name, nanosecond if_tsresol, statistics block, times as tshark reads them', () => {
  const got = assertMatchesTshark('http-lo.pcapng');
  assert.equal(got.summary?.format, 'pcapng');
  assert.equal(got.interfaces.length, 1);
  assert.equal(got.interfaces[0].name, 'lo');
  assert.equal(got.interfaces[0].linkType, 1);
  assert.equal(got.interfaces[0].tsUnitsPerSecond, 1e9);
  assert.equal(got.stats.length, 1, 'dumpcap writes one ISB at the end');
  assert.equal(got.stats[0].interfaceId, 0);
  assert.equal(got.stats[0].receivedPackets, got.packets.length);
  assert.equal(got.stats[0].droppedByInterface, 0);
  assert.equal(got.stats[0].deliveredToUser, null, 'dumpcap does not write isb_usrdeliv');
  // (dumpcap 4.0 stamps its ISB in microseconds although its IDB says if_tsresol 9; the
  // reader follows the specification, so that one timestamp is read as 1000× too small.)
  assert.equal(got.sections.length, 1);
  // The same traffic as the tcpdump pcap: identical bytes.
  const pcap = parseInChunks(readFileSync(file('http-lo.pcap')));
  assert.deepEqual(got.packets.map((p) => p.dataHex), pcap.packets.map((p) => p.dataHex));
});

test('editcap comments: the section comment and per-packet opt_comment', () => {
  const got = assertMatchesTshark('comments.pcapng');
  assert.deepEqual(got.sections, [{ index: 0, comment: 'flowtrace test section' }]);
  assert.equal(got.packets[0].comment, 'first packet');
  assert.equal(got.packets[1].comment, null);
  assert.equal(got.packets[2].comment, 'third packet');
});

test('editcap conversion of a nanosecond pcap: if_tsresol 9', () => {
  const got = assertMatchesTshark('http-lo-nano.pcapng');
  assert.equal(got.interfaces[0].tsUnitsPerSecond, 1e9);
  const pcap = parseInChunks(readFileSync(file('http-lo-nano.pcap')));
  assert.deepEqual(got.packets.map((p) => [p.tsSec, p.tsNsec]), pcap.packets.map((p) => [p.tsSec, p.tsNsec]));
});

test('mergecap: two interfaces with their own link types, packets in time order', () => {
  const got = assertMatchesTshark('multi-if.pcapng');
  assert.deepEqual(got.interfaces.map((i) => [i.id, i.linkType]), [[0, 1], [1, 276]]);
  for (const p of got.packets) assert.equal(p.linkType, got.interfaces[p.interfaceId].linkType);
  assert.ok(got.packets.some((p) => p.interfaceId === 0) && got.packets.some((p) => p.interfaceId === 1));
});

test('a second section header resets the interfaces (ids restart at 0)', () => {
  const got = assertMatchesTshark('two-sections.pcapng');
  assert.deepEqual(got.sections.map((s) => s.index), [0, 1]);
  assert.deepEqual(got.interfaces.map((i) => [i.id, i.linkType]), [[0, 1], [0, 276]]);
  const sll2 = got.packets.filter((p) => p.linkType === 276);
  assert.equal(sll2.length, 4);
  assert.ok(sll2.every((p) => p.interfaceId === 0));
});

test('big-endian copies of real pcapng files read exactly like the originals', () => {
  for (const name of ['http-lo.pcapng', 'comments.pcapng', 'multi-if.pcapng', 'two-sections.pcapng', 'http-lo-nano.pcapng']) {
    const original = readFileSync(file(name));
    const a = parseInChunks(original);
    const b = parseInChunks(pcapngToBigEndian(original));
    assert.equal(b.error, null, `${name}: ${String(b.error)}`);
    assert.deepEqual(b.packets, a.packets, name);
    assert.deepEqual(b.interfaces, a.interfaces, name);
    assert.deepEqual(b.stats, a.stats, name);
    assert.deepEqual(b.sections, a.sections, name);
  }
});

for (const le of [true, false]) {
  const order = le ? 'little-endian' : 'big-endian';

  test(`${order} hand-made file: base-2 and base-10 if_tsresol, if_tsoffset, if_description, epb_flags`, () => {
    const bytes = concat(
      shb(le, [[4, 'flowtrace test']]),
      idb(le, 1, 0, [[2, 'ens5'], [3, 'the instance NIC'], [9, u8opt(0x80 | 20)], [14, u64opt(le, 1000n)]]), // 2^-20 s units, +1000 s
      idb(le, 276, 128, [[2, 'any'], [9, u8opt(3)]]), // milliseconds
      epb(le, 0, (5n << 20n) + 524288n, Uint8Array.of(1, 2, 3), 3, [[2, u32opt(le, 1)], [1, 'in']]),
      epb(le, 1, 7_250n, Uint8Array.of(4, 5, 6, 7, 8), 60, [[2, u32opt(le, 2)]]),
      epb(le, 0, 0n, new Uint8Array(0)),
    );
    const got = parseInChunks(bytes);
    assert.equal(got.error, null, String(got.error));
    assert.deepEqual(got.interfaces.map((i) => [i.name, i.description, i.tsUnitsPerSecond, i.snaplenBytes]), [
      ['ens5', 'the instance NIC', 2 ** 20, 0], ['any', null, 1000, 128],
    ]);
    assert.deepEqual(got.packets.map((p) => [p.interfaceId, p.linkType, p.tsSec, p.tsNsec, p.dataHex, p.originalLength, p.epbDirection, p.comment]), [
      [0, 1, 1005, 500_000_000, '010203', 3, 1, 'in'],
      [1, 276, 7, 250_000_000, '0405060708', 60, 2, null],
      [0, 1, 1000, 0, '', 0, 0, null],
    ]);
  });

  test(`${order} SPB: interface 0, length bounded by the IDB snaplen and by the block`, () => {
    const bytes = concat(
      shb(le), idb(le, 101, 4),
      spb(le, 10, Uint8Array.of(0x45, 0, 0, 10, 0xee, 0xee, 0xee, 0xee)), // snaplen 4 cuts it
      spb(le, 2, Uint8Array.of(0xaa, 0xbb)),
    );
    const got = parseInChunks(bytes);
    assert.equal(got.error, null, String(got.error));
    assert.deepEqual(got.packets.map((p) => [p.interfaceId, p.linkType, p.capturedLength, p.originalLength, p.dataHex, p.tsSec]), [
      [0, 101, 4, 10, '4500000a', 0], [0, 101, 2, 2, 'aabb', 0],
    ]);
  });

  test(`${order} NRB, custom and unknown blocks are skipped; ISB counters and the obsolete packet block are read`, () => {
    const nrb = block(le, 4, (b) => b.u16(1).u16(8).raw([127, 0, 0, 1]).raw([0x6c, 0x6f, 0, 0]).u16(0).u16(0));
    const custom = block(le, 0x00000bad, (b) => b.u32(32473).raw([1, 2, 3]));
    const unknown = block(le, 0x12345678, (b) => b.u32(0xdeadbeef));
    const obsolete = block(le, 2, (b) => b.u16(0).u16(0).u32(0).u32(3_000_000).u32(2).u32(2).raw([0xca, 0xfe]));
    const bytes = concat(
      shb(le), nrb, idb(le, 1, 65535), custom,
      epb(le, 0, 1_500_000n, Uint8Array.of(9)), unknown, obsolete,
      isb(le, 0, 4_000_000n, [[4, u64opt(le, 12n)], [5, u64opt(le, 1n)], [7, u64opt(le, 2n)], [8, u64opt(le, 9n)]]),
    );
    const got = parseInChunks(bytes);
    assert.equal(got.error, null, String(got.error));
    assert.deepEqual(got.packets.map((p) => [p.tsSec, p.tsNsec, p.dataHex]), [[1, 500_000_000, '09'], [3, 0, 'cafe']]);
    assert.deepEqual(got.stats, [{ interfaceId: 0, tsSec: 4, tsNsec: 0, receivedPackets: 12, droppedByInterface: 1, droppedByOs: 2, deliveredToUser: 9 }]);
    assert.deepEqual(got.warnings, []);
  });
}

test('nanosecond timestamps beyond 2^53 are split exactly (no floating-point rounding)', () => {
  const ts = 1_795_463_205_697_287_103n; // ns since the epoch: more than 2^53
  const got = parseInChunks(concat(shb(true), idb(true, 1, 0, [[9, u8opt(9)]]), epb(true, 0, ts, Uint8Array.of(1))));
  assert.deepEqual([got.packets[0].tsSec, got.packets[0].tsNsec], [1_795_463_205, 697_287_103]);
  const pico = parseInChunks(concat(shb(true), idb(true, 1, 0, [[9, u8opt(10)]]), epb(true, 0, ts * 10n + 7n, Uint8Array.of(1))));
  assert.deepEqual([pico.packets[0].tsSec, pico.packets[0].tsNsec], [1_795_463_205, 697_287_103]);
});

test('an option that runs past its block is a warning, not an error; the packet is still delivered', () => {
  const bad = new Bytes(true).u32(6).u32(40).u32(0).u32(0).u32(0).u32(1).u32(1).raw([7, 0, 0, 0]).u16(1).u16(200).u32(40).bytes();
  const got = parseInChunks(concat(shb(true), idb(true, 1, 0), bad));
  assert.equal(got.error, null);
  assert.equal(got.packets.length, 1);
  assert.match(got.warnings.join('\n'), /option 1 runs past the end of the block/);
});

test('timestamp split is exact for every 64-bit value and resolution up to 2^36 units/s (fast-check against BigInt)', async () => {
  const fc = (await import('fast-check')).default;
  const { splitTimestamp, unitsPerSecondOfTsresol } = await import('../../src/capture/timestamp.js');
  const out = { sec: 0, nsec: 0 };
  fc.assert(fc.property(
    fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    fc.constantFrom(0, 3, 6, 9, 10, 0x80 | 10, 0x80 | 20, 0x80 | 30, 0x80 | 36),
    (value, tsresol) => {
      const units = unitsPerSecondOfTsresol(tsresol)!;
      splitTimestamp(Number(value >> 32n), Number(value & 0xffffffffn), units, out);
      const sec = value / BigInt(units);
      const rem = value % BigInt(units);
      const nsec = (rem * 1_000_000_000n) / BigInt(units);
      if (sec < BigInt(Number.MAX_SAFE_INTEGER)) assert.equal(out.sec, Number(sec), `sec of ${value} at ${units}/s`);
      assert.ok(Math.abs(out.nsec - Number(nsec)) <= 1, `nsec of ${value} at ${units}/s: ${out.nsec} vs ${nsec}`);
      assert.ok(out.nsec >= 0 && out.nsec <= 999_999_999);
    },
  ), { numRuns: 3000 });
});

test('an EPB longer than its interface snaplen is read, with one warning (libpcap refuses the file)', () => {
  const got = parseInChunks(concat(shb(true), idb(true, 1, 4), epb(true, 0, 0n, Uint8Array.of(1, 2, 3, 4, 5, 6)), epb(true, 0, 0n, Uint8Array.of(1, 2, 3, 4, 5))));
  assert.equal(got.error, null);
  assert.deepEqual(got.packets.map((p) => p.capturedLength), [6, 5]);
  assert.equal(got.warnings.length, 1);
  assert.match(got.warnings[0], /captured length 6 is more than interface 0's snaplen 4; read anyway/);
});
