/**
 * Stitching: `tcpdump -i any` on a Docker host sees one packet several times — on ens5,
 * then on docker0, then on the container's veth — with the destination rewritten by DNAT
 * in between. `stitchAcrossInterfaces` folds those copies into one packet observed at
 * several points.
 *
 * A copy matches an earlier packet on the fields NAT leaves alone: IPv4 ID, TCP seq, ack,
 * flags, window, payload length and a hash of the first payload bytes; it must come within
 * `windowUs` of the first copy and at an observation point (interface + direction) the
 * packet was not yet seen at — one packet cannot pass the same point twice, so a
 * retransmission (same seq, same bytes) seen again on ens5 is a new packet.
 */

/** Observation point: interface number (index into the analyzer's interface table) × 8 + direction code. */
export type PointCode = number;

export const DIRECTION_CODES = ['unknown', 'in', 'out', 'broadcast', 'multicast', 'otherhost'] as const;

/** A packet seen at one or more points. Hops are packed: point code, then µs since the first copy. */
export interface StitchedPacket {
  /** Two independent 32-bit hashes of the fields that survive NAT (ID, seq, ack, flags, window, length, payload). */
  hash: number;
  check: number;
  firstUs: number;
  /** [point, offsetUs, point, offsetUs, …] in arrival order. */
  hops: number[];
  /** The tuple of the latest copy (to see NAT rewrites between consecutive copies). */
  src: number;
  dst: number;
  srcPort: number;
  dstPort: number;
  /** The owning connection, the side that sent it and the leg of its latest copy (set by the analyzer). */
  owner: unknown;
  side: number;
  leg: number;
  /** The leg of the first copy (the outermost view for a packet entering the host). */
  firstLeg: number;
  /** Older live packet with the same hash. */
  nextSameHash: StitchedPacket | null;
  /** A reused object (no stitching): copy it with `retainPacket` before keeping a reference. */
  scratch: boolean;
  /** For the scratch object: the copy already made of the current packet (one per packet). */
  copy: StitchedPacket | null;
}

/** Without stitching a packet has one hop: those arrays are shared, one per observation point (never written). */
const SINGLE_HOPS: number[][] = [];

/** The packet itself, or a copy when it is the analyzer's reused scratch object. */
export function retainPacket(p: StitchedPacket): StitchedPacket {
  if (!p.scratch) return p;
  if (p.copy) return p.copy;
  const point = p.hops[0];
  const hops = SINGLE_HOPS[point] ?? (SINGLE_HOPS[point] = [point, 0]);
  p.copy = {
    hash: p.hash, check: p.check, firstUs: p.firstUs, hops, src: p.src, dst: p.dst, srcPort: p.srcPort,
    dstPort: p.dstPort, owner: p.owner, side: p.side, leg: p.leg, firstLeg: p.firstLeg, nextSameHash: null, scratch: false, copy: null,
  };
  return p.copy;
}

/** Fields of one copy, filled by the caller (reused object). */
export interface CopyFields {
  ipId: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  payloadLength: number;
  payloadHash: number;
  src: number;
  dst: number;
  srcPort: number;
  dstPort: number;
}

/** Default: copies through one host's stack are µs apart; 50 ms stays under TCP's 200 ms minimum RTO. */
export const DEFAULT_STITCH_WINDOW_US = 50_000;

/** FNV-1a over up to `maxBytes` bytes: enough to tell apart packets that agree on every header field. */
export function hashPayload(data: Uint8Array, offset: number, length: number, maxBytes = 32): number {
  let h = 0x811c9dc5;
  const end = offset + Math.min(length, maxBytes);
  for (let i = offset; i < end; i++) h = Math.imul(h ^ data[i], 0x01000193);
  return h | 0;
}

/** A second hash of the same fields, independent of copyHash: together 64 bits decide "same packet". */
export function copyCheck(f: CopyFields): number {
  let h = Math.imul(f.payloadHash ^ 0x5bd1e995, 0xcc9e2d51);
  h = Math.imul(h ^ f.seq ^ (f.payloadLength << 20), 0x1b873593);
  h = Math.imul(h ^ f.ack ^ (f.window << 11), 0xe6546b64);
  h = Math.imul(h ^ f.ipId ^ (f.flags << 19) ^ (h >>> 13), 0x85ebca6b);
  return (h ^ (h >>> 16)) | 0;
}

export function copyHash(f: CopyFields): number {
  let h = Math.imul(f.seq ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ f.ack, 0xc2b2ae35);
  h = Math.imul(h ^ (f.ipId << 16) ^ f.flags, 0x27d4eb2f);
  h = Math.imul(h ^ f.payloadLength ^ (f.window << 8), 0x165667b1);
  return (h ^ f.payloadHash ^ (h >>> 15)) | 0;
}

/** Buckets of the stitch table (a power of two): live packets are those of the last window only. */
const TABLE_BITS = 17;

export class PacketStitcher {
  /** Hash table: bucket → newest live packet, older ones of the bucket chained by `nextSameHash`. */
  private readonly table: Array<StitchedPacket | null> = new Array<StitchedPacket | null>(1 << TABLE_BITS).fill(null);
  private readonly mask = (1 << TABLE_BITS) - 1;
  /** Live packets in arrival order (a ring), to expire them after the window. */
  private queue: StitchedPacket[] = [];
  private head = 0;
  packets = 0;
  stitched = 0;
  maxCopies = 1;

  constructor(readonly windowUs: number = DEFAULT_STITCH_WINDOW_US) {}

  /**
   * Returns the packet this copy belongs to, and whether it is the packet's first copy.
   * `point` is the observation point code of the copy.
   */
  stitchAcrossInterfaces(f: CopyFields, point: PointCode, tsUs: number): { packet: StitchedPacket; first: boolean } {
    this.expire(tsUs);
    const hash = copyHash(f);
    const check = copyCheck(f);
    const bucket = hash & this.mask;
    const newest = this.table[bucket];
    for (let p: StitchedPacket | null = newest; p !== null; p = p.nextSameHash) {
      if (tsUs - p.firstUs > this.windowUs) break;
      if (p.hash !== hash || p.check !== check) continue;
      if (hasPoint(p.hops, point)) continue;
      p.hops.push(point, tsUs - p.firstUs);
      const copies = p.hops.length >> 1;
      if (copies === 2) this.stitched++;
      if (copies > this.maxCopies) this.maxCopies = copies;
      return { packet: p, first: false };
    }
    const packet: StitchedPacket = {
      hash, check, firstUs: tsUs,
      hops: [point, 0], src: f.src, dst: f.dst, srcPort: f.srcPort, dstPort: f.dstPort,
      owner: null, side: 0, leg: 0, firstLeg: 0, scratch: false, copy: null,
      nextSameHash: newest !== null && tsUs - newest.firstUs <= this.windowUs ? newest : null,
    };
    this.table[bucket] = packet;
    this.queue.push(packet);
    this.packets++;
    return { packet, first: true };
  }

  private expire(nowUs: number): void {
    const q = this.queue;
    while (this.head < q.length) {
      const p = q[this.head];
      if (nowUs - p.firstUs <= this.windowUs) break;
      const bucket = p.hash & this.mask;
      if (this.table[bucket] === p) this.table[bucket] = null;
      p.nextSameHash = null;
      this.head++;
    }
    // Compact the ring now and then so the array does not grow with the capture.
    if (this.head > 4096 && this.head * 2 > q.length) {
      this.queue = q.slice(this.head);
      this.head = 0;
    }
  }
}

function hasPoint(hops: number[], point: number): boolean {
  for (let i = 0; i < hops.length; i += 2) if (hops[i] === point) return true;
  return false;
}
