/**
 * The IPv6 header as `tcpdump -v` prints it (print-ip6.c): "(class, flowlabel, hlim,
 * next-header NAME (N), payload length)", the fields kept when the addresses were cut off,
 * a payload length longer than the link carried, and Linux BIG TCP (payload length 0 without
 * a jumbo option). The packets are the real IPv6 SYN of packets.ts, edited field by field;
 * test/read/ipv6-verbose.test.ts holds the same output to tcpdump's own corpus.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LINKTYPE } from '../../src/capture/types.js';
import { createDecoder, PacketPrinter } from '../../src/decode/index.js';
import { ETH_IPV6_TCP_SYN } from './packets.js';

const ETH_HEADER = 14;
/** The IPv6 packet of the SYN: class 0, flow label 0x6c77b, payload length 40, TCP, hlim 64
 * (its TCP checksum was left to the veth's offload, so -v calls it incorrect). */
const IP6_SYN = ETH_IPV6_TCP_SYN.subarray(ETH_HEADER);

/** The line `flowtrace read` prints for a raw IPv6 packet (LINKTYPE_IPV6) of `wireLength` bytes. */
function line(data: Uint8Array, verbose: number, wireLength = data.length): string {
  const p = createDecoder().decode(LINKTYPE.IPV6, data);
  const record = { index: 1, tsSec: 0, tsNsec: 0, capturedLength: data.length, originalLength: wireLength };
  return new PacketPrinter({ verbose, timestamps: 'none', absoluteSeq: true }).format(record, p);
}

function concat(...parts: Array<Uint8Array | number[]>): Uint8Array {
  const arrays = parts.map((x) => (x instanceof Uint8Array ? x : Uint8Array.from(x)));
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let o = 0;
  for (const a of arrays) { out.set(a, o); o += a.length; }
  return out;
}

/** The SYN's fixed header with another payload length and next header. */
function header(payloadLength: number, nextHeader: number): Uint8Array {
  const h = Uint8Array.from(IP6_SYN.subarray(0, 40));
  h[4] = payloadLength >> 8; h[5] = payloadLength & 0xff; h[6] = nextHeader;
  return h;
}

describe('IPv6 header at -v', () => {
  it('prints flow label, hop limit, next header and payload length before the addresses', () => {
    assert.match(line(IP6_SYN, 1), /^IP6 \(flowlabel 0x6c77b, hlim 64, next-header TCP \(6\), payload length 40\) fd00:99::1\.58050 > fd00:99::2\.8080: Flags \[S\], cksum 0x[0-9a-f]{4} \(/);
    assert.match(line(IP6_SYN, 0), /^IP6 fd00:99::1\.58050 > fd00:99::2\.8080: Flags \[S\], seq 2947760323, /);
  });

  it('prints a traffic class, and leaves out a zero flow label', () => {
    const d = Uint8Array.from(IP6_SYN);
    d[0] = 0x6b; d[1] = 0x80; d[2] = 0; d[3] = 0; // class 0xb8, flow label 0
    assert.match(line(d, 1), /^IP6 \(class 0xb8, hlim 64, next-header TCP \(6\), payload length 40\) /);
  });

  it('names extension headers as tcpdump does: HBH (0), DSTOPT (60)', () => {
    const tcp = IP6_SYN.subarray(40);
    const padN = [0, 0, 1, 4, 0, 0, 0, 0];
    const viaHbh = concat(header(8 + tcp.length, 0), [6, ...padN.slice(1)], tcp);
    assert.match(line(viaHbh, 1), /next-header HBH \(0\), payload length 48\) fd00:99::1 > fd00:99::2: HBH 58050 > 8080: /);
    const viaDstopt = concat(header(8 + tcp.length, 60), [6, ...padN.slice(1)], tcp);
    assert.match(line(viaDstopt, 1), /next-header DSTOPT \(60\), payload length 48\) fd00:99::1 > fd00:99::2: DSTOPT 58050 > 8080: /);
  });

  it('keeps the fields it has when the capture ends inside the addresses', () => {
    for (let cut = 8; cut < 40; cut++) {
      const short = IP6_SYN.subarray(0, cut);
      assert.equal(line(short, 1, IP6_SYN.length), 'IP6 (flowlabel 0x6c77b, hlim 64, next-header TCP (6), payload length 40)  [|ip6]', `cut at ${cut}`);
      assert.equal(line(short, 0, IP6_SYN.length), 'IP6 [|ip6]', `cut at ${cut}, no -v`);
    }
    assert.equal(line(IP6_SYN.subarray(0, 7), 1, IP6_SYN.length), 'IP6 [|ip6]');
  });

  it('flags a payload length longer than the link carried, and goes on printing', () => {
    const d = Uint8Array.from(IP6_SYN);
    d[5] = 41; // one byte more than there is
    assert.match(line(d, 1), /^IP6 \[header\+payload length 81 > length 80\] \(invalid\) \(flowlabel 0x6c77b, hlim 64, next-header TCP \(6\), payload length 41\) fd00:99::1\.58050 > fd00:99::2\.8080: Flags \[S\]/);
    assert.match(line(d, 0), /^IP6 \[header\+payload length 81 > length 80\] \(invalid\) fd00:99::1\.58050 > fd00:99::2\.8080: Flags \[S\]/);
    assert.doesNotMatch(line(IP6_SYN, 0), /invalid/);
  });

  it('says "presumed BIG TCP" at -v for a zero payload length on more than 64 KiB without a jumbo option', () => {
    const tcpHeader = IP6_SYN.subarray(40);
    const big = concat(header(0, 6), tcpHeader, new Uint8Array(70_000));
    const wire = big.length;
    assert.match(line(big, 1), new RegExp(`^IP6 \\(flowlabel 0x6c77b, hlim 64, next-header TCP \\(6\\), payload length 0\\) \\[real length ${wire}, presumed BIG TCP\\] fd00:99::1\\.58050 > fd00:99::2\\.8080: Flags \\[S\\], cksum 0x[0-9a-f]{4} \\(incorrect -> 0x[0-9a-f]{4}\\), seq 2947760323:2947830323, `));
    assert.doesNotMatch(line(big, 0), /presumed/);
    // With a hop-by-hop header first it is a jumbogram, not BIG TCP.
    const jumbo = concat(header(0, 0), [6, 0, 1, 4, 0, 0, 0, 0], tcpHeader, new Uint8Array(70_000));
    assert.doesNotMatch(line(jumbo, 1), /presumed/);
    // A zero payload length on a small packet is no payload at all.
    assert.doesNotMatch(line(concat(header(0, 6), tcpHeader), 1), /presumed/);
  });
});
