/**
 * Decoders on real bytes (packets.ts: captured by make-captures.sh, with their tcpdump -XX
 * text), plus hand-built variants of them for the link types and corner cases: VLAN/QinQ,
 * SLL v1, NULL in both byte orders, LOOP, raw IP, IPv4 fragments and options, IPv6
 * extension headers, truncation at every length.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LINKTYPE } from '../../src/capture/types.js';
import { createDecoder, dstAddress, formatIPv6, httpHeader, newDecodedPacket, srcAddress, TCP_FLAG } from '../../src/decode/index.js';
import { decodeDns } from '../../src/decode/dns.js';
import {
  ETH_IPV4_DNS_RESPONSE, ETH_IPV4_HTTP_GET, ETH_IPV4_ICMP_PORT_UNREACHABLE, ETH_IPV4_TCP_SYN, ETH_IPV6_TCP_SYN,
  SLL2_IPV4_TCP_SYNACK,
} from './packets.js';

const ETH_HEADER = 14;

function concat(...parts: Array<Uint8Array | number[]>): Uint8Array {
  const arrays = parts.map((p) => (p instanceof Uint8Array ? p : Uint8Array.from(p)));
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let o = 0;
  for (const a of arrays) { out.set(a, o); o += a.length; }
  return out;
}

describe('Ethernet / IPv4 / TCP', () => {
  it('decodes the SYN with its options', () => {
    const p = createDecoder().decode(LINKTYPE.ETHERNET, ETH_IPV4_TCP_SYN);
    assert.equal(p.link.kind, 'ethernet');
    assert.equal(p.link.etherType, 0x0800);
    assert.equal(p.ipVersion, 4);
    assert.equal(srcAddress(p), '10.99.0.1');
    assert.equal(dstAddress(p), '10.99.0.2');
    assert.equal(p.ipv4.ttl, 64);
    assert.equal(p.ipv4.id, 0x2071);
    assert.equal(p.ipv4.dontFragment, true);
    assert.equal(p.transport, 'tcp');
    assert.equal(p.tcp.srcPort, 50420);
    assert.equal(p.tcp.dstPort, 8080);
    assert.equal(p.tcp.seq, 2742266970);
    assert.equal(p.tcp.flags, TCP_FLAG.SYN);
    assert.equal(p.tcp.window, 64240);
    assert.equal(p.tcp.mss, 1460);
    assert.equal(p.tcp.sackPermitted, true);
    assert.equal(p.tcp.hasTimestamps, true);
    assert.equal(p.tcp.tsVal, 113647640);
    assert.equal(p.tcp.tsEcr, 0);
    assert.equal(p.tcp.windowScale, 10);
    assert.equal(p.tcp.payloadLength, 0);
    assert.equal(p.truncated, false);
    assert.equal(p.malformed, null);
    assert.equal(p.http.present, false);
  });

  it('finds the HTTP request head in the GET segment', () => {
    const p = createDecoder().decode(LINKTYPE.ETHERNET, ETH_IPV4_HTTP_GET);
    assert.equal(p.tcp.payloadLength, 78);
    assert.equal(p.tcp.capturedPayloadLength, 78);
    assert.equal(p.http.present, true);
    assert.equal(p.http.kind, 'request');
    assert.equal(p.http.method, 'GET');
    assert.equal(p.http.target, '/');
    assert.equal(p.http.version, 'HTTP/1.1');
    assert.equal(p.http.complete, true);
    assert.equal(p.http.headLength, 78);
    assert.deepEqual(p.http.headers, [['Host', '10.99.0.2:8080'], ['User-Agent', 'curl/7.88.1'], ['Accept', '*/*']]);
    assert.equal(httpHeader(p.http, 'user-agent'), 'curl/7.88.1');
  });

  it('keeps the head partial when the segment is cut before the blank line', () => {
    const cut = ETH_IPV4_HTTP_GET.subarray(0, ETH_IPV4_HTTP_GET.length - 20);
    const p = createDecoder().decode(LINKTYPE.ETHERNET, cut);
    assert.equal(p.truncated, true);
    assert.equal(p.tcp.truncated, true);
    assert.equal(p.tcp.payloadLength, 78);
    assert.equal(p.tcp.capturedPayloadLength, 58);
    assert.equal(p.http.present, true);
    assert.equal(p.http.complete, false);
    assert.deepEqual(p.http.headers, [['Host', '10.99.0.2:8080']]);
  });
});

describe('UDP / DNS', () => {
  it('decodes UDP and, on request, the DNS answer with dns-packet', () => {
    const p = createDecoder().decode(LINKTYPE.ETHERNET, ETH_IPV4_DNS_RESPONSE);
    assert.equal(p.transport, 'udp');
    assert.equal(p.udp.srcPort, 53);
    assert.equal(p.udp.length, 58);
    assert.equal(p.udp.payloadLength, 50);
    const { message, error } = decodeDns(p.data, p.udp.payloadOffset, p.udp.payloadLength);
    assert.equal(error, null);
    assert.equal(message!.id, 4660);
    assert.deepEqual(message!.answers!.map((a) => [a.name, a.type, (a as { data: unknown }).data]), [['www.seqas.online', 'A', '10.99.0.80']]);
  });

  it('reports a broken DNS message as an error value, not an exception', () => {
    const p = createDecoder().decode(LINKTYPE.ETHERNET, ETH_IPV4_DNS_RESPONSE.subarray(0, 60));
    const r = decodeDns(p.data, p.udp.payloadOffset, p.udp.capturedPayloadLength);
    assert.equal(r.message, null);
    assert.equal(typeof r.error, 'string');
  });
});

describe('ICMP', () => {
  it('gives the quoted original packet of a port unreachable, decodable with the same decoder', () => {
    const decoder = createDecoder();
    const p = decoder.decode(LINKTYPE.ETHERNET, ETH_IPV4_ICMP_PORT_UNREACHABLE);
    assert.equal(p.transport, 'icmp');
    assert.equal(p.icmp.type, 3);
    assert.equal(p.icmp.code, 3);
    assert.equal(p.icmp.quotedOffset, ETH_HEADER + 20 + 8);
    assert.equal(p.icmp.quotedLength, 60);
    const inner = decoder.decodeIpAt(p.data, p.icmp.quotedOffset, p.icmp.quotedOffset + p.icmp.quotedLength, newDecodedPacket());
    assert.equal(inner.ipVersion, 4);
    assert.equal(srcAddress(inner), '10.99.0.1');
    assert.equal(inner.ipv4.ttl, 1);
    assert.equal(inner.transport, 'udp');
    assert.equal(inner.udp.dstPort, 33434);
    assert.equal(inner.udp.srcPort, 33018);
  });

  it('reads echo id/seq and the frag-needed MTU', () => {
    // 10.0.0.1 > 10.0.0.2: ICMP 10.0.0.9 unreachable - need to frag (mtu 1400): hand-built around a real quoted header.
    const quoted = ETH_IPV4_TCP_SYN.subarray(ETH_HEADER, ETH_HEADER + 28);
    const icmp = concat([3, 4, 0, 0, 0, 0, 0x05, 0x78], quoted);
    const ip = concat([0x45, 0, 0, 20 + icmp.length, 0, 1, 0, 0, 64, 1, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2], icmp);
    const p = createDecoder().decode(LINKTYPE.IPV4, ip);
    assert.equal(p.icmp.mtu, 1400);
    assert.equal(p.icmp.quotedLength, 28);
    const echo = concat([0x45, 0, 0, 28, 0, 1, 0, 0, 64, 1, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2], [8, 0, 0, 0, 0x12, 0x34, 0, 7]);
    const e = createDecoder().decode(LINKTYPE.RAW, echo);
    assert.equal(e.icmp.echoId, 0x1234);
    assert.equal(e.icmp.echoSeq, 7);
    assert.equal(e.icmp.quotedOffset, -1);
  });
});

describe('IPv6', () => {
  it('decodes IPv6/TCP', () => {
    const p = createDecoder().decode(LINKTYPE.ETHERNET, ETH_IPV6_TCP_SYN);
    assert.equal(p.ipVersion, 6);
    assert.equal(srcAddress(p), 'fd00:99::1');
    assert.equal(dstAddress(p), 'fd00:99::2');
    assert.equal(p.ipv6.hopLimit, 64);
    assert.equal(p.ipv6.flowLabel, 0x6c77b);
    assert.equal(p.tcp.mss, 1440);
    assert.equal(p.tcp.dstPort, 8080);
  });

  it('walks hop-by-hop, destination options and a first fragment to TCP; stops at a later fragment', () => {
    const ip6 = ETH_IPV6_TCP_SYN.subarray(ETH_HEADER);
    const tcp = ip6.subarray(40);
    const hbh = [60, 0, 1, 4, 0, 0, 0, 0]; // next: dest opts; PadN
    const dst = [44, 0, 1, 4, 0, 0, 0, 0]; // next: fragment
    const frag = [6, 0, 0x00, 0x01, 0, 0, 0, 42]; // offset 0, M=1, id 42
    const payload = concat(hbh, dst, frag, tcp);
    const header = Uint8Array.from(ip6.subarray(0, 40));
    header[4] = payload.length >> 8; header[5] = payload.length & 0xff; header[6] = 0;
    const p = createDecoder().decode(LINKTYPE.IPV6, concat(header, payload));
    assert.deepEqual(p.ipv6.extensionHeaders, [0, 60, 44]);
    assert.equal(p.ipv6.fragment, true);
    assert.equal(p.ipv6.moreFragments, true);
    assert.equal(p.ipv6.fragmentId, 42);
    assert.equal(p.transport, 'tcp');
    assert.equal(p.tcp.dstPort, 8080);
    const later = Uint8Array.from(concat(header, payload));
    later[40 + 16 + 2] = 0x05; later[40 + 16 + 3] = 0xa8; // offset 1448 bytes (0x5a8 = 181 << 3)
    const q = createDecoder().decode(LINKTYPE.IPV6, later);
    assert.equal(q.ipv6.fragmentOffsetBytes, 1448);
    assert.equal(q.transport, 'other');
    assert.equal(q.tcp.present, false);
  });

  it('formats IPv6 addresses like inet_ntop', () => {
    const a = (hex: string): string => formatIPv6(Uint8Array.from(hex.match(/../g)!.map((h) => parseInt(h, 16))), 0);
    assert.equal(a('00000000000000000000000000000000'), '::');
    assert.equal(a('00000000000000000000000000000001'), '::1');
    assert.equal(a('20010db8000000000001000000000001'), '2001:db8::1:0:0:1');
    assert.equal(a('00000000000000000000ffff0a000001'), '::ffff:10.0.0.1');
    assert.equal(a('fe800000000000000000000000000000'), 'fe80::');
    assert.equal(a('20010db8000100000000000000000000'), '2001:db8:1::');
  });
});

describe('link layers', () => {
  const ipPacket = ETH_IPV4_TCP_SYN.subarray(ETH_HEADER);

  it('802.1Q and QinQ tags', () => {
    const macs = ETH_IPV4_TCP_SYN.subarray(0, 12);
    const qinq = concat(macs, [0x88, 0xa8, 0x00, 200, 0x81, 0x00, 0x27, 0xd1, 0x08, 0x00], ipPacket);
    const p = createDecoder().decode(LINKTYPE.ETHERNET, qinq);
    assert.deepEqual(p.link.vlanIds, [200, 2001]);
    assert.equal(p.link.headerLength, 22);
    assert.equal(p.tcp.dstPort, 8080);
    // The tag list is reset between packets (the array is reused).
    const q = createDecoder();
    q.decode(LINKTYPE.ETHERNET, qinq);
    assert.deepEqual(q.decode(LINKTYPE.ETHERNET, ETH_IPV4_TCP_SYN).link.vlanIds, []);
  });

  it('LINUX_SLL2 gives interface index and direction', () => {
    const p = createDecoder().decode(LINKTYPE.LINUX_SLL2, SLL2_IPV4_TCP_SYNACK);
    assert.equal(p.link.kind, 'linux_sll2');
    assert.equal(p.link.ifindex, 2);
    assert.equal(p.link.direction, 'in');
    assert.equal(p.link.etherType, 0x0800);
    assert.equal(p.tcp.flags, TCP_FLAG.SYN | TCP_FLAG.ACK);
  });

  it('LINUX_SLL (v1): outgoing', () => {
    const sll = concat([0, 4, 0, 1, 0, 6], ETH_IPV4_TCP_SYN.subarray(6, 12), [0, 0, 0x08, 0x00], ipPacket);
    const p = createDecoder().decode(LINKTYPE.LINUX_SLL, sll);
    assert.equal(p.link.direction, 'out');
    assert.equal(p.link.hatype, 1);
    assert.equal(p.tcp.srcPort, 50420);
  });

  it('NULL in both byte orders, LOOP in network order, raw IPv4/IPv6', () => {
    for (const family of [[2, 0, 0, 0], [0, 0, 0, 2]]) {
      const p = createDecoder().decode(LINKTYPE.NULL, concat(family, ipPacket));
      assert.equal(p.link.family, 2);
      assert.equal(p.tcp.dstPort, 8080);
    }
    const six = createDecoder().decode(LINKTYPE.NULL, concat([30, 0, 0, 0], ETH_IPV6_TCP_SYN.subarray(ETH_HEADER)));
    assert.equal(six.ipVersion, 6);
    assert.equal(createDecoder().decode(LINKTYPE.LOOP, concat([0, 0, 0, 2], ipPacket)).ipVersion, 4);
    assert.equal(createDecoder().decode(LINKTYPE.RAW, ipPacket).tcp.dstPort, 8080);
    assert.equal(createDecoder().decode(LINKTYPE.RAW, ETH_IPV6_TCP_SYN.subarray(ETH_HEADER)).ipVersion, 6);
    assert.equal(createDecoder().decode(LINKTYPE.IPV4, ipPacket).tcp.dstPort, 8080);
    const unknown = createDecoder().decode(147, ipPacket);
    assert.equal(unknown.link.kind, 'other');
    assert.equal(unknown.ipVersion, 0);
  });
});

describe('IPv4 details and malformation', () => {
  const ipPacket = ETH_IPV4_TCP_SYN.subarray(ETH_HEADER);

  it('options and a later fragment (no transport header)', () => {
    const withOptions = Uint8Array.from(concat(ipPacket.subarray(0, 20), [1, 1, 1, 0], ipPacket.subarray(20)));
    withOptions[0] = 0x46;
    withOptions[3] += 4;
    const p = createDecoder().decode(LINKTYPE.IPV4, withOptions);
    assert.equal(p.ipv4.headerLength, 24);
    assert.equal(p.ipv4.optionsLength, 4);
    assert.equal(p.tcp.dstPort, 8080);
    const frag = Uint8Array.from(ipPacket);
    frag[6] = 0x20; frag[7] = 0x10; // MF, offset 16 units = 128 bytes
    const f = createDecoder().decode(LINKTYPE.IPV4, frag);
    assert.equal(f.ipv4.fragmentOffsetBytes, 128);
    assert.equal(f.ipv4.moreFragments, true);
    assert.equal(f.transport, 'other');
    assert.equal(f.tcp.present, false);
  });

  it('flags impossible lengths instead of throwing', () => {
    const badIhl = Uint8Array.from(ipPacket); badIhl[0] = 0x43;
    assert.match(createDecoder().decode(LINKTYPE.IPV4, badIhl).malformed ?? '', /header length 12/);
    const badTotal = Uint8Array.from(ipPacket); badTotal[2] = 0; badTotal[3] = 10;
    assert.match(createDecoder().decode(LINKTYPE.IPV4, badTotal).malformed ?? '', /total length 10/);
    const badTcp = Uint8Array.from(ipPacket); badTcp[20 + 12] = 0x30;
    assert.match(createDecoder().decode(LINKTYPE.IPV4, badTcp).malformed ?? '', /bad header length 12/);
    const v5 = Uint8Array.from(ipPacket); v5[0] = 0x55;
    assert.match(createDecoder().decode(LINKTYPE.IPV4, v5).malformed ?? '', /version 5/);
  });

  it('marks truncation at every cut of a real frame', () => {
    const decoder = createDecoder();
    for (let n = 0; n < ETH_IPV4_HTTP_GET.length; n++) {
      const p = decoder.decode(LINKTYPE.ETHERNET, ETH_IPV4_HTTP_GET.subarray(0, n));
      assert.equal(p.truncated, true, `cut at ${n}`);
      assert.equal(p.malformed, null, `cut at ${n}`);
    }
    assert.equal(decoder.decode(LINKTYPE.ETHERNET, ETH_IPV4_HTTP_GET).truncated, false);
  });
});
