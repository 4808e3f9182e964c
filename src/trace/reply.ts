/**
 * Turns a received IP packet into a `ProbeReply` for one of our probes, or null when it is
 * not a reply to this trace. Decoding is decode/'s (`createDecoder`, `decodeIpAt` for the
 * quoted original); this file only decides what the fields mean for a trace.
 *
 * Which field carries the probe's sequence (see flow.ts, udp.ts, icmp.ts, tcp.ts):
 * - in an ICMP error quoting an IPv4 probe: the quoted IP ID (every strategy sets it; NAT
 *   and the 8-byte minimum quote of RFC 792 both leave it intact);
 * - in an ICMPv6 error: the quoted UDP checksum / ICMPv6 echo sequence / TCP sequence
 *   (IPv6 has no ID; RFC 4443 routers quote up to 1280 bytes, so the headers are whole);
 * - ICMP echo reply: its sequence; TCP SYN-ACK or RST from the destination: ack − 1.
 */
import { createDecoder, newDecodedPacket, srcAddress, ICMP4, ICMP6, TCP_FLAG } from '../decode/index.js';
import type { DecodedPacket, PacketDecoder } from '../decode/index.js';
import type { ProbeFlow } from './flow.js';
import { ipProtocolOf } from './flow.js';
import { FOREIGN_PORT_UNREACHABLE, packetTooBig, unreachableMeaning, type UnreachableMeaning } from './unreachable.js';
import { sequence, type ProbeReply, type ReplyKind, type Sequence } from './types.js';

const LINKTYPE_RAW = 101;
const ICMP4_PORT_UNREACHABLE = 3;
const ICMP6_PORT_UNREACHABLE = 4;
const MAX_SEQUENCE = 0xffff;

export interface ReceivedPacket {
  /** The whole IP packet, header first. */
  bytes: Uint8Array;
  /** Monotonic arrival time (performance.now() scale). */
  receivedAtMs: number;
  /** False when the header was rebuilt (IPv6 raw sockets do not deliver it): its TTL means nothing. */
  ttlKnown: boolean;
}

/** Parses replies for one flow. Holds two reusable decoded packets: not re-entrant. */
export class ReplyParser {
  private readonly decoder: PacketDecoder = createDecoder({ http: false });
  private readonly outer: DecodedPacket = newDecodedPacket();
  private readonly inner: DecodedPacket = newDecodedPacket();
  private readonly proto: number;

  constructor(private readonly flow: ProbeFlow) {
    this.proto = ipProtocolOf(flow.protocol, flow.family);
  }

  parse(packet: ReceivedPacket): ProbeReply | null {
    const p = this.decoder.decode(LINKTYPE_RAW, packet.bytes, this.outer);
    if (p.ipVersion !== this.flow.family) return null;
    const replyTtl = !packet.ttlKnown ? null : p.ipVersion === 4 ? p.ipv4.ttl : p.ipv6.hopLimit;
    if (p.transport === 'icmp' && p.icmp.present) return this.parseIcmp(p, replyTtl);
    if (p.transport === 'tcp' && this.flow.protocol === 'tcp') return this.parseTcp(p, replyTtl);
    return null;
  }

  private fromDestination(p: DecodedPacket): boolean {
    return sameAddress(p, this.flow.destinationBytes, 'src');
  }

  private parseIcmp(p: DecodedPacket, replyTtl: number | null): ProbeReply | null {
    const v4 = this.flow.family === 4;
    const { type, code } = p.icmp;
    const echoReply = v4 ? ICMP4.ECHO_REPLY : ICMP6.ECHO_REPLY;
    if (type === echoReply) {
      if (this.flow.protocol !== 'icmp' || p.icmp.echoId !== this.flow.identifier || !this.fromDestination(p)) return null;
      return this.reply('echo-reply', p, p.icmp.echoSeq, replyTtl, null);
    }
    const timeExceeded = v4 ? type === ICMP4.TIME_EXCEEDED : type === ICMP6.TIME_EXCEEDED;
    const unreachable = v4 ? type === ICMP4.UNREACH : type === ICMP6.UNREACH || type === ICMP6.PACKET_TOO_BIG;
    if (!timeExceeded && !unreachable) return null;
    const seq = this.quotedSequence(p);
    if (seq === null) return null;
    if (timeExceeded) return this.reply('time-exceeded', p, seq, replyTtl, null);
    const mtu = p.icmp.mtu >= 0 ? p.icmp.mtu : null;
    if (!v4 && type === ICMP6.PACKET_TOO_BIG) return this.reply('unreachable', p, seq, replyTtl, packetTooBig(mtu));
    const portUnreachable = code === (v4 ? ICMP4_PORT_UNREACHABLE : ICMP6_PORT_UNREACHABLE);
    if (portUnreachable) {
      return this.fromDestination(p)
        ? this.reply('port-unreachable', p, seq, replyTtl, null)
        : this.reply('unreachable', p, seq, replyTtl, FOREIGN_PORT_UNREACHABLE);
    }
    return this.reply('unreachable', p, seq, replyTtl, unreachableMeaning(this.flow.family, code, mtu));
  }

  /** The sequence of the probe quoted in an ICMP error, or null when the quote is not one of ours. */
  private quotedSequence(p: DecodedPacket): number | null {
    if (p.icmp.quotedOffset < 0 || p.icmp.quotedLength <= 0) return null;
    const q = this.decoder.decodeIpAt(p.data, p.icmp.quotedOffset, p.icmp.quotedOffset + p.icmp.quotedLength, this.inner);
    if (q.ipVersion !== this.flow.family) return null;
    if (!sameAddress(q, this.flow.destinationBytes, 'dst')) return null;
    const qProto = q.ipVersion === 4 ? q.ipv4.protocol : q.ipv6.upperProtocol;
    if (qProto !== this.proto) return null;
    const flow = this.flow;
    // The flow's constant part must match what is quoted, as far as the quote goes.
    if (flow.protocol === 'udp') {
      if (!q.udp.present || q.udp.srcPort !== flow.srcPort || q.udp.dstPort !== flow.dstPort) return null;
    } else if (flow.protocol === 'tcp') {
      if (!q.tcp.present || q.tcp.srcPort !== flow.srcPort || q.tcp.dstPort !== flow.dstPort) return null;
      // decode/ reads seq only from a whole 20-byte header; IPv6 quotes always hold one.
      if (q.ipVersion === 6 && q.tcp.headerLength === 0) return null;
    } else {
      if (!q.icmp.present || q.icmp.echoId !== flow.identifier) return null;
    }
    if (q.ipVersion === 4) return q.ipv4.id;
    if (flow.protocol === 'udp') return q.udp.checksum;
    if (flow.protocol === 'tcp') return q.tcp.seq;
    return q.icmp.echoSeq;
  }

  private parseTcp(p: DecodedPacket, replyTtl: number | null): ProbeReply | null {
    const t = p.tcp;
    if (t.headerLength === 0 || !this.fromDestination(p)) return null;
    if (t.srcPort !== this.flow.dstPort || t.dstPort !== this.flow.srcPort) return null;
    const synAck = (t.flags & (TCP_FLAG.SYN | TCP_FLAG.ACK)) === (TCP_FLAG.SYN | TCP_FLAG.ACK);
    const rst = (t.flags & TCP_FLAG.RST) !== 0;
    if (!synAck && !rst) return null;
    // An answer to our SYN acknowledges seq + 1 (a RST to a SYN carries ACK, RFC 9293 §3.10.7.1).
    if ((t.flags & TCP_FLAG.ACK) === 0) return null;
    return this.reply(synAck ? 'tcp-syn-ack' : 'tcp-rst', p, (t.ack - 1) >>> 0, replyTtl, null);
  }

  private reply(kind: ReplyKind, p: DecodedPacket, seq: number, replyTtl: number | null, u: UnreachableMeaning | null): ProbeReply | null {
    if (seq < 1 || seq > MAX_SEQUENCE) return null;
    const isTcp = kind === 'tcp-syn-ack' || kind === 'tcp-rst';
    return {
      kind,
      responder: srcAddress(p) ?? '?',
      sequence: sequence(seq) as Sequence,
      icmpType: isTcp ? -1 : p.icmp.type,
      icmpCode: isTcp ? -1 : p.icmp.code,
      mtu: !isTcp && p.icmp.mtu >= 0 ? p.icmp.mtu : null,
      flag: u ? u.flag : null,
      flagMeaning: u ? u.meaning : null,
      replyTtl,
    };
  }
}

/** Compares the packet's source or destination address with 4/16 raw bytes (no string allocation). */
function sameAddress(p: DecodedPacket, bytes: Uint8Array, which: 'src' | 'dst'): boolean {
  if (p.ipVersion === 4) {
    if (bytes.length !== 4) return false;
    const n = ((bytes[0] << 24) | (bytes[1] << 16) | (bytes[2] << 8) | bytes[3]) >>> 0;
    return (which === 'src' ? p.ipv4.src : p.ipv4.dst) >>> 0 === n;
  }
  if (p.ipVersion === 6) {
    if (bytes.length !== 16) return false;
    const o = which === 'src' ? p.ipv6.srcOffset : p.ipv6.dstOffset;
    if (o < 0 || o + 16 > p.data.length) return false;
    for (let i = 0; i < 16; i++) if (p.data[o + i] !== bytes[i]) return false;
    return true;
  }
  return false;
}
