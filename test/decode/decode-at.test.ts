/**
 * decodeAt (a packet inside a bigger buffer, as the file reader holds it) gives what decode
 * gives for the packet on its own, with every offset moved by where the packet starts; bytes
 * before and after the packet are never read.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { LINKTYPE } from '../../src/capture/types.js';
import { createDecoder, type DecodedPacket } from '../../src/decode/index.js';
import { ETH_IPV4_DNS_RESPONSE, ETH_IPV4_HTTP_GET, ETH_IPV4_ICMP_PORT_UNREACHABLE, ETH_IPV4_TCP_SYN, ETH_IPV6_TCP_SYN, SLL2_IPV4_TCP_SYNACK } from './packets.js';

const LINK_TYPES = [LINKTYPE.ETHERNET, LINKTYPE.LINUX_SLL, LINKTYPE.LINUX_SLL2, LINKTYPE.NULL, LINKTYPE.LOOP, LINKTYPE.RAW, LINKTYPE.IPV4, LINKTYPE.IPV6];
const LAYERS = ['link', 'ipv4', 'ipv6', 'tcp', 'udp', 'icmp'] as const;

/** Same fields; a field named …offset/…Offset equal or moved by `shift`. */
function assertSameShifted(alone: DecodedPacket, inside: DecodedPacket, shift: number): void {
  for (const k of ['ipVersion', 'transport', 'otherNetwork', 'truncated', 'malformed'] as const) assert.equal(inside[k], alone[k], k);
  for (const layer of LAYERS) {
    const a = alone[layer] as unknown as Record<string, unknown>;
    const b = inside[layer] as unknown as Record<string, unknown>;
    assert.equal(b.present, a.present, `${layer}.present`);
    if (!a.present) continue;
    for (const [key, value] of Object.entries(a)) {
      if (/offset$/i.test(key) && typeof value === 'number' && value >= 0 && b[key] !== value) {
        assert.equal(b[key], value + shift, `${layer}.${key}`);
      } else assert.deepEqual(b[key], value, `${layer}.${key}`);
    }
  }
}

const REAL: Array<[number, Uint8Array]> = [
  [LINKTYPE.ETHERNET, ETH_IPV4_TCP_SYN], [LINKTYPE.ETHERNET, ETH_IPV4_HTTP_GET], [LINKTYPE.ETHERNET, ETH_IPV4_DNS_RESPONSE],
  [LINKTYPE.ETHERNET, ETH_IPV4_ICMP_PORT_UNREACHABLE], [LINKTYPE.ETHERNET, ETH_IPV6_TCP_SYN], [LINKTYPE.LINUX_SLL2, SLL2_IPV4_TCP_SYNACK],
];

test('decodeAt: real packets inside a buffer decode as on their own, offsets moved', () => {
  const alone = createDecoder();
  const inside = createDecoder();
  for (const [linkType, packet] of REAL) {
    for (const shift of [0, 1, 7, 300]) {
      const buf = new Uint8Array(shift + packet.length + 50).fill(0xff);
      buf.set(packet, shift);
      const a = alone.decode(linkType, packet);
      const b = inside.decodeAt(linkType, buf, shift, shift + packet.length);
      assertSameShifted(a, b, shift);
      assert.equal(b.data, buf);
      if (a.tcp.present && a.tcp.capturedPayloadLength > 0) {
        assert.equal(b.tcp.payloadOffset, a.tcp.payloadOffset + shift);
        assert.deepEqual(buf.subarray(b.tcp.payloadOffset, b.tcp.payloadOffset + b.tcp.capturedPayloadLength), packet.subarray(a.tcp.payloadOffset, a.tcp.payloadOffset + a.tcp.capturedPayloadLength));
      }
    }
  }
});

test('decodeAt: any bytes, any link type, any surroundings — the same as decode of the bytes alone', () => {
  const alone = createDecoder();
  const inside = createDecoder();
  fc.assert(fc.property(
    fc.constantFrom(...LINK_TYPES), fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 40 }),
    (linkType, packet, before, after) => {
      const buf = new Uint8Array(before.length + packet.length + after.length);
      buf.set(before, 0); buf.set(packet, before.length); buf.set(after, before.length + packet.length);
      assertSameShifted(alone.decode(linkType, packet), inside.decodeAt(linkType, buf, before.length, before.length + packet.length), before.length);
    },
  ), { numRuns: 3000 });
});
