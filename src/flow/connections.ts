/**
 * TCP connection tracking (RFC 9293): the life of each connection as a state machine, and
 * per direction the sequence space — what is new, retransmitted, out of order or missing —
 * with the in-order bytes handed to the HTTP parser.
 *
 * A connection is keyed by its endpoints as seen at each observation point (NAT gives it
 * several keys, see nat.ts). Sides are `a` (the sender of the first packet seen) and `b`;
 * which of them is the client is decided by the SYN, else by HTTP (who sends requests),
 * else by ports (the lower, well-known port is the server's).
 */
import { TCP_FLAG } from '../decode/index.js';
import { empty } from './arrays.js';
import type { SharedBudget } from './bounds.js';
import { ExchangePairing, HttpStream, type ExchangeBuilder } from './http-exchanges.js';
import { retainPacket, type CopyOwner, type StitchedPacket } from './stitch.js';
import type { Leg } from './nat.js';
import { LIST_NONE } from './table.js';

/** What the connections of one analysis share: the global bounds, exchange ids, and where an exchange summarised early goes. */
export interface ConnectionContext {
  readonly budget: SharedBudget;
  nextExchangeId(): number;
  /** The held exchanges are at their bound: `ex`, the connection's oldest, is summarised now and let go. */
  summariseEarly(conn: Connection, ex: ExchangeBuilder): void;
  /** Whether an exchange parsed now may be kept (its head's texts are then read, else only what frames the body). */
  wantTexts(): boolean;
}

/**
 * The connection's state. Transitions (`on…` in `Connection`):
 *  1. first packet is a SYN without ACK              → syn-sent
 *  2. syn-sent + SYN-ACK from the other side          → syn-received
 *  3. syn-received + ACK from the SYN's sender        → established (via handshake)
 *  4. first packet is anything but a bare SYN         → established (midstream: the capture
 *     began after the handshake, e.g. a load balancer's keep-alive connection)
 *  5. established + FIN from one side                 → closing (that side)
 *  6. closing + FIN from the other side               → closed (fin)
 *  7. any state + RST                                 → reset (by that side); final
 *  8. syn-sent + SYN again (same ISN)                 → syn-sent (a SYN retransmission, counted)
 */
export type TcpState =
  | { kind: 'syn-sent' }
  | { kind: 'syn-received' }
  | { kind: 'established'; via: 'handshake' | 'midstream' }
  | { kind: 'closing'; finFrom: Side }
  | { kind: 'closed' }
  | { kind: 'reset'; by: Side };

export type Side = 'a' | 'b';

const SYN_SENT: TcpState = { kind: 'syn-sent' };
const SYN_RECEIVED: TcpState = { kind: 'syn-received' };
const EST_HANDSHAKE: TcpState = { kind: 'established', via: 'handshake' };
const EST_MIDSTREAM: TcpState = { kind: 'established', via: 'midstream' };
const CLOSED: TcpState = { kind: 'closed' };

/** Out-of-order segments held back for the HTTP parser, per direction. */
const MAX_PENDING_SEGMENTS = 16;
const MAX_PENDING_BYTES = 256 * 1024;
/**
 * Reordering vs retransmission, as Wireshark decides it: a segment below the highest
 * sequence seen that comes within the connection's handshake RTT (3 ms when unknown) of the
 * segment that set it, and is not a copy of that segment, is out of order; otherwise it was
 * sent again.
 */
const REORDER_WINDOW_US = 3_000;

interface Pending { seq: number; bytes: Uint8Array; tsUs: number; packet: StitchedPacket }

interface Hole { start: number; end: number }

/** One direction of a connection (sender side `from`). */
export class DirectionTracker {
  packets = 0;
  payloadBytes = 0;
  retransmissions = 0;
  outOfOrder = 0;
  keepAlives = 0;
  zeroWindows = 0;
  private windowWasZero = false;
  /** Next sequence number after the highest byte seen (SYN and FIN count one), and when it was set. */
  private nextSeq = 0;
  private nextSeqUs = 0;
  /** The connection's handshake round trip when known (the reordering threshold). */
  reorderWindowUs = REORDER_WINDOW_US;
  private seqKnown = false;
  /** Next byte the HTTP parser expects. */
  private streamNext = 0;
  private holes: Hole[] | null = null;
  private pending: Pending[] | null = null;
  private pendingBytes = 0;
  lostSegments = 0;
  /** SYNs (client side) or SYN-ACKs (server side) sent again. */
  synRepeats = 0;
  /** The largest payload this side sent, and the largest it sent again. */
  maxPayloadBytes = 0;
  maxRetransmittedBytes = 0;
  /** The highest acknowledgment the other side sent for this side's data (valid when ackSeen). */
  private highestAck = 0;
  private ackSeen = false;
  finSeen = false;
  /** The first packet carrying data (its hops show the path this way). */
  firstDataPacket: StitchedPacket | null = null;
  /** The first FIN from this side, and the last SYN (or SYN-ACK) sent again: where they were seen makes the journey. */
  finPacket: StitchedPacket | null = null;
  lastSynPacket: StitchedPacket | null = null;
  /** Made when the first byte comes: most connections of a SYN flood never carry any. */
  private stream: HttpStream | null = null;

  constructor(private readonly owner: Connection, private readonly side: Side) {}

  /** This direction's HTTP parser. */
  get http(): HttpStream {
    return (this.stream ??= new HttpStream(this.owner.exchangePairing(), this.owner, this.side, this.owner.ctx.budget));
  }

  /** Back to the state of a new tracker (a pooled connection is reused). */
  reset(): void {
    this.owner.ctx.budget.heldBackBytes -= this.pendingBytes;
    this.packets = 0; this.payloadBytes = 0; this.retransmissions = 0; this.outOfOrder = 0; this.keepAlives = 0;
    this.zeroWindows = 0; this.windowWasZero = false; this.nextSeq = 0; this.nextSeqUs = 0;
    this.reorderWindowUs = REORDER_WINDOW_US; this.seqKnown = false; this.streamNext = 0; this.holes = null;
    this.pending = null; this.pendingBytes = 0; this.lostSegments = 0; this.synRepeats = 0; this.finSeen = false;
    this.maxPayloadBytes = 0; this.maxRetransmittedBytes = 0; this.highestAck = 0; this.ackSeen = false;
    this.firstDataPacket = null; this.finPacket = null; this.lastSynPacket = null;
    this.stream?.reset();
  }

  /**
   * Accounts one distinct segment from this side. `length` is the TCP payload length (what
   * was sent); `captured` how much of it the capture holds.
   */
  onSegment(flags: number, seq: number, window: number, data: Uint8Array, payloadOffset: number, length: number, captured: number, tsUs: number, packet: StitchedPacket): void {
    this.packets++;
    const syn = (flags & TCP_FLAG.SYN) !== 0;
    const fin = (flags & TCP_FLAG.FIN) !== 0;
    const rst = (flags & TCP_FLAG.RST) !== 0;
    if (!rst) {
      if (window === 0 && !syn) {
        if (!this.windowWasZero) this.zeroWindows++;
        this.windowWasZero = true;
      } else this.windowWasZero = false;
    }
    if (syn) {
      // SYN data (TCP Fast Open) takes sequence space after the SYN's own one.
      const synEnd = (seq + 1 + length) >>> 0;
      if (this.seqKnown && ((seq - this.nextSeq) | 0) < 0) {
        // A SYN (or SYN-ACK) again: a handshake retransmission — or, quick and different, reordering.
        if (tsUs - this.nextSeqUs < this.reorderWindowUs && synEnd !== this.nextSeq) this.outOfOrder++;
        else { this.synRepeats++; this.lastSynPacket = retainPacket(packet); }
        return;
      }
      this.nextSeq = synEnd;
      this.nextSeqUs = tsUs;
      this.streamNext = (seq + 1) >>> 0;
      this.seqKnown = true;
      if (length > 0) {
        this.payloadBytes += length;
        if (captured > 0) this.deliver(this.streamNext, data, payloadOffset, captured, tsUs, packet);
      }
      return;
    }
    if (rst) return;
    const span = length + (fin ? 1 : 0);
    if (span === 0) {
      // A keep-alive probe (RFC 9293 §3.8.4): no data, one below the next sequence number.
      if (this.seqKnown && seq === ((this.nextSeq - 1) >>> 0)) this.keepAlives++;
      return;
    }
    if (fin && !this.finSeen) { this.finSeen = true; this.finPacket = retainPacket(packet); }
    if (length > 0) {
      this.payloadBytes += length;
      if (length > this.maxPayloadBytes) this.maxPayloadBytes = length;
      if (!this.firstDataPacket) this.firstDataPacket = retainPacket(packet);
    }
    if (!this.seqKnown) {
      // Midstream: the first segment we see sets the origin of the stream.
      this.seqKnown = true;
      this.nextSeq = seq;
      this.nextSeqUs = tsUs;
      this.streamNext = seq;
    }
    const end = (seq + span) >>> 0;
    let d = (seq - this.nextSeq) | 0;
    // One byte below with more data: the byte after a zero-window probe, new data (Wireshark's rule).
    if (d === -1 && length > 1) d = 0;
    if (d === 0) {
      this.nextSeq = end;
      this.nextSeqUs = tsUs;
    } else if (d > 0) {
      // Bytes between nextSeq and seq were never seen: a hole (lost before the capture
      // point, or still to come out of order).
      (this.holes ??= []).push({ start: this.nextSeq, end: seq });
      if (this.holes.length > 64) { this.holes.shift(); this.lostSegments++; }
      this.nextSeq = end;
      this.nextSeqUs = tsUs;
    } else {
      // Starts below what we have seen: fills a hole (reordering or a late retransmission),
      // a keep-alive probe (one byte below nextSeq), or a plain retransmission.
      const holeIndex = this.findHole(seq, end);
      if (holeIndex < 0 && length <= 1 && !fin && ((this.nextSeq - seq) | 0) === 1) {
        this.keepAlives++;
        return;
      }
      if (tsUs - this.nextSeqUs < this.reorderWindowUs && end !== this.nextSeq) this.outOfOrder++;
      else { this.retransmissions++; if (length > this.maxRetransmittedBytes) this.maxRetransmittedBytes = length; }
      if (holeIndex >= 0) this.fillHole(holeIndex, seq, end);
      if (((end - this.nextSeq) | 0) > 0) { this.nextSeq = end; this.nextSeqUs = tsUs; }
    }
    if (captured > 0) this.deliver(seq, data, payloadOffset, captured, tsUs, packet);
    if (captured < length && ((this.streamNext - seq) | 0) >= 0 && ((end - this.streamNext) | 0) > 0) {
      // Cut by the snaplen: the rest of this segment will never be seen. Skip it now rather
      // than hold later segments back waiting for it.
      this.http.gap(((seq + length) - this.streamNext) >>> 0);
      this.streamNext = (seq + length) >>> 0;
      if (this.pending) this.drainPending();
    }
  }

  /** The other side acknowledged up to `ack` (called for its packets that carry ACK). */
  onAck(ack: number): void {
    if (!this.ackSeen || ((ack - this.highestAck) | 0) > 0) { this.highestAck = ack; this.ackSeen = true; }
  }

  /**
   * Sequence space this side sent that the other side never acknowledged (at the end of the
   * capture): the bytes of a response that never arrived, plus its FIN. 0 when no data was
   * sent or no acknowledgment was ever seen (the capture point sees one direction only).
   */
  unackedBytes(): number {
    if (!this.seqKnown || !this.ackSeen || this.payloadBytes === 0) return 0;
    const d = (this.nextSeq - this.highestAck) | 0;
    return d > 0 ? d : 0;
  }

  /** Drops held-back segments and a partial head, giving their bytes back to the shared bounds (the connection is done). */
  dropHeld(): void {
    this.owner.ctx.budget.heldBackBytes -= this.pendingBytes;
    this.pending = null;
    this.pendingBytes = 0;
    this.stream?.dropHead();
  }

  /** Hands in-order bytes to the HTTP parser; holds back bytes past a gap. */
  private deliver(seq: number, data: Uint8Array, offset: number, captured: number, tsUs: number, packet: StitchedPacket): void {
    const http = this.http;
    if (http.state === 'opaque') return;
    const budget = this.owner.ctx.budget;
    const skip = (this.streamNext - seq) | 0;
    if (skip >= captured) return; // nothing new for the stream
    if (skip >= 0) {
      http.feed(data, offset + skip, captured - skip, tsUs, packet);
      this.streamNext = (seq + captured) >>> 0;
      if (this.pending) this.drainPending();
      return;
    }
    // Past a gap: keep a copy until the gap is filled.
    if (!this.pending) this.pending = [];
    const overBudget = budget.heldBackBytes + captured > budget.bounds.heldBackBytes;
    if (this.pending.length >= MAX_PENDING_SEGMENTS || this.pendingBytes + captured > MAX_PENDING_BYTES || overBudget) {
      // The held-back bytes of all connections at their bound: this stream stops waiting.
      if (overBudget) budget.heldBackGivenUp++;
      this.skipGap();
      if (((seq - this.streamNext) | 0) > 0) { http.gap((seq - this.streamNext) >>> 0); this.streamNext = seq; }
      this.deliver(seq, data, offset, captured, tsUs, packet);
      return;
    }
    this.pending.push({ seq, bytes: data.slice(offset, offset + captured), tsUs, packet: retainPacket(packet) });
    this.pendingBytes += captured;
    budget.heldBackBytes += captured;
    if (budget.heldBackBytes > budget.heldBackPeak) budget.heldBackPeak = budget.heldBackBytes;
  }

  private drainPending(): void {
    const pending = this.pending!;
    for (;;) {
      let progressed = false;
      for (let i = 0; i < pending.length; i++) {
        const seg = pending[i];
        const skip = (this.streamNext - seg.seq) | 0;
        if (skip < 0) continue;
        pending.splice(i, 1);
        this.pendingBytes -= seg.bytes.length;
        this.owner.ctx.budget.heldBackBytes -= seg.bytes.length;
        if (skip < seg.bytes.length) {
          this.http.feed(seg.bytes, skip, seg.bytes.length - skip, seg.tsUs, seg.packet);
          this.streamNext = (seg.seq + seg.bytes.length) >>> 0;
        }
        progressed = true;
        break;
      }
      if (!progressed) break;
    }
    if (pending.length === 0) this.pending = null;
  }

  /** Gives up waiting for the oldest gap: the parser jumps to the held-back bytes. */
  skipGap(): void {
    while (this.pending && this.pending.length > 0) {
      let lowest = 0;
      for (let i = 1; i < this.pending.length; i++) if (((this.pending[i].seq - this.pending[lowest].seq) | 0) < 0) lowest = i;
      const seg = this.pending[lowest];
      if (((seg.seq - this.streamNext) | 0) > 0) { this.http.gap((seg.seq - this.streamNext) >>> 0); this.streamNext = seg.seq; }
      this.drainPending();
    }
    this.pending = null;
    this.pendingBytes = 0;
  }

  /** End of the connection or the capture: held-back bytes are delivered, open holes are lost segments. */
  finish(): void {
    this.skipGap();
    if (this.holes) { this.lostSegments += this.holes.length; this.holes = null; }
    this.stream?.close();
  }

  private findHole(start: number, end: number): number {
    if (!this.holes) return -1;
    for (let i = 0; i < this.holes.length; i++) {
      const h = this.holes[i];
      if (((end - h.start) | 0) > 0 && ((h.end - start) | 0) > 0) return i;
    }
    return -1;
  }

  private fillHole(i: number, start: number, end: number): void {
    const holes = this.holes!;
    const h = holes[i];
    const leftOpen = ((start - h.start) | 0) > 0;
    const rightOpen = ((h.end - end) | 0) > 0;
    if (leftOpen && rightOpen) holes.splice(i, 1, { start: h.start, end: start }, { start: end, end: h.end });
    else if (leftOpen) h.end = start;
    else if (rightOpen) h.start = end;
    else holes.splice(i, 1);
    if (holes.length === 0) this.holes = null;
  }
}

/** Addresses are numbers: the IPv4 address, or a 32-bit hash of an IPv6 address (see analyzer). */
export interface TupleView {
  src: number;
  dst: number;
  srcPort: number;
  dstPort: number;
}

/** A distinct view of the endpoints (one per side of a NAT), with where it was seen. */
export interface LegView {
  /** The `a` side's address/port and the `b` side's in this view. */
  aAddr: number;
  aPort: number;
  bAddr: number;
  bPort: number;
  aText: string;
  bText: string;
  /** Bit i set: seen on interface number i (first 32 interfaces). */
  interfaceMask: number;
  /** IPv6 addresses (the texts are the addresses, the numbers hashes of them). */
  readonly ipv6: boolean;
}

/** A NAT rewrite observed between two consecutive copies of one packet. */
export interface NatTransition {
  fromLeg: number;
  toLeg: number;
  /** Interfaces of the copy before and after, and the side that sent the packet. */
  fromInterface: number;
  toInterface: number;
  sender: Side;
}

/** One packet of a connection's packet log (the ladder of the report). */
export interface LoggedPacket {
  packet: StitchedPacket;
  side: Side;
  flags: number;
  payloadLength: number;
}

const NO_EXCHANGES: readonly ExchangeBuilder[] = [];
/** Copies a pooled connection keeps for its next use, at most. */
const MAX_SPARE_COPIES = 16;

export class Connection implements CopyOwner {
  state: TcpState;
  /** null until decided; 'a' or 'b' is the client. */
  clientSide: Side | null = null;
  rolesFrom: 'syn' | 'http' | 'ports' = 'ports';
  readonly a: DirectionTracker;
  readonly b: DirectionTracker;
  /** Made with the first HTTP stream (exchangePairing()). */
  pairing: ExchangePairing | null = null;
  readonly legs: Leg[] = [];
  /** Legs of an earlier use of this (pooled) object, for reuse by addLeg. */
  readonly spareLegs: Leg[] = [];
  /** NAT rewrites seen (null until the first: most connections have none). */
  nat: NatTransition[] | null = null;
  synUs = -1;
  synAckUs = -1;
  ackUs = -1;
  synPacket: StitchedPacket | null = null;
  synAckPacket: StitchedPacket | null = null;
  /** The client's ACK that completed the handshake: proof the SYN-ACK arrived. */
  ackPacket: StitchedPacket | null = null;
  /** The RST that ended it (its hops tell where it came from). */
  rstPacket: StitchedPacket | null = null;
  closeUs = -1;
  firstUs: number;
  lastUs: number;
  observations = 0;
  packets = 0;
  finFrom: Side | null = null;
  idleTimedOut = false;
  /** Summarised while open because the open connections were at their bound. */
  evicted = false;
  /** Only SYNs and SYN-ACKs so far: half-open (the table keeps those in a bounded list of their own). */
  synOnly = false;
  /** The analyzer's count of packets at its last packet: the order of last activity across lists. */
  touchSeq = 0;
  /** One of the exchanges summarised early was selected (FlowOptions.exchangeFilter). */
  earlySelected = false;
  /** The table's list it is in (LIST_*), its links there, and the table keys of its legs. */
  list = LIST_NONE;
  prevInList: Connection | null = null;
  nextInList: Connection | null = null;
  bucketKeys: number[] = [];
  /** Every packet, when the analyzer logs packets (FlowOptions.packetLog): sender, flags, payload length. */
  readonly log: LoggedPacket[] = [];
  /** Ids of exchanges summarised before the connection ended (the held exchanges were at their bound). */
  readonly earlyExchangeIds: number[] = [];
  /** Copies of the scratch packet retained for this connection (stitch.ts CopyOwner): reused with it. */
  readonly copies: StitchedPacket[] = [];
  copiesUsed = 0;
  summarized = false;

  constructor(public id: number, firstUs: number, readonly ctx: ConnectionContext) {
    this.firstUs = firstUs;
    this.lastUs = firstUs;
    this.state = EST_MIDSTREAM;
    // The side that sends requests is the client: learn it from the first head seen.
    this.a = new DirectionTracker(this, 'a');
    this.b = new DirectionTracker(this, 'b');
  }

  /** The exchanges held on this connection, oldest first. */
  get exchanges(): readonly ExchangeBuilder[] {
    return this.pairing === null ? NO_EXCHANGES : this.pairing.all;
  }

  exchangePairing(): ExchangePairing {
    return (this.pairing ??= new ExchangePairing(this));
  }

  /**
   * Makes a summarised connection new again, as the constructor would (the analyzer pools
   * the connections it summarises without keeping anything of them). Only for a connection
   * nothing refers to any more.
   */
  reuse(id: number, firstUs: number): this {
    this.id = id;
    this.firstUs = firstUs;
    this.lastUs = firstUs;
    this.state = EST_MIDSTREAM;
    this.clientSide = null; this.rolesFrom = 'ports';
    while (this.legs.length > 0) this.spareLegs.push(this.legs.pop()!);
    this.nat = null;
    this.synUs = -1; this.synAckUs = -1; this.ackUs = -1;
    this.synPacket = null; this.synAckPacket = null; this.ackPacket = null; this.rstPacket = null;
    empty(this.log);
    this.closeUs = -1; this.observations = 0; this.packets = 0; this.finFrom = null; this.idleTimedOut = false;
    this.evicted = false; this.synOnly = false; this.touchSeq = 0; this.earlySelected = false;
    this.list = LIST_NONE; this.prevInList = null; this.nextInList = null;
    empty(this.bucketKeys);
    empty(this.earlyExchangeIds);
    // Its copies are reused; a long packet log's many are left to the collector.
    this.copiesUsed = 0;
    while (this.copies.length > MAX_SPARE_COPIES) this.copies.pop();
    this.summarized = false;
    this.pairing?.reset();
    this.a.reset();
    this.b.reset();
    return this;
  }

  learnRole(side: Side, kind: 'request' | 'response'): void {
    if (this.rolesFrom === 'syn' || this.rolesFrom === 'http') return;
    this.clientSide = kind === 'request' ? side : other(side);
    this.rolesFrom = 'http';
  }

  /** The first packet decides the starting state (rules 1 and 4). */
  start(flags: number, sender: Side, tsUs: number, packet: StitchedPacket): void {
    if ((flags & (TCP_FLAG.SYN | TCP_FLAG.ACK | TCP_FLAG.RST)) === (TCP_FLAG.SYN | TCP_FLAG.ACK)) {
      // The capture began between SYN and SYN-ACK: the SYN-ACK's sender is the server.
      this.state = EST_MIDSTREAM;
      this.clientSide = other(sender);
      this.rolesFrom = 'syn';
      return;
    }
    if ((flags & (TCP_FLAG.SYN | TCP_FLAG.ACK | TCP_FLAG.RST)) === TCP_FLAG.SYN) {
      this.state = SYN_SENT;
      this.clientSide = sender;
      this.rolesFrom = 'syn';
      this.synUs = tsUs;
      this.synPacket = retainPacket(packet);
    } else {
      this.state = EST_MIDSTREAM;
    }
  }

  /** Advances the state machine for one distinct packet from `sender`. */
  onFlags(flags: number, sender: Side, tsUs: number, packet: StitchedPacket): void {
    const s = this.state;
    if (flags & TCP_FLAG.RST) {
      // Rule 7: a RST ends the connection whatever the state.
      if (s.kind !== 'reset') {
        this.state = { kind: 'reset', by: sender };
        this.rstPacket = retainPacket(packet);
        this.closeUs = tsUs;
        this.pairing?.onReset();
      }
      return;
    }
    const syn = (flags & TCP_FLAG.SYN) !== 0;
    const ack = (flags & TCP_FLAG.ACK) !== 0;
    switch (s.kind) {
      case 'syn-sent':
        if (syn && !ack && sender === this.clientSide) return; // rule 8 (counted by the tracker)
        if (syn && ack && sender !== this.clientSide) { // rule 2
          this.state = SYN_RECEIVED;
          this.synAckUs = tsUs;
          this.synAckPacket = retainPacket(packet);
        }
        return;
      case 'syn-received':
        if (syn && ack && sender !== this.clientSide) return; // SYN-ACK retransmitted
        if (!syn && ack && sender === this.clientSide) { // rule 3
          this.state = EST_HANDSHAKE;
          this.ackUs = tsUs;
          this.ackPacket = retainPacket(packet);
          // Wireshark's reordering threshold: the handshake's round trip (SYN → ACK).
          if (tsUs > this.synUs) this.a.reorderWindowUs = this.b.reorderWindowUs = tsUs - this.synUs;
        }
        if (flags & TCP_FLAG.FIN) this.onFin(sender, tsUs);
        return;
      case 'established':
      case 'closing':
        if (flags & TCP_FLAG.FIN) this.onFin(sender, tsUs);
        return;
      case 'closed':
      case 'reset':
        return;
    }
  }

  /** Rules 5 and 6. */
  private onFin(sender: Side, tsUs: number): void {
    const s = this.state;
    if (s.kind === 'closing') {
      if (s.finFrom !== sender) { this.state = CLOSED; this.closeUs = tsUs; }
      return;
    }
    this.finFrom = sender;
    this.state = { kind: 'closing', finFrom: sender };
  }

  /** Roles by ports when neither a SYN nor HTTP told (the well-known / lower port serves). */
  decideRolesByPorts(aPort: number, bPort: number): void {
    if (this.clientSide !== null) return;
    this.clientSide = serverLikePort(bPort, aPort) ? 'a' : 'b';
    this.rolesFrom = 'ports';
  }

  isFinal(): boolean {
    return this.state.kind === 'closed' || this.state.kind === 'reset';
  }

  /** Gives back its share of the shared bounds (held-back bytes, partial heads, held exchanges): it is done. */
  dropHeld(): void {
    this.a.dropHeld();
    this.b.dropHeld();
    this.pairing?.reset();
  }

  tracker(side: Side): DirectionTracker {
    return side === 'a' ? this.a : this.b;
  }
}

export function other(side: Side): Side {
  return side === 'a' ? 'b' : 'a';
}

const WELL_KNOWN_SERVER_PORTS = new Set([80, 443, 8080, 8000, 8443, 3000, 5000, 9000, 8888]);

/** True when `port` looks like the server's port compared with `otherPort`. */
function serverLikePort(port: number, otherPort: number): boolean {
  const w1 = WELL_KNOWN_SERVER_PORTS.has(port);
  const w2 = WELL_KNOWN_SERVER_PORTS.has(otherPort);
  if (w1 !== w2) return w1;
  return port <= otherPort;
}
