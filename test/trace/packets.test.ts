/**
 * Probe packets (Paris constancy, checksums checked by tshark) and reply matching through
 * the quoted original packet: IPv4 and IPv6, UDP/TCP/ICMP probes, minimal and truncated
 * quotes, replies that belong to someone else, and hostile bytes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { writePcapng } from '../../src/capture/index.js';
import { buildProbePacket, makeFlow, ReplyParser, port, sequence, timeToLive, traceIdentifier } from '../../src/trace/index.js';
import type { ProbeFlow } from '../../src/trace/index.js';
import { PARIS_ICMP_CHECKSUM } from '../../src/trace/config.js';
import { canonicalAddress, parseIPv6 } from '../../src/trace/address.js';
import type { IpFamily, TraceProtocol } from '../../src/trace/types.js';
import { echoReply, icmpError, tcpAnswer } from './scripted.js';

function flowOf(family: IpFamily, protocol: TraceProtocol): ProbeFlow {
  return makeFlow({
    family,
    protocol,
    source: family === 4 ? '10.10.1.2' : 'fd00:10::2',
    destination: family === 4 ? '10.77.1.10' : 'fd00:77::10',
    srcPort: port(protocol === 'icmp' ? 0 : 61234),
    dstPort: port(protocol === 'icmp' ? 0 : protocol === 'tcp' ? 80 : 33434),
    identifier: traceIdentifier(0x4242),
  });
}

const view = (p: Uint8Array) => new DataView(p.buffer, p.byteOffset, p.byteLength);
const ipLen = (p: Uint8Array) => (p[0] >> 4 === 4 ? (p[0] & 0x0f) * 4 : 40);

const CASES: Array<[IpFamily, TraceProtocol]> = [[4, 'udp'], [4, 'tcp'], [4, 'icmp'], [6, 'udp'], [6, 'tcp'], [6, 'icmp']];

for (const [family, proto] of CASES) {
  test(`IPv${family} ${proto} probes keep the flow constant (Paris) and carry the sequence`, () => {
    const flow = flowOf(family, proto);
    const seqs = [1, 2, 77, 4242, 0xfffe];
    const probes = seqs.map((s, i) => buildProbePacket(flow, sequence(s), timeToLive(i + 1)));
    for (const [i, p] of probes.entries()) {
      const v = view(p);
      const t = ipLen(p);
      if (family === 4) {
        assert.equal(v.getUint16(4), seqs[i], 'IPv4 ID = sequence');
        assert.equal(p[8], i + 1, 'TTL');
      } else {
        assert.equal(p[7], i + 1, 'hop limit');
        assert.equal(v.getUint32(0) & 0xfffff, 0, 'flow label constant (0)');
      }
      if (proto === 'udp') {
        assert.deepEqual([v.getUint16(t), v.getUint16(t + 2)], [61234, 33434]);
        assert.equal(v.getUint16(t + 6), seqs[i], 'UDP checksum field = sequence');
      } else if (proto === 'tcp') {
        assert.deepEqual([v.getUint16(t), v.getUint16(t + 2)], [61234, 80]);
        assert.equal(v.getUint32(t + 4), seqs[i], 'TCP seq = sequence');
        assert.equal(p[t + 13], 0x02, 'SYN only');
      } else {
        assert.equal(v.getUint16(t + 2), PARIS_ICMP_CHECKSUM, 'ICMP checksum constant');
        assert.equal(v.getUint16(t + 4), 0x4242);
        assert.equal(v.getUint16(t + 6), seqs[i]);
      }
    }
  });
}

test('tshark finds every probe checksum correct (IP, UDP, TCP, ICMP, ICMPv6)', (t) => {
  let tshark = true;
  try { execFileSync('tshark', ['-v'], { stdio: 'ignore' }); } catch { tshark = false; }
  if (!tshark) { t.skip('tshark is not installed (apt-get install tshark)'); return; }
  const packets = [];
  let n = 0;
  for (const [family, proto] of CASES) {
    const flow = flowOf(family, proto);
    for (const s of [1, 300, 0x7fff, 0xfffe]) {
      packets.push({ interfaceId: 0, tsSec: 1_700_000_000, tsNsec: n++ * 1000, data: buildProbePacket(flow, sequence(s), timeToLive(5)) });
    }
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fttrace-'));
  try {
    const file = path.join(dir, 'probes.pcapng');
    fs.writeFileSync(file, writePcapng([{ name: 'probes', linkType: 101 }], packets));
    const out = execFileSync('tshark', [
      '-r', file, '-o', 'ip.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE',
      '-T', 'fields', '-E', 'separator=,', '-e', 'ip.checksum.status', '-e', 'udp.checksum.status', '-e', 'tcp.checksum.status',
      '-e', 'icmp.checksum.status', '-e', 'icmpv6.checksum.status',
    ], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const rows = out.trim().split('\n');
    assert.equal(rows.length, packets.length);
    for (const [i, row] of rows.entries()) {
      const statuses = row.split(',').filter((x) => x !== '');
      // 1 = Good in Wireshark's checksum status; every packet has at least its transport checked.
      assert.ok(statuses.length >= 1 && statuses.every((s) => s === '1'), `packet ${i}: ${row}`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

for (const [family, proto] of CASES) {
  test(`IPv${family} ${proto}: time-exceeded, unreachable and the destination's reply match the quoted probe`, () => {
    const flow = flowOf(family, proto);
    const parser = new ReplyParser(flow);
    const probe = buildProbePacket(flow, sequence(513), timeToLive(3));
    const router = family === 4 ? '10.255.2.2' : 'fd00:255::2';
    const rcv = (bytes: Uint8Array) => parser.parse({ bytes, receivedAtMs: 0, ttlKnown: true });

    const te = rcv(icmpError(probe, router, 'time-exceeded'));
    assert.ok(te);
    assert.equal(te.kind, 'time-exceeded');
    assert.equal(te.sequence, 513);
    assert.equal(te.responder, router);
    assert.equal(te.replyTtl, 64);

    const x = rcv(icmpError(probe, router, 'unreachable', family === 4 ? 13 : 1));
    assert.deepEqual(x && [x.kind, x.flag, x.sequence], ['unreachable', '!X', 513]);

    const dest = proto === 'udp' ? rcv(icmpError(probe, flow.destination, 'unreachable', family === 4 ? 3 : 4))
      : proto === 'icmp' ? rcv(echoReply(probe)) : rcv(tcpAnswer(probe, 'syn-ack'));
    assert.ok(dest);
    assert.equal(dest.kind, proto === 'udp' ? 'port-unreachable' : proto === 'icmp' ? 'echo-reply' : 'tcp-syn-ack');
    assert.equal(dest.sequence, 513);
    assert.equal(dest.responder, canonicalAddress(flow.destination));
    if (proto === 'tcp') assert.equal(rcv(tcpAnswer(probe, 'rst'))?.kind, 'tcp-rst');
  });
}

test('IPv4: a minimal RFC 792 quote (IP header + 8 bytes) is enough for every protocol: the IP ID carries the sequence', () => {
  for (const proto of ['udp', 'tcp', 'icmp'] as const) {
    const flow = flowOf(4, proto);
    const probe = buildProbePacket(flow, sequence(999), timeToLive(2));
    const r = new ReplyParser(flow).parse({ bytes: icmpError(probe, '10.10.1.1', 'time-exceeded', 0, { quoteBytes: 28 }), receivedAtMs: 0, ttlKnown: true });
    assert.equal(r?.sequence, 999, proto);
  }
});

test('IPv4 packet too big (!F with the next-hop MTU) and IPv6 packet too big', () => {
  const f4 = flowOf(4, 'udp');
  const r4 = new ReplyParser(f4).parse({ bytes: icmpError(buildProbePacket(f4, sequence(7), timeToLive(2)), '10.0.0.1', 'unreachable', 4, { mtu: 1400 }), receivedAtMs: 0, ttlKnown: true });
  assert.deepEqual(r4 && [r4.kind, r4.flag, r4.mtu], ['unreachable', '!F-1400', 1400]);
  const f6 = flowOf(6, 'udp');
  const r6 = new ReplyParser(f6).parse({ bytes: icmpError(buildProbePacket(f6, sequence(7), timeToLive(2)), 'fd00::1', 'too-big', 0, { mtu: 1280 }), receivedAtMs: 0, ttlKnown: false });
  assert.deepEqual(r6 && [r6.kind, r6.flag, r6.mtu, r6.replyTtl], ['unreachable', '!F-1280', 1280, null]);
});

test('truncated quotes never throw; they match only when what identifies the probe survived', () => {
  for (const [family, proto] of CASES) {
    const flow = flowOf(family, proto);
    const parser = new ReplyParser(flow);
    const probe = buildProbePacket(flow, sequence(321), timeToLive(4));
    const hdr = ipLen(probe);
    for (let cut = 0; cut <= probe.length; cut++) {
      const r = parser.parse({ bytes: icmpError(probe, family === 4 ? '10.0.0.1' : 'fd00::1', 'time-exceeded', 0, { quoteBytes: cut }), receivedAtMs: 0, ttlKnown: true });
      // What must be there: the IP header, the transport ports / echo id, and for IPv6 the
      // field carrying the sequence (UDP checksum: 8 bytes; ICMP seq: 8; TCP: a whole header).
      const need = family === 4 ? hdr + 8 : hdr + (proto === 'tcp' ? 20 : 8);
      if (cut >= need) assert.equal(r?.sequence, 321, `IPv${family} ${proto} cut at ${cut}`);
      else if (cut < hdr + 4) assert.equal(r, null, `IPv${family} ${proto} cut at ${cut}`);
      else assert.ok(r === null || r.sequence === 321, `IPv${family} ${proto} cut at ${cut}: ${JSON.stringify(r)}`);
    }
  }
});

test('replies to someone else are not ours: other destination, other ports, other echo id, our own echo request', () => {
  const udp = flowOf(4, 'udp');
  const other = makeFlow({ ...udp, destination: '10.77.2.10' } as ProbeFlow);
  const otherPort = makeFlow({ ...udp, dstPort: port(33435) } as ProbeFlow);
  const parser = new ReplyParser(udp);
  const rcv = (b: Uint8Array) => parser.parse({ bytes: b, receivedAtMs: 0, ttlKnown: true });
  assert.equal(rcv(icmpError(buildProbePacket(other, sequence(5), timeToLive(1)), '10.10.1.1', 'time-exceeded')), null);
  assert.equal(rcv(icmpError(buildProbePacket(otherPort, sequence(5), timeToLive(1)), '10.10.1.1', 'time-exceeded')), null);
  const icmp = flowOf(4, 'icmp');
  const otherId = makeFlow({ ...icmp, identifier: traceIdentifier(0x4243) } as ProbeFlow);
  const ip = new ReplyParser(icmp);
  assert.equal(ip.parse({ bytes: echoReply(buildProbePacket(otherId, sequence(5), timeToLive(9))), receivedAtMs: 0, ttlKnown: true }), null);
  // Tracing loopback, the raw socket also sees our own echo request: not a reply.
  assert.equal(ip.parse({ bytes: buildProbePacket(icmp, sequence(5), timeToLive(9)), receivedAtMs: 0, ttlKnown: true }), null);
  // A SYN-ACK from the destination but to another port of ours.
  const tcp = flowOf(4, 'tcp');
  const otherSrc = makeFlow({ ...tcp, srcPort: port(61235) } as ProbeFlow);
  assert.equal(new ReplyParser(tcp).parse({ bytes: tcpAnswer(buildProbePacket(otherSrc, sequence(5), timeToLive(9)), 'syn-ack'), receivedAtMs: 0, ttlKnown: true }), null);
  // IPv6 flow, IPv4 reply.
  assert.equal(new ReplyParser(flowOf(6, 'udp')).parse({ bytes: icmpError(buildProbePacket(udp, sequence(5), timeToLive(1)), '10.0.0.1', 'time-exceeded'), receivedAtMs: 0, ttlKnown: true }), null);
});

test('hostile bytes: random packets and mutated replies never throw, and a match always names a real sequence', () => {
  const flows = CASES.map(([f, p]) => flowOf(f, p));
  const parsers = flows.map((f) => new ReplyParser(f));
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
    for (const p of parsers) p.parse({ bytes, receivedAtMs: 0, ttlKnown: true });
  }), { numRuns: 2000 });
  fc.assert(fc.property(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 1, max: 0xfffe }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.nat(), (k, s, edits, cut) => {
    const flow = flows[k];
    const probe = buildProbePacket(flow, sequence(s), timeToLive(3));
    const reply = icmpError(probe, flow.family === 4 ? '10.0.0.1' : 'fd00::1', 'time-exceeded');
    const mutated = reply.slice(0, reply.length - (cut % 16));
    for (const [at, value] of edits) mutated[at % mutated.length] = value;
    const r = parsers[k].parse({ bytes: mutated, receivedAtMs: 0, ttlKnown: true });
    if (r) assert.ok(r.sequence >= 1 && r.sequence <= 0xffff);
  }), { numRuns: 3000 });
});

test('IPv6 text forms parse to the same bytes', () => {
  assert.deepEqual(parseIPv6('fd00::1'), parseIPv6('fd00:0:0:0:0:0:0:1'));
  assert.deepEqual([...parseIPv6('::ffff:10.1.2.3').slice(10)], [0xff, 0xff, 10, 1, 2, 3]);
  assert.equal(canonicalAddress('FD00:0::0:1'), 'fd00::1');
  assert.throws(() => parseIPv6('fd00:::1'), /not an IPv6 address/);
});
