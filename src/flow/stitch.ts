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
  /**
   * The owner's id when it was set: owners are pooled objects, so a packet still in the
   * window may name an owner that has since been reused for another connection.
   */
  ownerId: number;
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
  /**
   * Someone keeps a reference past the stitch window (set by `retainPacket`). A stitcher's
   * packet that is not retained goes back to its pool once out of the window and is reused
   * for a later packet: no allocation, and no garbage, per packet.
   */
  retained?: boolean;
  /** Bumped each time a pooled object is reused: a chain link to an older use is stale. */
  serial?: number;
  /** `serial` of `nextSameHash` when the link was made. */
  nextSerial?: number;
  /** A stitcher's packet still inside the window (in its ring, findable by later copies). */
  inRing?: boolean;
}

/** Without stitching a packet has one hop: those arrays are shared, one per observation point (never written). */
const SINGLE_HOPS: number[][] = [];

/**
 * Who owns the copies of the scratch packet made for it (the connection the packet belongs
 * to): they are its, reused from one of its lives to the next (Connection.reuse starts
 * `copiesUsed` again at 0) — nothing to give back one by one.
 */
export interface CopyOwner {
  readonly copies: StitchedPacket[];
  copiesUsed: number;
}

/** The packet itself, or a copy when it is the analyzer's reused scratch object (owned by `p.owner`, a CopyOwner). */
export function retainPacket(p: StitchedPacket): StitchedPacket {
  if (!p.scratch) { p.retained = true; return p; }
  if (p.copy) return p.copy;
  const point = p.hops[0];
  const hops = SINGLE_HOPS[point] ?? (SINGLE_HOPS[point] = [point, 0]);
  const owner = p.owner as CopyOwner | null;
  if (owner !== null && owner.copiesUsed < owner.copies.length) {
    const c = owner.copies[owner.copiesUsed++];
    c.hash = p.hash; c.check = p.check; c.firstUs = p.firstUs; c.hops = hops; c.src = p.src; c.dst = p.dst;
    c.srcPort = p.srcPort; c.dstPort = p.dstPort; c.owner = p.owner; c.ownerId = p.ownerId; c.side = p.side; c.leg = p.leg; c.firstLeg = p.firstLeg;
    return (p.copy = c);
  }
  p.copy = {
    hash: p.hash, check: p.check, firstUs: p.firstUs, hops, src: p.src, dst: p.dst, srcPort: p.srcPort,
    dstPort: p.dstPort, owner: p.owner, ownerId: p.ownerId, side: p.side, leg: p.leg, firstLeg: p.firstLeg, nextSameHash: null, scratch: false, copy: null,
    retained: true, serial: 0, nextSerial: -1, inRing: false,
  };
  if (owner !== null) { owner.copies.push(p.copy); owner.copiesUsed++; }
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

/**
 * Entries of a bucket's chain looked at, at most. With the table at most half full, a chain
 * holds one or two packets; only packets alike in every field NAT leaves alone (crafted: the
 * same seq, ack, ID and payload from many connections) make it long — each look-up would then
 * walk all of them. Past it, the packet counts as a new one.
 */
const MAX_CHAIN_STEPS = 32;
/** Observation points of one packet, at most (no real packet crosses that many interfaces): keeps `hasPoint` short. */
const MAX_POINTS_PER_PACKET = 32;

/**
 * Buckets of the stitch table at first (a power of two): live packets are those of the last
 * window only — a few thousand at most at ordinary rates — and a small table stays in the
 * CPU's cache. It doubles whenever the live packets outnumber half its buckets.
 */
const INITIAL_TABLE_BITS = 12;

export class PacketStitcher {
  /** Hash table: bucket → newest live packet, older ones of the bucket chained by `nextSameHash`. */
  private table: Array<StitchedPacket | null> = new Array<StitchedPacket | null>(1 << INITIAL_TABLE_BITS).fill(null);
  private mask = (1 << INITIAL_TABLE_BITS) - 1;
  /** Live packets in arrival order: a ring (power-of-two capacity, grown when full), to expire them after the window. */
  private ring: Array<StitchedPacket | null> = new Array<StitchedPacket | null>(1024).fill(null);
  private ringHead = 0;
  private ringCount = 0;
  /** Packets out of the window that nobody retained: reused for new packets (at most `maxLive`). */
  private readonly pool: StitchedPacket[] = [];
  packets = 0;
  stitched = 0;
  maxCopies = 1;
  /** Whether the packet returned by the last `stitch` call was its first copy. */
  lastWasFirst = false;
  /** Most packets in the window at once, and packets that left it early because it held `maxLive`. */
  peak = 0;
  leftEarly = 0;

  /**
   * `maxLive`: packets in the window at most (a power of two; a capture whose every packet
   * has the same time would otherwise keep them all): past it the oldest leaves early.
   */
  constructor(readonly windowUs: number = DEFAULT_STITCH_WINDOW_US, readonly maxLive: number = 1 << 18) {}

  /**
   * Returns the packet this copy belongs to, and whether it is the packet's first copy.
   * `point` is the observation point code of the copy.
   */
  stitchAcrossInterfaces(f: CopyFields, point: PointCode, tsUs: number): { packet: StitchedPacket; first: boolean } {
    const packet = this.stitch(f, point, tsUs);
    return { packet, first: this.lastWasFirst };
  }

  /**
   * The same without a result object (the analyzer's hot path): the packet, with
   * `lastWasFirst` telling whether it is new. A packet not retained with `retainPacket`
   * must not be kept beyond the window: its object is then reused.
   */
  stitch(f: CopyFields, point: PointCode, tsUs: number): StitchedPacket {
    this.expire(tsUs);
    const hash = copyHash(f);
    const check = copyCheck(f);
    const bucket = hash & this.mask;
    const newest = this.table[bucket];
    let p: StitchedPacket | null = newest;
    for (let steps = 0; p !== null && steps < MAX_CHAIN_STEPS; steps++) {
      if (tsUs - p.firstUs > this.windowUs) break;
      if (p.hash === hash && p.check === check && p.hops.length < 2 * MAX_POINTS_PER_PACKET && !hasPoint(p.hops, point)) {
        p.hops.push(point, tsUs - p.firstUs);
        const copies = p.hops.length >> 1;
        if (copies === 2) this.stitched++;
        if (copies > this.maxCopies) this.maxCopies = copies;
        this.lastWasFirst = false;
        return p;
      }
      const next: StitchedPacket | null = p.nextSameHash;
      // A link to an object that has been reused since is stale: the chain ends there.
      if (next === null || next.serial !== p.nextSerial) break;
      p = next;
    }
    const link = newest !== null && tsUs - newest.firstUs <= this.windowUs ? newest : null;
    let packet = this.pool.pop();
    if (packet === undefined) {
      // Room for three copies (ens5, docker0, veth) without growing: shortening the length
      // keeps the backing store when it is this small.
      const hops = [point, 0, 0, 0, 0, 0];
      hops.length = 2;
      packet = {
        hash, check, firstUs: tsUs,
        hops, src: f.src, dst: f.dst, srcPort: f.srcPort, dstPort: f.dstPort,
        owner: null, ownerId: -1, side: 0, leg: 0, firstLeg: 0, scratch: false, copy: null,
        nextSameHash: link, retained: false, serial: 0, nextSerial: link === null ? -1 : link.serial!, inRing: false,
      };
    } else {
      packet.hash = hash; packet.check = check; packet.firstUs = tsUs;
      // Shrinking keeps the backing store (`length = 0` would drop it and allocate again).
      const hops = packet.hops;
      hops[0] = point; hops[1] = 0;
      if (hops.length > 2) hops.length = 2;
      packet.src = f.src; packet.dst = f.dst; packet.srcPort = f.srcPort; packet.dstPort = f.dstPort;
      packet.owner = null; packet.ownerId = -1; packet.side = 0; packet.leg = 0; packet.firstLeg = 0;
      packet.nextSameHash = link;
      packet.nextSerial = link === null ? -1 : link.serial!;
      packet.serial!++;
    }
    this.table[bucket] = packet;
    this.enqueue(packet);
    this.packets++;
    this.lastWasFirst = true;
    return packet;
  }

  /**
   * The owner of a retained packet is done with it (its connection was summarised and
   * nothing refers to the packet any more): it is given back for reuse, at most once. A copy
   * made by `retainPacket` (its hop list is a shared one) stays its connection's (CopyOwner);
   * a stitcher's own packet goes to this stitcher's pool — now if it is out of the window,
   * else when it leaves it. The scratch object is left alone.
   */
  release(p: StitchedPacket | null): void {
    if (p === null || p.scratch) return;
    if (p.hops === SINGLE_HOPS[p.hops[0]]) return;
    if (p.retained !== true) return;
    p.retained = false;
    if (p.inRing === true) return;
    p.owner = null;
    if (this.pool.length < this.maxLive) this.pool.push(p);
  }

  private enqueue(packet: StitchedPacket): void {
    packet.inRing = true;
    if (this.ringCount >= this.maxLive) {
      this.leave();
      this.leftEarly++;
    }
    if (this.ringCount === this.ring.length) {
      // Full: double, unrolled from the head.
      const old = this.ring;
      const grown = new Array<StitchedPacket | null>(old.length * 2).fill(null);
      for (let i = 0; i < this.ringCount; i++) grown[i] = old[(this.ringHead + i) & (old.length - 1)];
      this.ring = grown;
      this.ringHead = 0;
    }
    this.ring[(this.ringHead + this.ringCount) & (this.ring.length - 1)] = packet;
    this.ringCount++;
    if (this.ringCount > this.peak) this.peak = this.ringCount;
    if (this.ringCount > (this.mask + 1) >> 1) this.growTable();
  }

  /** Doubles the table and chains the live packets again, oldest first (so each bucket's newest stays first). */
  private growTable(): void {
    const size = (this.mask + 1) * 2;
    const table = new Array<StitchedPacket | null>(size).fill(null);
    const mask = size - 1;
    const ring = this.ring;
    const ringMask = ring.length - 1;
    for (let i = 0; i < this.ringCount; i++) {
      const p = ring[(this.ringHead + i) & ringMask]!;
      const bucket = p.hash & mask;
      const older = table[bucket];
      p.nextSameHash = older;
      p.nextSerial = older === null ? -1 : older.serial!;
      table[bucket] = p;
    }
    this.table = table;
    this.mask = mask;
  }

  /** Buckets in the table (for tests). */
  get tableSize(): number {
    return this.mask + 1;
  }

  private expire(nowUs: number): void {
    while (this.ringCount > 0 && nowUs - this.ring[this.ringHead]!.firstUs > this.windowUs) this.leave();
  }

  /** The oldest packet leaves the window: no later copy finds it; back to the pool unless retained. */
  private leave(): void {
    const ring = this.ring;
    const p = ring[this.ringHead]!;
    const bucket = p.hash & this.mask;
    if (this.table[bucket] === p) this.table[bucket] = null;
    p.nextSameHash = null;
    p.inRing = false;
    ring[this.ringHead] = null;
    this.ringHead = (this.ringHead + 1) & (ring.length - 1);
    this.ringCount--;
    if (!p.retained) {
      p.owner = null;
      if (this.pool.length < this.maxLive) this.pool.push(p);
    }
  }
}

function hasPoint(hops: number[], point: number): boolean {
  for (let i = 0; i < hops.length; i += 2) if (hops[i] === point) return true;
  return false;
}
