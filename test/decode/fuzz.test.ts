/**
 * Property-based fuzzing (fast-check) of every decoder and of the printer: random bytes and
 * mutations of real packets, for every link type. Nothing throws; the flags are consistent:
 * offsets and lengths stay inside the data, a layer marked present has sane fields, and a
 * packet that decoded cleanly to a transport is not flagged truncated.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { LINKTYPE } from '../../src/capture/types.js';
import { createDecoder, PacketPrinter, parseHttpHead, type DecodedPacket } from '../../src/decode/index.js';
import { decodeDns, formatDnsSummary } from '../../src/decode/dns.js';
import {
  ETH_IPV4_DNS_RESPONSE, ETH_IPV4_HTTP_GET, ETH_IPV4_ICMP_PORT_UNREACHABLE, ETH_IPV4_TCP_SYN, ETH_IPV6_TCP_SYN,
  SLL2_IPV4_TCP_SYNACK,
} from './packets.js';

const LINK_TYPES = [LINKTYPE.ETHERNET, LINKTYPE.LINUX_SLL, LINKTYPE.LINUX_SLL2, LINKTYPE.NULL, LINKTYPE.LOOP, LINKTYPE.RAW, LINKTYPE.IPV4, LINKTYPE.IPV6];
const REAL: Array<[number, Uint8Array]> = [
  [LINKTYPE.ETHERNET, ETH_IPV4_TCP_SYN], [LINKTYPE.ETHERNET, ETH_IPV4_HTTP_GET], [LINKTYPE.ETHERNET, ETH_IPV4_DNS_RESPONSE],
  [LINKTYPE.ETHERNET, ETH_IPV4_ICMP_PORT_UNREACHABLE], [LINKTYPE.ETHERNET, ETH_IPV6_TCP_SYN], [LINKTYPE.LINUX_SLL2, SLL2_IPV4_TCP_SYNACK],
];
const RUNS = 3000;

function checkInvariants(p: DecodedPacket): void {
  const n = p.data.length;
  const inside = (offset: number, length: number, what: string): void => {
    assert.ok(offset >= 0 && offset <= n, `${what} offset ${offset} outside 0..${n}`);
    assert.ok(length >= 0 && offset + length <= n, `${what} ${offset}+${length} beyond ${n}`);
  };
  if (p.tcp.present && p.tcp.payloadOffset >= 0) inside(p.tcp.payloadOffset, p.tcp.capturedPayloadLength, 'tcp payload');
  if (p.udp.present && p.udp.payloadOffset >= 0) inside(p.udp.payloadOffset, p.udp.capturedPayloadLength, 'udp payload');
  if (p.icmp.present && p.icmp.quotedOffset >= 0) inside(p.icmp.quotedOffset, p.icmp.quotedLength, 'icmp quote');
  if (p.ipv4.present && p.ipv4.payloadOffset >= 0) inside(p.ipv4.payloadOffset, p.ipv4.capturedPayloadLength, 'ipv4 payload');
  if (p.ipv6.present && p.ipv6.upperOffset >= 0 && p.ipv6.malformed === null) inside(p.ipv6.upperOffset, p.ipv6.capturedUpperLength, 'ipv6 upper');
  if (p.tcp.present && p.tcp.malformed === null && !p.tcp.truncated) {
    assert.ok(p.tcp.headerLength >= 20 && p.tcp.headerLength <= 60);
    assert.ok(p.tcp.payloadLength >= 0);
  }
  if (p.tcp.truncated || p.udp.truncated || p.icmp.truncated || p.ipv4.truncated || p.ipv6.truncated || p.link.truncated) {
    assert.equal(p.truncated, true, 'a truncated layer marks the packet truncated');
  }
  if (p.ipVersion === 4) assert.ok(p.ipv4.present);
  if (p.ipVersion === 6) assert.ok(p.ipv6.present);
  if (p.transport === 'tcp') assert.ok(p.tcp.present);
  if (p.http.present) assert.ok(p.tcp.present && p.tcp.capturedPayloadLength > 0);
}

describe('fuzzing', () => {
  const decoder = createDecoder();
  const printer = new PacketPrinter({ numbered: true, timestamps: 'epoch' });
  const record = { index: 1, tsSec: 0, tsNsec: 0, capturedLength: 0, originalLength: 0 };

  it('random bytes, every link type: decode and print never throw', () => {
    fc.assert(fc.property(fc.constantFrom(...LINK_TYPES), fc.uint8Array({ maxLength: 200 }), fc.boolean(), (lt, bytes, eflag) => {
      const p = decoder.decode(lt, bytes);
      checkInvariants(p);
      record.capturedLength = bytes.length;
      record.originalLength = bytes.length;
      const line = (eflag ? new PacketPrinter({ linkHeader: true }) : printer).format(record, p);
      assert.equal(typeof line, 'string');
      assert.ok(!line.includes('\n'));
    }), { numRuns: RUNS });
  });

  it('mutated real packets: flipped bytes, cuts and extensions', () => {
    fc.assert(fc.property(
      fc.constantFrom(...REAL),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
      fc.nat(),
      fc.uint8Array({ maxLength: 40 }),
      fc.integer({ min: 0, max: 2000 }),
      ([lt, original], flips, cutAt, tail, extraOriginal) => {
        let bytes = Uint8Array.from(original);
        for (const [at, value] of flips) bytes[at % bytes.length] = value;
        bytes = cutAt % 3 === 0 ? bytes.subarray(0, cutAt % (bytes.length + 1)) : Uint8Array.from([...bytes, ...tail]);
        const p = decoder.decode(lt, bytes);
        checkInvariants(p);
        record.capturedLength = bytes.length;
        record.originalLength = bytes.length + extraOriginal;
        assert.equal(typeof printer.format(record, p), 'string');
      },
    ), { numRuns: RUNS });
  });

  it('a clean real packet decodes without flags', () => {
    for (const [lt, f] of REAL) {
      const p = decoder.decode(lt, f);
      assert.equal(p.truncated, false);
      assert.equal(p.malformed, null);
    }
  });

  it('DNS: tcpdump-style summary and dns-packet decode never throw on hostile messages', () => {
    const dnsPayload = ETH_IPV4_DNS_RESPONSE.subarray(14 + 20 + 8);
    fc.assert(fc.property(
      fc.oneof(fc.uint8Array({ maxLength: 120 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }).map((flips) => {
        const b = Uint8Array.from(dnsPayload);
        for (const [at, v] of flips) b[at % b.length] = v;
        return b;
      })),
      fc.boolean(),
      (msg, overTcp) => {
        const s = formatDnsSummary(msg, 0, msg.length, msg.length, overTcp);
        assert.equal(typeof s, 'string');
        const r = decodeDns(msg, 0, msg.length);
        assert.ok((r.message === null) !== (r.error === null));
      },
    ), { numRuns: RUNS });
  });

  it('HTTP heads: parse never throws and stays inside the bytes', () => {
    fc.assert(fc.property(fc.oneof(fc.string(), fc.constantFrom('GET / HTTP/1.1\r\nHost: a\r\n\r\n', 'HTTP/1.1 200 OK\r\n', 'POST /x')).map((s) => Buffer.from(s, 'latin1')), fc.nat(), (bytes, cut) => {
      const len = cut % (bytes.length + 1);
      const h = parseHttpHead(bytes, 0, len);
      if (h.present) assert.ok(h.headLength <= len);
      if (h.complete) assert.ok(h.headLength > 0);
    }), { numRuns: RUNS });
  });
});
