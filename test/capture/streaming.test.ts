/**
 * The push parser's streaming contract: any chunking gives the same result (down to 1-byte
 * chunks), records inside a chunk are views of it (no copy), and hostile bytes — random or
 * mutated real captures — only ever produce CaptureFormatError (fast-check).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { CaptureParser } from '../../src/capture/index.js';
import { CaptureFormatError } from '../../src/errors.js';
import { DATA_DIR, parseInChunks, concat, shb, idb, epb, spb, isb, pcapngToBigEndian, pcapToBigEndian } from './helpers.js';

const handMade = concat(shb(false, [[1, 'c']]), idb(false, 1, 6, [[2, 'x'], [9, Uint8Array.of(9)]]), epb(false, 0, 123456789012n, Uint8Array.of(1, 2, 3, 4, 5), 5, [[1, 'hi']]),
  spb(false, 9, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9)), isb(false, 0, 5n), shb(true), idb(true, 276, 0), epb(true, 0, 5n, new Uint8Array(0)));
const samples: Array<[string, Uint8Array]> = [
  ...readdirSync(DATA_DIR).filter((n) => /\.pcap(ng)?$/.test(n)).map((n): [string, Uint8Array] => [n, readFileSync(path.join(DATA_DIR, n))]),
  ['hand-made two sections, big then little endian', handMade],
  ['big-endian pcapng', pcapngToBigEndian(readFileSync(path.join(DATA_DIR, 'multi-if.pcapng')))],
  ['big-endian pcap', pcapToBigEndian(readFileSync(path.join(DATA_DIR, 'http-lo-nano.pcap')))],
];

test('1-byte chunks give exactly the result of one chunk, for every test capture', () => {
  for (const [name, bytes] of samples) {
    const whole = parseInChunks(bytes);
    assert.equal(whole.error, null, name);
    assert.ok(whole.packets.length > 0, name);
    const bytewise = parseInChunks(bytes, [1]);
    assert.deepEqual(bytewise, whole, name);
  }
});

test('random chunkings give identical results (fast-check)', () => {
  fc.assert(fc.property(
    fc.integer({ min: 0, max: samples.length - 1 }),
    fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 40 }),
    (which, sizes) => {
      const [, bytes] = samples[which];
      assert.deepEqual(parseInChunks(bytes, sizes), parseInChunks(bytes));
    },
  ), { numRuns: 300 });
});

test('truncated at any point: the packets before, then truncated or a header error, never anything else', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: samples.length - 1 }), fc.nat(), fc.integer({ min: 1, max: 64 }), (which, cutSeed, chunk) => {
    const [, bytes] = samples[which];
    const cut = cutSeed % (bytes.length + 1);
    const whole = parseInChunks(bytes);
    const got = parseInChunks(bytes.subarray(0, cut), [chunk]);
    if (got.error !== null) {
      assert.ok(got.error instanceof CaptureFormatError, String(got.error));
      return;
    }
    assert.deepEqual(got.packets, whole.packets.slice(0, got.packets.length));
    const truncated = got.summary?.truncated ?? null;
    // A cut exactly between records is a shorter, complete file; anywhere else it is truncated.
    if (truncated !== null) {
      assert.ok(truncated.atByte < cut);
      assert.equal(got.warnings.filter((w) => w.includes('ends inside')).length, 1);
    } else {
      assert.equal(got.summary?.bytes, cut);
    }
  }), { numRuns: 300 });
});

test('a record inside one chunk is a view of that chunk; a straddling record is assembled elsewhere', () => {
  const bytes = readFileSync(path.join(DATA_DIR, 'http-lo.pcap'));
  const chunk = Uint8Array.from(bytes);
  const buffers: boolean[] = [];
  const parser = new CaptureParser({ onPacket(p) { buffers.push(p.data.buffer === chunk.buffer); } });
  parser.push(chunk);
  parser.end();
  assert.ok(buffers.length === 24 && buffers.every(Boolean), 'zero-copy views');
  const first = Uint8Array.from(bytes.subarray(0, 60));
  const rest = Uint8Array.from(bytes.subarray(60));
  const where: string[] = [];
  const split = new CaptureParser({ onPacket(p) { where.push(p.data.buffer === first.buffer ? 'first' : p.data.buffer === rest.buffer ? 'rest' : 'scratch'); } });
  split.push(first);
  split.push(rest);
  split.end();
  assert.deepEqual(where.slice(0, 3), ['scratch', 'rest', 'rest']);
});

test('the packet record object is reused (the documented contract consumers rely on)', () => {
  const seen = new Set<object>();
  const parser = new CaptureParser({ onPacket(p) { seen.add(p); } });
  parser.push(readFileSync(path.join(DATA_DIR, 'multi-if.pcapng')));
  assert.equal(parser.end().packets, 28);
  assert.equal(seen.size, 1);
});

function onlyFormatErrors(bytes: Uint8Array, chunk: number): void {
  const got = parseInChunks(bytes, [chunk]);
  if (got.error !== null && !(got.error instanceof CaptureFormatError)) throw got.error;
  for (const p of got.packets) {
    assert.equal(p.dataHex.length / 2, p.capturedLength);
    assert.ok(p.tsNsec >= 0 && p.tsNsec <= 999_999_999);
  }
}

test('fuzz: random bytes behind a valid magic only ever give CaptureFormatError (fast-check)', () => {
  const magics = [Uint8Array.of(0xd4, 0xc3, 0xb2, 0xa1), Uint8Array.of(0xa1, 0xb2, 0x3c, 0x4d), Uint8Array.of(0x34, 0xcd, 0xb2, 0xa1), Uint8Array.of(0x0a, 0x0d, 0x0d, 0x0a), new Uint8Array(0)];
  fc.assert(fc.property(fc.integer({ min: 0, max: magics.length - 1 }), fc.uint8Array({ maxLength: 600 }), fc.integer({ min: 1, max: 97 }), (m, tail, chunk) => {
    onlyFormatErrors(concat(magics[m], tail), chunk);
  }), { numRuns: 2000 });
});

test('fuzz: real captures with mutated bytes only ever give CaptureFormatError (fast-check)', () => {
  fc.assert(fc.property(
    fc.integer({ min: 0, max: samples.length - 1 }),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 12 }),
    fc.integer({ min: 1, max: 4096 }),
    (which, mutations, chunk) => {
      const bytes = Uint8Array.from(samples[which][1]);
      for (const [at, value] of mutations) bytes[at % bytes.length] = value;
      onlyFormatErrors(bytes, chunk);
    },
  ), { numRuns: 1500 });
});

test('memory stays flat: 256 MiB pushed in fresh 1 MiB chunks, the parser keeps none of them', () => {
  // A periodic stream of 116-byte records; 1 MiB is not a multiple of 116, so chunk
  // boundaries fall inside records (and inside record headers) all the time.
  const recordBytes = 16 + 100;
  const chunkBytes = 1 << 20;
  const pattern = new Uint8Array(chunkBytes + 2 * recordBytes);
  const view = new DataView(pattern.buffer);
  for (let off = 0; off + 16 <= pattern.length; off += recordBytes) {
    view.setUint32(off + 8, 100, true);
    view.setUint32(off + 12, 100, true);
  }
  const header = Uint8Array.from([0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0]);
  let packets = 0;
  const parser = new CaptureParser({ onPacket() { packets++; } });
  parser.push(header);
  const chunks = 256;
  for (let k = 0; k < chunks; k++) {
    const phase = (k * chunkBytes) % recordBytes;
    parser.push(pattern.slice(phase, phase + chunkBytes)); // a fresh copy every time
  }
  const streamBytes = chunks * chunkBytes;
  const summary = parser.end();
  assert.equal(summary.bytes, header.length + streamBytes);
  assert.equal(packets, Math.floor(streamBytes / recordBytes));
  assert.notEqual(summary.truncated, null, 'the stream stops mid-record');
  // 256 MiB went through; what is still held is far less (chunks are not retained).
  const heldMiB = process.memoryUsage().arrayBuffers / 2 ** 20;
  assert.ok(heldMiB < 64, `array buffers held after the run: ${heldMiB.toFixed(0)} MiB`);
});
