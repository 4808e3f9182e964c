/**
 * File-level errors: each is a CaptureFormatError (or InputError for unreadable inputs)
 * that says what and where; a file cut mid-record yields the packets before the cut plus
 * `summary.truncated` and a warning.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readCapture, CaptureParser } from '../../src/capture/index.js';
import { CaptureFormatError, InputError, EXIT } from '../../src/errors.js';
import { DATA_DIR, parseInChunks, concat, shb, idb, epb, Bytes } from './helpers.js';

const httpPcap = readFileSync(path.join(DATA_DIR, 'http-lo.pcap'));
const httpPcapng = readFileSync(path.join(DATA_DIR, 'http-lo.pcapng'));

function formatError(bytes: Uint8Array): CaptureFormatError {
  const got = parseInChunks(bytes);
  assert.ok(got.error instanceof CaptureFormatError, `expected CaptureFormatError, got ${String(got.error)}`);
  assert.equal(got.error.exitCode, EXIT.input);
  assert.equal(got.error.code, 'CAPTURE_FORMAT');
  assert.ok(!got.error.message.includes('\n'), 'one line');
  return got.error;
}

test('bad magic: "not a pcap or pcapng file (magic 0x…)", with a hint for text and gzip', () => {
  // Text is read as tcpdump's output (capture/text/); text that is none of it is this error.
  const text = formatError(new TextEncoder().encode('12:00:01 a log line, not a capture\n'));
  assert.equal(text.message, 'not a pcap or pcapng file (magic 0x31323a30), nor tcpdump text (line 1: "12:00:01 a log line, not a capture")');
  assert.match(text.hint, /text tcpdump prints/);
  const gzip = formatError(Uint8Array.of(0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0));
  assert.match(gzip.message, /magic 0x1f8b0800/);
  assert.match(gzip.hint, /gunzip/);
  // Detected as soon as 4 bytes arrived, without waiting for more.
  const parser = new CaptureParser({ onPacket() {} });
  assert.throws(() => parser.push(Uint8Array.of(0xde, 0xad, 0xbe, 0xef)), /magic 0xdeadbeef/);
  assert.throws(() => parser.push(Uint8Array.of(1)), /magic 0xdeadbeef/, 'stays failed');
});

test('empty input and inputs too short for a header are clear errors', () => {
  assert.match(formatError(new Uint8Array(0)).message, /the input is empty \(0 bytes\)/);
  assert.match(formatError(Uint8Array.of(0xd4, 0xc3)).message, /only 2 bytes, too short/);
  assert.match(formatError(httpPcap.subarray(0, 20)).message, /ends inside a pcap file header at byte 0 \(20 bytes present, at least 24 needed\)/);
  assert.match(formatError(httpPcapng.subarray(0, 40)).message, /ends inside a pcapng section header block at byte 0/);
});

test('a pcap cut mid-record: the packets before the cut, truncated set, a warning', () => {
  const whole = parseInChunks(httpPcap);
  const cutAt = httpPcap.length - 30;
  const got = parseInChunks(httpPcap.subarray(0, cutAt), [100]);
  assert.equal(got.error, null);
  assert.equal(got.packets.length, whole.packets.length - 1);
  assert.deepEqual(got.packets, whole.packets.slice(0, -1));
  const lastStart = httpPcap.length - 16 - whole.packets[whole.packets.length - 1].capturedLength;
  assert.deepEqual(got.summary?.truncated?.atByte, lastStart);
  assert.match(got.summary!.truncated!.message, new RegExp(`inside a pcap record at byte ${lastStart}`));
  assert.equal(got.warnings.length, 1);
  assert.match(got.warnings[0], /the 23 packets before it were read/);
  // Cut inside a record header too.
  const inHeader = parseInChunks(httpPcap.subarray(0, lastStart + 5));
  assert.equal(inHeader.packets.length, whole.packets.length - 1);
  assert.match(inHeader.summary!.truncated!.message, /\(5 bytes present, at least 16 needed\)/);
});

test('a pcapng cut mid-block: the packets before the cut, truncated set', () => {
  const whole = parseInChunks(httpPcapng);
  for (let cut = 200; cut < httpPcapng.length; cut += 397) {
    const got = parseInChunks(httpPcapng.subarray(0, cut), [64]);
    assert.equal(got.error, null, String(got.error));
    assert.deepEqual(got.packets, whole.packets.slice(0, got.packets.length));
    assert.ok(got.summary?.truncated !== null);
    assert.match(got.summary!.truncated!.message, /the input ends inside a pcapng/);
  }
});

test('impossible pcapng block lengths name the byte offset and the block type', () => {
  const head = concat(shb(true), idb(true, 1, 0));
  const at = head.length;
  const blockHeader = (type: number, len: number): Uint8Array => new Bytes(true).u32(type).u32(len).u32(0).bytes();
  const notMultiple = formatError(concat(head, blockHeader(6, 45), new Uint8Array(40)));
  assert.equal(notMultiple.message, `pcapng enhanced packet block at byte ${at}: block length 45 is impossible (not a multiple of 4)`);
  assert.equal(notMultiple.facts.atByte, at);
  assert.match(formatError(concat(head, blockHeader(6, 8))).message, /enhanced packet block at byte \d+: block length 8 is impossible \(too small/);
  assert.match(formatError(concat(head, blockHeader(1, 0x7ffffffc))).message, /interface description block at byte \d+: block length 2147483644 is impossible \(more than the sane maximum/);
  assert.match(formatError(concat(head, blockHeader(6, 16), new Uint8Array(4))).message, /enhanced packet block at byte \d+: block length 16 is too small \(at least 32/);
  const shbBad = new Bytes(true).u32(0x0a0d0d0a).u32(28).u32(0x11223344).bytes();
  assert.match(formatError(shbBad).message, /section header block at byte 0: byte-order magic is 0x44332211/);
});

test('an EPB whose captured length does not fit its block, or names an unknown interface, is an error', () => {
  const head = concat(shb(true), idb(true, 1, 0));
  const fat = new Bytes(true).u32(6).u32(36).u32(0).u32(0).u32(0).u32(100).u32(100).u32(0).u32(36).bytes();
  assert.match(formatError(concat(head, fat)).message, /enhanced packet block at byte \d+: captured length 100 does not fit in the block \(room for 4 bytes\)/);
  assert.match(formatError(concat(head, epb(true, 3, 0n, Uint8Array.of(1)))).message, /packet on interface 3, but the section describes 1 interface/);
  assert.match(formatError(concat(shb(true), epb(true, 0, 0n, Uint8Array.of(1)))).message, /describes 0 interface/);
});

test('a pcap record claiming an absurd captured length is an error naming its offset', () => {
  const header = httpPcap.subarray(0, 24);
  const rec = new Bytes(true).u32(0).u32(0).u32(0x7fffffff).u32(60).bytes();
  assert.equal(formatError(concat(header, rec)).message, 'pcap record at byte 24: captured length 2147483647 is impossible (more than 268435456)');
});

test('pcapng major version other than 1 is refused', () => {
  const v2 = Uint8Array.from(shb(true));
  v2[12] = 2;
  assert.match(formatError(v2).message, /pcapng version 2\.0 is not supported/);
});

test('readCapture: a file, a stream, and unreadable paths as InputError', async () => {
  const count = async (input: string | NodeJS.ReadableStream): Promise<number> => {
    let n = 0;
    await readCapture(input, { onPacket() { n++; } });
    return n;
  };
  assert.equal(await count(path.join(DATA_DIR, 'http-lo.pcapng')), 24);
  assert.equal(await count(Readable.from([httpPcap.subarray(0, 7), httpPcap.subarray(7, 1000), httpPcap.subarray(1000)])), 24);
  await assert.rejects(readCapture('/nonexistent/x.pcap', { onPacket() {} }), (e: unknown) => e instanceof InputError && /no such file/.test(e.message) && e.exitCode === EXIT.input);
  await assert.rejects(readCapture(DATA_DIR, { onPacket() {} }), (e: unknown) => e instanceof InputError && /is a directory/.test(e.message));
  const dir = mkdtempSync(path.join(tmpdir(), 'fttcapture-'));
  try {
    const empty = path.join(dir, 'empty.pcap');
    writeFileSync(empty, '');
    await assert.rejects(readCapture(empty, { onPacket() {} }), /the input is empty/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('readCapture: an AbortSignal stops the read', async () => {
  const controller = new AbortController();
  let n = 0;
  const stream = new Readable({ read() {} });
  stream.push(httpPcap);
  const reading = readCapture(stream, { onPacket() { n++; if (n === 24) controller.abort(new Error('enough')); } }, { signal: controller.signal });
  await assert.rejects(reading, /enough/);
  controller.abort();
  await assert.rejects(readCapture(path.join(DATA_DIR, 'http-lo.pcap'), { onPacket() {} }, { signal: controller.signal }));
});

test("readCapture('-') reads stdin (a pipe into a child process)", () => {
  const script = `import { readCapture } from ${JSON.stringify(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/capture/index.ts'))};
let n = 0; const s = await readCapture('-', { onPacket() { n++; } }); console.log(n, s.format, s.bytes);`;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { input: httpPcapng, encoding: 'utf8', timeout: 60_000 });
  assert.equal(child.status, 0, child.stderr);
  assert.equal(child.stdout.trim(), `24 pcapng ${httpPcapng.length}`);
});

test("readCapture('-') on a terminal is an InputError, not an endless wait (a pty from script(1))", () => {
  const module = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/capture/index.ts');
  const script = `import { readCapture } from ${JSON.stringify(module)}; try { await readCapture('-', { onPacket() {} }); console.log('read'); } catch (e) { console.log(e.code + ': ' + e.message); }`;
  const command = `${process.execPath} --import tsx --input-type=module -e ${JSON.stringify(script).replace(/\$/g, '\\$')}`;
  const child = spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
  assert.equal(child.status, 0, child.stderr);
  assert.match(child.stdout, /INPUT: stdin is a terminal, not a capture/);
});
