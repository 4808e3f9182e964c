/**
 * decode's one-pass fast path for flow (src/decode/tcp-fast.ts) against the full decoder: on
 * every packet of every capture of the tests, and on those packets with random bytes of
 * their headers changed (fast-check), whenever the fast path takes a packet it gives what
 * flow reads from the full decoder (flow/packet.ts flowPacketOf) — and on captures of the
 * common case it takes every packet.
 */
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import fc from 'fast-check';
import { readCapture, type PacketRecord } from '../../src/capture/index.js';
import { createDecoder, decodeTcpFast, newTcpFastFields } from '../../src/decode/index.js';
import { FlowPacketReader, flowPacketOf, newFlowPacket, type FlowPacket } from '../../src/flow/packet.js';
import { synFlood } from '../hostile/inputs.js';
import { Readable } from 'node:stream';

const DATA = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'data');

function captures(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? captures(p) : /\.pcap(ng)?$/.test(f) ? [p] : [];
  });
}

interface Sample { linkType: number; bytes: Uint8Array; record: PacketRecord }

async function samples(file: string): Promise<Sample[]> {
  const out: Sample[] = [];
  await readCapture(file, {
    onPacket: (r) => {
      const bytes = r.buffer !== undefined ? r.buffer.slice(r.offset!, r.offset! + r.capturedLength) : r.data.slice();
      out.push({ linkType: r.linkType, bytes, record: { ...r, buffer: undefined, offset: undefined, data: bytes } });
    },
  });
  return out;
}

const FIELDS: Array<keyof FlowPacket> = ['tsUs', 'interfaceId', 'sll2Ifindex', 'anyLink', 'dirCode', 'tcp', 'ipv6', 'ipId', 'src', 'dst', 'srcPort', 'dstPort',
  'seq', 'ack', 'flags', 'window', 'payloadLength', 'capturedPayloadLength', 'payloadOffset', 'payloadHash', 'payloadHashed'];

function pick(p: FlowPacket): Record<string, unknown> {
  return Object.fromEntries(FIELDS.map((k) => [k, p[k]]));
}

const decoder = createDecoder({ http: false, tcpOptions: false });
const full = newFlowPacket();
const reader = new FlowPacketReader(true);
const fast = newTcpFastFields();

/** Whether the fast path took it, and (if so) that it agrees with the full decoder. */
function check(s: Sample, label: string): boolean {
  const record = { ...s.record, data: s.bytes };
  const took = decodeTcpFast(s.linkType, s.bytes, 0, s.bytes.length, fast);
  const viaReader = pick(reader.read(record));
  const viaFull = pick(flowPacketOf(record, decoder.decode(s.linkType, s.bytes), full, true));
  if (!viaFull.tcp) {
    // Not analysed by flow: only `tcp` (and the record's fields) matter.
    assert.equal(viaReader.tcp, false, label);
    assert.equal(took, false, `${label}: the fast path took a packet flow does not analyse`);
    return took;
  }
  assert.deepEqual(viaReader, viaFull, label);
  return took;
}

test('on every packet of the tests\' captures: the same fields as the full decoder', async () => {
  const files = captures(DATA);
  assert.ok(files.length >= 20);
  let taken = 0;
  let total = 0;
  for (const file of files) {
    for (const [i, s] of (await samples(file)).entries()) {
      total++;
      if (check(s, `${path.basename(file)} #${i + 1}`)) taken++;
    }
  }
  assert.ok(taken > total / 2, `the fast path took ${taken} of ${total}`);
});

test('on a capture of the common case it takes every packet', async () => {
  let n = 0;
  await readCapture(Readable.from([synFlood(500)]), {
    onPacket: (r) => {
      n++;
      assert.equal(decodeTcpFast(r.linkType, r.buffer!, r.offset!, r.offset! + r.capturedLength, fast), true);
    },
  });
  assert.equal(n, 500);
});

test('property: header bytes changed at random — never a different reading', async () => {
  const pool: Sample[] = [];
  for (const file of captures(DATA)) pool.push(...(await samples(file)).slice(0, 40));
  fc.assert(fc.property(
    fc.integer({ min: 0, max: pool.length - 1 }),
    fc.array(fc.tuple(fc.integer({ min: 0, max: 79 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
    fc.integer({ min: 0, max: 80 }),
    (which, changes, cut) => {
      const s = pool[which];
      const bytes = s.bytes.slice(0, Math.max(0, s.bytes.length - (cut > 60 ? cut - 60 : 0)));
      for (const [at, v] of changes) if (at < bytes.length) bytes[at] = v;
      check({ ...s, bytes, record: { ...s.record, capturedLength: bytes.length, data: bytes } }, `#${which} ${JSON.stringify(changes)} cut ${cut}`);
    },
  ), { numRuns: 5000, seed: 13 });
});
