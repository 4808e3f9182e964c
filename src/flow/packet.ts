/**
 * What flow reads of one packet record — the same fields whichever way the packet came:
 * decoded in this thread (`flowPacketOf`), or decoded by the reading worker and handed over
 * in a batch (batch.ts). One object, reused for every packet; `data` and the offsets are
 * valid until the next packet.
 */
import type { PacketRecord } from '../capture/index.js';
import { createDecoder, decodeTcpFast, httpHeadKind, newTcpFastFields, type DecodedPacket, type PacketDecoder } from '../decode/index.js';
import { HEAD_LAYOUT_SLOTS, layHead } from './http-head.js';
import { hashPayload } from './stitch.js';

/** Direction codes of an observation point (stitch.ts DIRECTION_CODES). */
export const DIR_CODE: Readonly<Record<string, number>> = { unknown: 0, in: 1, out: 2, broadcast: 3, multicast: 4, otherhost: 5 };

export interface FlowPacket {
  /** µs since the epoch (as `tsSec * 1e6 + floor(tsNsec / 1000)`). */
  tsUs: number;
  /** The record's capture interface (pcapng IDB index, 0 for pcap). */
  interfaceId: number;
  /** The SLL2 interface index, or -1 (another link type). */
  sll2Ifindex: number;
  /** An `-i any` link type (SLL, SLL2): copies are to be stitched when stitching is 'auto'. */
  anyLink: boolean;
  /** The direction code (epb_flags first, else the link layer's). */
  dirCode: number;
  /** TCP over IPv4/IPv6, not a fragment, not malformed: analysed. Otherwise only counted (and the fields below are not set). */
  tcp: boolean;
  ipv6: boolean;
  /** IPv4 ID, or the IPv6 flow label. */
  ipId: number;
  /** IPv4 addresses, or 32-bit hashes of the IPv6 ones (their bytes at srcAddrOffset / dstAddrOffset of `data`). */
  src: number;
  dst: number;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  /** TCP payload length as sent, and how much of it the capture holds (at payloadOffset of `data`). */
  payloadLength: number;
  capturedPayloadLength: number;
  /** hashPayload of the captured payload when `payloadHashed` (the reading worker computes it). */
  payloadHash: number;
  payloadHashed: boolean;
  data: Uint8Array;
  payloadOffset: number;
  srcAddrOffset: number;
  dstAddrOffset: number;
  /** The layout of the HTTP head the payload starts with (http-head.ts layHead) at `headBase`, found by the reading worker; null: none found. */
  headLayout: Float64Array | null;
  headBase: number;
}

export function newFlowPacket(): FlowPacket {
  return {
    tsUs: 0, interfaceId: 0, sll2Ifindex: -1, anyLink: false, dirCode: 0, tcp: false, ipv6: false, ipId: 0, src: 0, dst: 0,
    srcPort: 0, dstPort: 0, seq: 0, ack: 0, flags: 0, window: 0, payloadLength: 0, capturedPayloadLength: 0, payloadHash: 0,
    payloadHashed: false, data: new Uint8Array(0), payloadOffset: 0, srcAddrOffset: 0, dstAddrOffset: 0, headLayout: null, headBase: 0,
  };
}

/** Fills `out` from a record and its decoded layers (`hash`: compute the payload hash now). */
export function flowPacketOf(record: PacketRecord, d: DecodedPacket, out: FlowPacket, hash = false): FlowPacket {
  out.tsUs = record.tsSec * 1e6 + Math.floor(record.tsNsec / 1000);
  out.interfaceId = record.interfaceId;
  const link = d.link;
  out.sll2Ifindex = link.kind === 'linux_sll2' && link.ifindex >= 0 ? link.ifindex : -1;
  out.anyLink = link.kind === 'linux_sll2' || link.kind === 'linux_sll';
  out.dirCode = record.epbDirection === 1 ? 1 : record.epbDirection === 2 ? 2 : dirCodeOf(link.direction);
  const t = d.tcp;
  out.tcp = d.transport === 'tcp' && t.present && t.malformed === null && !(d.ipVersion === 4 && (d.ipv4.moreFragments || d.ipv4.fragmentOffsetBytes > 0));
  if (!out.tcp) return out;
  out.data = d.data;
  if (d.ipVersion === 4) {
    out.ipv6 = false;
    out.ipId = d.ipv4.id;
    out.src = d.ipv4.src;
    out.dst = d.ipv4.dst;
  } else {
    out.ipv6 = true;
    out.ipId = d.ipv6.flowLabel;
    out.srcAddrOffset = d.ipv6.srcOffset;
    out.dstAddrOffset = d.ipv6.dstOffset;
    out.src = hash16(d.data, d.ipv6.srcOffset);
    out.dst = hash16(d.data, d.ipv6.dstOffset);
  }
  out.seq = t.seq;
  out.ack = t.ack;
  out.flags = t.flags;
  out.window = t.window;
  out.srcPort = t.srcPort;
  out.dstPort = t.dstPort;
  out.payloadLength = t.payloadLength;
  out.capturedPayloadLength = t.capturedPayloadLength;
  out.payloadOffset = t.payloadOffset;
  out.payloadHashed = hash && t.capturedPayloadLength > 0;
  out.payloadHash = out.payloadHashed ? hashPayload(d.data, t.payloadOffset, t.capturedPayloadLength) : 0;
  out.headLayout = null;
  return out;
}

/**
 * Records → FlowPackets: the common case (Ethernet / SLL / SLL2, IPv4, a whole TCP header) by
 * decode's one-pass fast path, the rest by the full decoder — the same fields either way
 * (test/decode/tcp-fast.test.ts). `hash`: compute the payload hash now (the reading worker).
 */
export class FlowPacketReader {
  private readonly decoder: PacketDecoder = createDecoder({ http: false, tcpOptions: false });
  private readonly fast = newTcpFastFields();
  private readonly layout = new Float64Array(HEAD_LAYOUT_SLOTS);
  readonly packet: FlowPacket = newFlowPacket();

  /** `ahead`: the reading worker's reader — the payload hash and the layout of a head the payload starts with are found now. */
  constructor(private readonly ahead = false) {}

  read(record: PacketRecord): FlowPacket {
    const out = this.readFields(record);
    if (this.ahead && out.tcp && out.capturedPayloadLength > 0) {
      const kind = httpHeadKind(out.data, out.payloadOffset, out.capturedPayloadLength);
      if (kind !== null && layHead(out.data, out.payloadOffset, out.capturedPayloadLength, kind, this.layout, 0)) {
        out.headLayout = this.layout;
        out.headBase = 0;
      }
    }
    return out;
  }

  private readFields(record: PacketRecord): FlowPacket {
    const data = record.buffer ?? record.data;
    const offset = record.buffer !== undefined ? record.offset! : 0;
    const end = Math.min(offset + record.capturedLength, data.length);
    const out = this.packet;
    const f = this.fast;
    if (!decodeTcpFast(record.linkType, data, offset, end, f)) {
      return flowPacketOf(record, this.decoder.decodeAt(record.linkType, data, offset, end), out, this.ahead);
    }
    out.tsUs = record.tsSec * 1e6 + Math.floor(record.tsNsec / 1000);
    out.interfaceId = record.interfaceId;
    out.sll2Ifindex = f.ifindex;
    out.anyLink = f.anyLink;
    out.dirCode = record.epbDirection === 1 ? 1 : record.epbDirection === 2 ? 2 : f.dirCode;
    out.tcp = true;
    out.data = data;
    out.ipv6 = false;
    out.ipId = f.ipId;
    out.src = f.src;
    out.dst = f.dst;
    out.seq = f.seq;
    out.ack = f.ack;
    out.flags = f.flags;
    out.window = f.window;
    out.srcPort = f.srcPort;
    out.dstPort = f.dstPort;
    out.payloadLength = f.payloadLength;
    out.capturedPayloadLength = f.capturedPayloadLength;
    out.payloadOffset = f.payloadOffset;
    out.payloadHashed = this.ahead && f.capturedPayloadLength > 0;
    out.payloadHash = out.payloadHashed ? hashPayload(data, f.payloadOffset, f.capturedPayloadLength) : 0;
    out.headLayout = null;
    return out;
  }
}

/** DIR_CODE[direction] without a keyed look-up per packet. */
function dirCodeOf(direction: string): number {
  switch (direction) {
    case 'in': return 1;
    case 'out': return 2;
    case 'broadcast': return 3;
    case 'multicast': return 4;
    case 'otherhost': return 5;
    default: return 0;
  }
}

/** 32-bit FNV-1a of a 16-byte IPv6 address. */
function hash16(data: Uint8Array, offset: number): number {
  let h = 0x811c9dc5;
  for (let i = offset; i < offset + 16; i++) h = Math.imul(h ^ data[i], 0x01000193);
  return h | 0;
}
