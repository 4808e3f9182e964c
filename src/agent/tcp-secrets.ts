/**
 * Masking secret header values in captured packets, per TCP direction: a header line split
 * across segments (in its name, its value, over three segments…) is masked in every
 * segment that carries a byte of its value.
 *
 * Two passes over the packets of a capture (the agent has them all when it writes pcapng):
 *   1. plan   every TCP payload is placed in its direction's sequence space (RFC 9293 §3.4:
 *             a SYN takes one sequence number, data follows), each direction's bytes are
 *             scanned once in sequence order (./secret-scanner.ts keeps its place between
 *             segments), and the values found become ranges of sequence space;
 *   2. mask   each packet's payload bytes that fall in a range become `*`.
 * Working in sequence space, not in packet order, also masks retransmissions and segments
 * that arrived out of order. Only payload bytes change: lengths and sequence numbers stay
 * true (the TCP checksum no longer matches; Wireshark does not check it by default).
 *
 * A direction is keyed by interface index, packet direction and the 4-tuple: `-i any` sees
 * one segment on ens5, docker0 and the veth (and on lo twice), and each copy is its own
 * stream of the same bytes.
 */
import { createDecoder, srcAddress, dstAddress, TCP_FLAG, type DecodedPacket } from '../decode/index.js';
import { DEFAULT_REDACTION, type RedactionPolicy } from '../redaction.js';
import { SecretHeaderScanner } from './secret-scanner.js';

const STAR = 0x2a;
/** Sequence numbers are 32-bit and wrap (RFC 9293 §3.4). */
const SEQ_MODULO = 2 ** 32;

interface Segment {
  /** Where the segment's data sits, relative to the direction's first data sequence number seen (signed). */
  relative: number;
  packet: number;
  payloadOffset: number;
  capturedLength: number;
}

interface Direction {
  baseSeq: number;
  segments: Segment[];
  /** The smallest `relative` of the direction: stream offset 0. */
  origin: number;
  /** Secret value ranges [start, end) in stream offsets, flat pairs. */
  ranges: number[];
}

export interface SecretMaskPlan {
  /** Secret header values found (each once, however many segments carry it). */
  readonly values: number;
  /**
   * Overwrites, in place, the bytes of `data` (a packet of `linkType`, one of those planned)
   * that belong to a secret value. Returns how many values it touched.
   */
  mask(linkType: number, data: Uint8Array): number;
}

function directionKey(p: DecodedPacket): string | null {
  if (p.transport !== 'tcp' || !p.tcp.present) return null;
  return `${p.link.ifindex}|${p.link.packetType}|${srcAddress(p)}|${p.tcp.srcPort}|${dstAddress(p)}|${p.tcp.dstPort}`;
}

/** The sequence number of the segment's first data byte. */
function dataSeq(p: DecodedPacket): number {
  return (p.tcp.seq + ((p.tcp.flags & TCP_FLAG.SYN) !== 0 ? 1 : 0)) % SEQ_MODULO;
}

/** Signed distance from `base` to `seq` in 32-bit sequence space. */
function seqDistance(seq: number, base: number): number {
  return ((seq - base) | 0);
}

/** Plans the masking of every secret header value in `packets` (pass 1 above). */
export function planSecretMasks(packets: ReadonlyArray<{ linkType: number; data: Uint8Array }>, policy: RedactionPolicy = DEFAULT_REDACTION): SecretMaskPlan {
  const decoder = createDecoder({ http: false });
  const directions = new Map<string, Direction>();
  for (let i = 0; i < packets.length; i++) {
    const p = decoder.decode(packets[i].linkType, packets[i].data);
    const key = directionKey(p);
    if (key === null || p.tcp.capturedPayloadLength <= 0) continue;
    const seq = dataSeq(p);
    let d = directions.get(key);
    if (!d) { d = { baseSeq: seq, segments: [], origin: 0, ranges: [] }; directions.set(key, d); }
    d.segments.push({ relative: seqDistance(seq, d.baseSeq), packet: i, payloadOffset: p.tcp.payloadOffset, capturedLength: p.tcp.capturedPayloadLength });
  }
  let values = 0;
  for (const d of directions.values()) {
    // Sequence order; equal starts keep capture order (the first copy is the one scanned).
    d.segments.sort((a, b) => a.relative - b.relative || a.packet - b.packet);
    d.origin = d.segments[0].relative;
    const scanner = new SecretHeaderScanner(policy.names);
    let scannedTo = 0;
    for (const s of d.segments) {
      const start = s.relative - d.origin;
      const end = start + s.capturedLength;
      if (end <= scannedTo) continue; // a retransmission of bytes already scanned
      const from = Math.max(start, scannedTo);
      const bytes = packets[s.packet].data;
      scanner.feed(bytes, s.payloadOffset + (from - start), s.payloadOffset + s.capturedLength, from);
      scannedTo = end;
    }
    scanner.finish();
    d.ranges = scanner.ranges;
    values += scanner.values;
  }

  return {
    values,
    mask(linkType: number, data: Uint8Array): number {
      const p = decoder.decode(linkType, data);
      const key = directionKey(p);
      if (key === null || p.tcp.capturedPayloadLength <= 0) return 0;
      const d = directions.get(key);
      if (!d || d.ranges.length === 0) return 0;
      const start = seqDistance(dataSeq(p), d.baseSeq) - d.origin;
      const end = start + p.tcp.capturedPayloadLength;
      let touched = 0;
      for (let r = 0; r < d.ranges.length; r += 2) {
        const from = Math.max(start, d.ranges[r]);
        const to = Math.min(end, d.ranges[r + 1]);
        if (from >= to) continue;
        data.fill(STAR, p.tcp.payloadOffset + (from - start), p.tcp.payloadOffset + (to - start));
        touched++;
      }
      return touched;
    },
  };
}
