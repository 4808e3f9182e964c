/**
 * The flow analyzer: fed packet by packet (record + decoded layers + where it was seen), it
 * stitches copies across interfaces, tracks TCP connections through NAT, pairs HTTP
 * exchanges, and summarises each connection once it is over — closed and quiet for
 * `lingerSec`, or idle for `idleTimeoutSec` — forgetting its per-packet state, so memory
 * follows the number of open connections, not the size of the capture.
 */
import { MAX_DESCRIBED_INTERFACES, type CaptureInterface, type PacketRecord } from '../capture/index.js';
import { formatIPv6 } from '../decode/index.js';
import type { DecodedPacket } from '../decode/index.js';
import { anomalyCount, anythingToReport, connectionAnomalies, hopName, innerLeg, outerLeg, type AnomalyContext } from './anomalies.js';
import { DEFAULT_MAX_MEMORY_MB, MAX_LEGS_PER_CONNECTION, SharedBudget, flowBounds, type FlowBounds } from './bounds.js';
import { Connection, other, type ConnectionContext, type DirectionTracker, type LegView, type Side } from './connections.js';
import { SynFloodTracker } from './flood.js';
import { parseTraceId, type ExchangeBuilder, type MessageBuilder } from './http-exchanges.js';
import { addLeg, findLeg, natMappings, noteTransition } from './nat.js';
import { DEFAULT_STITCH_WINDOW_US, DIRECTION_CODES, PacketStitcher, hashPayload, retainPacket, type CopyFields, type StitchedPacket } from './stitch.js';
import type { BatchSink } from './batch.js';
import { DIR_CODE, flowPacketOf, newFlowPacket, type FlowPacket } from './packet.js';
import { headHint } from './http-head.js';
import { ConnectionTable, LIST_ACTIVE, LIST_FINAL, LIST_HALF_OPEN } from './table.js';
import {
  FLOW_SCHEMA, type Anomaly, type ConnectionSummary, type DirectionStats, type Endpoint, type FlowAnalysis, type Hop,
  type HopDirection, type HopTiming, type HttpExchange, type LoggedPacketSummary, type Milestone, type NatMapping, type TableUse,
} from './types.js';

/** Named defaults (all in one place). */
export const FLOW_DEFAULTS = {
  /** A connection with no packet for this long is summarised as it is (keep-alives are usually shorter). */
  idleTimeoutSec: 300,
  /**
   * After FIN/FIN or RST, the last ACK and late copies are still counted for this long
   * (above the stitch window and a LAN round trip). Short on purpose: state that dies young
   * is cheap for the garbage collector (0.25 s costs about twice the CPU of 0.06 s on the
   * benchmark); later packets are recognised by the tombstones and counted.
   */
  lingerSec: 0.06,
  /** After that, packets of the finished connection (a FIN retransmitted after RTO…) are recognised and only counted. */
  tombstoneSec: 3,
  stitchWindowUs: DEFAULT_STITCH_WINDOW_US,
  /**
   * Summaries kept per kind (connections, exchanges, anomalies) before only counting: a kept
   * connection with its exchange costs a few KiB, so this bounds memory on huge captures.
   * Raise it (`--max-kept`) for complete JSON of a big capture; select with `--request`.
   */
  maxKept: 2_000,
} as const;

export interface FlowOptions {
  /** SLL2 interface index → name (`ip -o link` of the capture's namespace). */
  ifmap?: Map<number, string>;
  /** Fold copies of one packet seen on several interfaces. 'auto': on for `-i any` (SLL/SLL2) and multi-interface pcapng. */
  stitch?: boolean | 'auto';
  stitchWindowUs?: number;
  idleTimeoutSec?: number;
  lingerSec?: number;
  /** 'all' (default), 'exchanges' (drop connection summaries) or 'anomalies' (keep only anomalies). */
  keep?: 'all' | 'exchanges' | 'anomalies';
  maxKept?: number;
  /** Keep only the exchanges this accepts (and their connections and anomalies), e.g. `--request`. */
  exchangeFilter?: (exchange: HttpExchange) => boolean;
  /**
   * Log up to this many packets per connection, each with every point it was seen at
   * (`ConnectionSummary.packetLog`: the report's ladder). 0 (the default): none — a log holds
   * every logged packet until its connection is summarised, so it is for short captures (the agent's).
   */
  packetLog?: number;
  /**
   * Megabytes the analysis may use (default 150, at least 120): every table of the engine is
   * bounded from it (flow/bounds.ts); what a bound pushes out is counted in `limits.tables`.
   * Kept summaries (`maxKept`) are on top of it beyond the default 2000.
   */
  maxMemoryMB?: number;
}

/** Where a packet was seen, when the caller knows better than the capture's own fields. */
export interface PacketWhere {
  interface?: string | null;
  direction?: HopDirection;
}

export interface FlowAnalyzer {
  /** A capture interface (pcapng IDB): gives names to `record.interfaceId`. */
  addInterface(iface: CaptureInterface): void;
  /** One packet. `record` and `decoded` may be reused by the caller after this returns. */
  addPacket(record: PacketRecord, decoded: DecodedPacket, where?: PacketWhere): void;
  /** Summarises everything still open and returns the analysis. */
  finish(): FlowAnalysis;
}

export function createFlowAnalyzer(options: FlowOptions = {}): FlowAnalyzer {
  return new Analyzer(options);
}

/** An analyzer that also takes packets as flow reads them (packet.ts): for batches from the reading worker (parallel.ts). */
export function createBatchAnalyzer(options: FlowOptions = {}): FlowAnalyzer & BatchSink {
  return new Analyzer(options);
}

/** Connections waiting for reuse, at most (a burst of closes beyond it is left to the GC). */
const CONNECTION_POOL_MAX = 1024;

/**
 * Interfaces (observation points) the analysis tells apart. Packets on any further one (a
 * capture of thousands of interfaces, or of one SLL2 ifindex per packet) are counted under
 * one entry, OTHER_INTERFACES: the table, its caches and every scan of it stay bounded.
 */
export const MAX_INTERFACES = 4096;
export const OTHER_INTERFACES = 'other-interfaces';

const BRIDGE_SIDE = /^(docker\d+|br-|veth|cni|cbr|cali|flannel|kube-bridge|podman|virbr)/;


class Analyzer implements FlowAnalyzer {
  private readonly ifmap: Map<number, string>;
  private readonly stitcher: PacketStitcher;
  private stitchOn: boolean;
  private readonly stitchMode: boolean | 'auto';
  private readonly idleUs: number;
  private readonly lingerUs: number;
  private readonly bounds: FlowBounds;
  private readonly budget: SharedBudget;
  private readonly flood = new SynFloodTracker();
  /** Open connections (hash table, the half-open / active / final lists) and the tombstones of recently summarised ones. */
  private readonly table = new ConnectionTable();
  private openEvicted = 0;
  private halfOpenEvicted = 0;
  private halfOpenPeak = 0;
  private legsNotTracked = 0;
  private maxLegs = 0;
  /** Bumped at every packet of a connection: the order of last activity across the half-open and active lists. */
  private touchSeq = 0;
  private packetsAfterClose = 0;
  private recordsOutOfTimeOrder = 0;
  private readonly keep: 'all' | 'exchanges' | 'anomalies';
  private readonly maxKept: number;
  private readonly exchangeFilter: ((exchange: HttpExchange) => boolean) | null;
  private readonly packetLogMax: number;

  /**
   * Interface table (at most MAX_INTERFACES): names by number; caches from SLL2 ifindex /
   * capture interface id to number (never to OTHER_INTERFACES, so they stay bounded too).
   */
  private readonly ifNames: string[] = [];
  private readonly ifByName = new Map<string, number>();
  private readonly ifObservations: number[] = [];
  private readonly byIfindex: number[] = [];
  private readonly byInterfaceId: Array<number | undefined> = [];
  /** Names of the capture's interface blocks by id (at most MAX_DESCRIBED_INTERFACES, as the reader describes). */
  private readonly blockNames: Array<string | null> = [];
  private interfaceBlocks = 0;
  /** Whether any interface name seen so far is a bridge side / a veth (kept as names arrive: no scan per question). */
  private sawBridgeSide = false;
  private sawVeth = false;
  private readonly unmappedIfindexes: number[] = [];

  /** Summarised connections nothing refers to, for reuse (see summarize). */
  private readonly connectionPool: Connection[] = [];
  private readonly connectionContext: ConnectionContext;

  private nextConnId = 1;
  private nextExchangeId = 1;
  private records = 0;
  private tcpRecords = 0;
  private firstUs = -1;
  private lastUs = -1;
  private readonly scratch: StitchedPacket = {
    hash: 0, check: 0, firstUs: 0, hops: [0, 0],
    src: 0, dst: 0, srcPort: 0, dstPort: 0, owner: null, ownerId: -1, side: 0, leg: 0, firstLeg: 0, nextSameHash: null, scratch: true, copy: null, retained: false, serial: 0, nextSerial: -1, inRing: false,
  };
  private readonly fp: FlowPacket = newFlowPacket();
  private readonly f: CopyFields = { ipId: 0, seq: 0, ack: 0, flags: 0, window: 0, payloadLength: 0, payloadHash: 0, src: 0, dst: 0, srcPort: 0, dstPort: 0 };

  private readonly connections: ConnectionSummary[] = [];
  private readonly exchanges: HttpExchange[] = [];
  private readonly anomalies: Anomaly[] = [];
  private readonly nat: NatMapping[] = [];
  private readonly natKeys = new Set<string>();
  private connectionsNotKept = 0;
  private anomaliesNotKept = 0;
  private exchangesNotKept = 0;
  private readonly anomalyContext: AnomalyContext;

  constructor(options: FlowOptions) {
    this.ifmap = options.ifmap ?? new Map();
    for (const name of this.ifmap.values()) this.noteName(name);
    this.stitchMode = options.stitch ?? 'auto';
    this.stitchOn = this.stitchMode === true;
    this.bounds = flowBounds(options.maxMemoryMB ?? DEFAULT_MAX_MEMORY_MB);
    this.budget = new SharedBudget(this.bounds);
    this.stitcher = new PacketStitcher(options.stitchWindowUs ?? FLOW_DEFAULTS.stitchWindowUs, this.bounds.stitchPackets);
    this.idleUs = (options.idleTimeoutSec ?? FLOW_DEFAULTS.idleTimeoutSec) * 1e6;
    this.lingerUs = (options.lingerSec ?? FLOW_DEFAULTS.lingerSec) * 1e6;
    this.keep = options.keep ?? 'all';
    this.maxKept = options.maxKept ?? FLOW_DEFAULTS.maxKept;
    this.exchangeFilter = options.exchangeFilter ?? null;
    this.packetLogMax = options.packetLog ?? 0;
    this.anomalyContext = {
      hops: (p) => this.hops(p),
      expectsForwarding: () => this.expectsForwarding(),
      isContainerSide: (name) => BRIDGE_SIDE.test(name),
      knowsVeth: () => this.sawVeth,
    };
    this.connectionContext = {
      budget: this.budget,
      nextExchangeId: () => this.nextExchangeId++,
      summariseEarly: (conn, ex) => this.summariseExchangeEarly(conn, ex),
      // An exchange is kept only while fewer than maxKept are (or to be tried by --request).
      wantTexts: () => this.exchangeFilter !== null || (this.keep !== 'anomalies' && this.exchanges.length < this.maxKept),
    };
  }

  addInterface(iface: CaptureInterface): void {
    // Constant time per block: a file may hold a million of them. Names past the reader's
    // bound are not kept (a caller other than the reader may give any id).
    if (iface.id >= MAX_DESCRIBED_INTERFACES || this.blockNames[iface.id] === undefined) this.interfaceBlocks++;
    if (iface.id < MAX_DESCRIBED_INTERFACES) this.blockNames[iface.id] = iface.name;
    if (iface.name) this.noteName(iface.name);
    // A later section may name this id otherwise; a second block unnames a lone block 0 ('capture').
    if (this.byInterfaceId[iface.id] !== undefined) this.byInterfaceId[iface.id] = undefined;
    if (this.interfaceBlocks === 2) this.byInterfaceId[0] = undefined;
    if (this.stitchMode === 'auto' && (this.interfaceBlocks > 1 || iface.linkType === 276 || iface.linkType === 113)) this.stitchOn = true;
  }

  addPacket(record: PacketRecord, d: DecodedPacket, where?: PacketWhere): void {
    this.addFlowPacket(flowPacketOf(record, d, this.fp), where);
  }

  /** One packet as flow reads it (packet.ts): decoded here (addPacket) or by the reading worker (parallel.ts). */
  addFlowPacket(p: FlowPacket, where?: PacketWhere): void {
    this.records++;
    const tsUs = p.tsUs;
    if (this.firstUs < 0) this.firstUs = tsUs;
    if (tsUs > this.lastUs) this.lastUs = tsUs;
    else if (tsUs < this.lastUs - this.stitcher.windowUs) this.recordsOutOfTimeOrder++;
    const ifx = where?.interface ? this.internInterface(where.interface) : this.interfaceOf(p.interfaceId, p.sll2Ifindex);
    this.ifObservations[ifx]++;
    if (!p.tcp) { this.expire(tsUs); return; }
    this.tcpRecords++;
    const dirCode = where?.direction !== undefined ? DIR_CODE[where.direction] ?? 0 : p.dirCode;
    const point = ifx * 8 + dirCode;
    const f = this.f;
    f.ipId = p.ipId;
    f.src = p.src;
    f.dst = p.dst;
    f.seq = p.seq;
    f.ack = p.ack;
    f.flags = p.flags;
    f.window = p.window;
    f.srcPort = p.srcPort;
    f.dstPort = p.dstPort;
    f.payloadLength = p.payloadLength;
    if (!this.stitchOn && p.anyLink && this.stitchMode === 'auto') this.stitchOn = true;
    // The payload hash only tells copies apart: not needed without stitching.
    f.payloadHash = !this.stitchOn || p.capturedPayloadLength === 0 ? 0
      : p.payloadHashed ? p.payloadHash : hashPayload(p.data, p.payloadOffset, p.capturedPayloadLength);
    let packet: StitchedPacket;
    if (this.stitchOn) {
      packet = this.stitcher.stitch(f, point, tsUs);
      if (!this.stitcher.lastWasFirst) { this.onCopy(packet, ifx, p); return; }
    } else {
      // No copies to fold: one reused object, copied only when a reference is kept (retainPacket).
      packet = this.scratch;
      packet.firstUs = tsUs;
      packet.hops[0] = point; packet.hops[1] = 0;
      packet.copy = null;
      packet.src = f.src; packet.dst = f.dst; packet.srcPort = f.srcPort; packet.dstPort = f.dstPort;
      this.stitcher.packets++;
    }
    this.expire(tsUs);

    const table = this.table;
    let conn = table.lookup(f.src, f.srcPort, f.dst, f.dstPort);
    if (conn === null && (f.flags & 0x12) !== 0x02 && table.isBuried(f.src, f.srcPort, f.dst, f.dstPort, this.lastUs)) {
      // A non-SYN packet of a connection summarised a moment ago (late ACK, FIN retransmission).
      this.packetsAfterClose++;
      return;
    }
    let side: Side = 'a';
    let leg = 0;
    const bareSyn = (f.flags & 0x17) === 0x02;
    if (conn && bareSyn && conn.isFinal()) {
      // The 4-tuple is reused by a new connection: the old one is over.
      this.summarize(conn);
      conn = null;
    }
    let isNew = false;
    if (conn === null) {
      const synOnly = (f.flags & 0x06) === 0x02;
      this.makeRoom(synOnly, tsUs);
      const pooled = this.connectionPool.pop();
      conn = pooled !== undefined ? pooled.reuse(this.nextConnId++, tsUs) : new Connection(this.nextConnId++, tsUs, this.connectionContext);
      conn.synOnly = synOnly;
      leg = addLeg(conn, 'a', f.src, f.srcPort, f.dst, f.dstPort, addrText(p, true), addrText(p, false));
      table.register(conn, f.src, f.srcPort, f.dst, f.dstPort);
      conn.touchSeq = ++this.touchSeq;
      table.add(conn, synOnly ? LIST_HALF_OPEN : LIST_ACTIVE);
      if (synOnly && table.halfOpen.count > this.halfOpenPeak) this.halfOpenPeak = table.halfOpen.count;
      isNew = true;
    } else {
      const m = table.lastMatch;
      side = (m & 1) === 1 ? 'b' : 'a';
      leg = m >> 1;
      if (tsUs > conn.lastUs) conn.lastUs = tsUs;
      conn.touchSeq = ++this.touchSeq;
      table.touch(conn);
    }
    // Before the state machine keeps a reference (retainPacket copies the scratch object).
    packet.owner = conn;
    packet.ownerId = conn.id;
    packet.side = side === 'a' ? 0 : 1;
    packet.leg = leg;
    packet.firstLeg = leg;
    if (isNew) {
      conn.start(f.flags, 'a', tsUs, packet);
      if (!bareSyn) conn.onFlags(f.flags, 'a', tsUs, packet);
    } else {
      conn.onFlags(f.flags, side, tsUs, packet);
    }
    if (ifx < 31) conn.legs[leg].interfaceMask |= 1 << ifx;
    conn.observations++;
    conn.packets++;
    if (this.packetLogMax > 0 && conn.log.length < this.packetLogMax) this.log(conn, packet, side, f.flags, f.payloadLength);
    // A head the reading worker laid out: read from its layout if it starts at these bytes (http-head.ts).
    const hint = headHint;
    if (p.headLayout !== null) {
      hint.data = p.data; hint.offset = p.payloadOffset; hint.length = p.capturedPayloadLength; hint.layout = p.headLayout; hint.base = p.headBase;
    } else hint.offset = -1;
    conn.tracker(side).onSegment(f.flags, f.seq, f.window, p.data, p.payloadOffset, p.payloadLength, p.capturedPayloadLength, tsUs, packet);
    if ((f.flags & 0x10) !== 0) conn.tracker(side === 'a' ? 'b' : 'a').onAck(f.ack);
    // Half-open while only SYNs and SYN-ACKs came; final once closed or reset (final is for good).
    if (conn.synOnly && (f.flags & 0x06) !== 0x02) conn.synOnly = false;
    const list = conn.isFinal() ? LIST_FINAL : conn.synOnly ? LIST_HALF_OPEN : LIST_ACTIVE;
    if (conn.list !== list && conn.list !== LIST_FINAL) table.move(conn, list);
  }

  private log(conn: Connection, packet: StitchedPacket, side: Side, flags: number, payloadLength: number): void {
    const budget = this.budget;
    // The logs of all open connections at their bound: this packet is not logged (packetsNotLogged counts it).
    if (budget.loggedPackets >= this.bounds.loggedPackets) { budget.packetsNotLogged++; return; }
    conn.log.push({ packet: retainPacket(packet), side, flags, payloadLength });
    if (++budget.loggedPackets > budget.loggedPeak) budget.loggedPeak = budget.loggedPackets;
  }

  /**
   * Room for a new connection (`synOnly`: it starts half-open). Half-open ones past their
   * bound: the least recently active is forgotten. All past theirs: a closed one's linger is
   * cut short, else a half-open one is forgotten, else the least recently active is
   * summarised as it is (`evicted`).
   */
  private makeRoom(synOnly: boolean, nowUs: number): void {
    const t = this.table;
    if (synOnly && t.halfOpen.count >= this.bounds.halfOpenConnections) this.forgetHalfOpen(t.halfOpen.head!);
    while (t.open >= this.bounds.openConnections) {
      if (t.final.head !== null) this.summarize(t.final.head, nowUs);
      else if (t.halfOpen.head !== null) this.forgetHalfOpen(t.halfOpen.head);
      else {
        const c = t.active.head!;
        c.evicted = true;
        this.openEvicted++;
        this.summarize(c);
      }
    }
  }

  /**
   * A half-open connection pushed out by the bound: counted, its unfinished handshake noted
   * for the flood finding, and let go without a summary (a SYN flood makes millions).
   */
  private forgetHalfOpen(conn: Connection): void {
    this.halfOpenEvicted++;
    this.connectionsNotKept++;
    this.exchangesNotKept += conn.exchanges.length;
    this.noteUnfinished(conn, true);
    conn.summarized = true;
    this.table.remove(conn);
    this.release(conn);
  }

  /** A handshake that never completed (only SYNs, or a SYN and SYN-ACKs, were seen): for the flood finding. */
  private noteUnfinished(conn: Connection, evicted: boolean): void {
    if (!conn.synOnly || conn.synPacket === null) return;
    // The SYN's sender is side a: its first packet was the SYN.
    const l = conn.legs[0];
    this.flood.note(l.aAddr, l.ipv6 ? l.aText : null, l.bAddr, l.bPort, l.ipv6 ? l.bText : null, conn.synUs, evicted);
  }

  /** A later copy of a known packet: note where it was seen and any NAT rewrite since the last copy. */
  private onCopy(packet: StitchedPacket, ifx: number, p: FlowPacket): void {
    const conn = packet.owner as Connection | null;
    // Summarised, or summarised and reused for another connection since.
    if (!conn || conn.summarized || conn.id !== packet.ownerId) return;
    conn.observations++;
    const f = this.f;
    if (f.src !== packet.src || f.dst !== packet.dst || f.srcPort !== packet.srcPort || f.dstPort !== packet.dstPort) {
      const sender: Side = packet.side === 0 ? 'a' : 'b';
      const m = findLeg(conn, f.src, f.srcPort, f.dst, f.dstPort);
      let legIndex: number;
      if (m >= 0) legIndex = m >> 1;
      else if (conn.legs.length >= MAX_LEGS_PER_CONNECTION) {
        // Yet another view of one connection (no NAT makes so many): counted, not tracked.
        this.legsNotTracked++;
        return;
      } else {
        legIndex = addLeg(conn, sender, f.src, f.srcPort, f.dst, f.dstPort, addrText(p, true), addrText(p, false));
        this.table.register(conn, f.src, f.srcPort, f.dst, f.dstPort);
        if (conn.legs.length > this.maxLegs) this.maxLegs = conn.legs.length;
      }
      const hops = packet.hops;
      const prevIfx = hops[hops.length - 4] >> 3;
      noteTransition(conn, packet.leg, legIndex, prevIfx, ifx, sender);
      packet.src = f.src; packet.dst = f.dst; packet.srcPort = f.srcPort; packet.dstPort = f.dstPort;
      packet.leg = legIndex;
    }
    if (ifx < 31) conn.legs[packet.leg].interfaceMask |= 1 << ifx;
  }

  // ── interfaces ──────────────────────────────────────────────────────────────

  /** The interface number of a record's capture interface, or of its SLL2 interface index (-1: none). */
  private interfaceOf(interfaceId: number, sll2Ifindex: number): number {
    if (sll2Ifindex >= 0) {
      const ifindex = sll2Ifindex;
      const cached = this.byIfindex[ifindex];
      if (cached !== undefined) return cached;
      const name = this.ifmap.get(ifindex);
      if (name !== undefined) return this.cached(this.byIfindex, ifindex, this.internInterface(name));
      // Not in --ifmap: a pcapng interface block named after one interface (flowtrace capture
      // -w writes one per interface) names it; `any` (tcpdump -i any -w) does not.
      const blockName = this.blockNames[interfaceId];
      if (blockName && blockName !== 'any') return this.blockInterface(interfaceId, blockName);
      if (this.ifNames.length >= MAX_INTERFACES - 1) return this.internInterface(OTHER_INTERFACES);
      this.unmappedIfindexes.push(ifindex);
      return this.cached(this.byIfindex, ifindex, this.internInterface(`ifindex${ifindex}`));
    }
    const cached = this.byInterfaceId[interfaceId];
    if (cached !== undefined) return cached;
    // A pcap file has one nameless interface: call it what it is, the capture point.
    const name = this.blockNames[interfaceId] ?? (this.interfaceBlocks <= 1 && interfaceId === 0 ? 'capture' : null);
    if (name === null && this.ifNames.length >= MAX_INTERFACES - 1) return this.internInterface(OTHER_INTERFACES);
    return this.cached(this.byInterfaceId, interfaceId, this.internInterface(name ?? `if${interfaceId}`));
  }

  /** The interface a named capture interface block stands for (cached by block). */
  private blockInterface(interfaceId: number, name: string): number {
    return this.byInterfaceId[interfaceId] ?? this.cached(this.byInterfaceId, interfaceId, this.internInterface(name));
  }

  /** Caches `key → i`, unless i is OTHER_INTERFACES: keys without a place of their own are not kept. */
  private cached(cache: Array<number | undefined>, key: number, i: number): number {
    if (this.ifNames[i] !== OTHER_INTERFACES) cache[key] = i;
    return i;
  }

  private internInterface(name: string): number {
    let i = this.ifByName.get(name);
    if (i === undefined) {
      // The last place is OTHER_INTERFACES's: every name past the bound is counted there.
      if (this.ifNames.length >= MAX_INTERFACES - 1 && name !== OTHER_INTERFACES) return this.internInterface(OTHER_INTERFACES);
      i = this.ifNames.length;
      this.ifNames.push(name);
      this.ifObservations.push(0);
      this.ifByName.set(name, i);
      this.noteName(name);
    }
    return i;
  }

  private noteName(name: string): void {
    if (!this.sawBridgeSide && BRIDGE_SIDE.test(name)) this.sawBridgeSide = true;
    if (!this.sawVeth && name.startsWith('veth')) this.sawVeth = true;
  }

  /** The names of the interfaces in a leg's mask (only the first 31 have a bit). */
  private namesInMask(mask: number): string[] {
    const names: string[] = [];
    for (let k = 0; k < 31 && k < this.ifNames.length; k++) if ((mask & (1 << k)) !== 0) names.push(this.ifNames[k]);
    return names;
  }

  private expectsForwarding(): boolean {
    return this.sawBridgeSide;
  }

  // ── the end of connections: linger after close, idle timeout ─────────────────

  /**
   * Closed connections whose linger is over, then connections idle past the timeout — the
   * half-open and the active ones in one order of last activity (touchSeq), as if one list.
   */
  private expire(nowUs: number): void {
    const t = this.table;
    // The lists' head times first: most packets find nothing to do without touching a connection.
    if (nowUs - t.final.headUs <= this.lingerUs && nowUs - t.active.headUs <= this.idleUs && nowUs - t.halfOpen.headUs <= this.idleUs) return;
    while (t.final.head !== null && nowUs - t.final.head.closeUs > this.lingerUs) this.summarize(t.final.head, nowUs);
    for (;;) {
      const h = t.halfOpen.head;
      const a = t.active.head;
      const next = h === null ? a : a === null ? h : h.touchSeq < a.touchSeq ? h : a;
      if (next === null || nowUs - next.lastUs <= this.idleUs) return;
      next.idleTimedOut = true;
      this.summarize(next);
    }
  }

  // ── summaries ───────────────────────────────────────────────────────────────

  private hops(p: StitchedPacket): Hop[] {
    const out: Hop[] = [];
    for (let i = 0; i < p.hops.length; i += 2) {
      out.push({
        interface: this.ifNames[p.hops[i] >> 3],
        direction: DIRECTION_CODES[p.hops[i] & 7] as HopDirection,
        ts: roundTs(p.firstUs + p.hops[i + 1]),
        offsetUs: p.hops[i + 1],
      });
    }
    return out;
  }

  /**
   * Summarises a connection and forgets it: what is kept of it (summaries, anomalies,
   * mappings) is copied out, so afterwards nothing refers to its retained packets — they go
   * back for reuse — nor to the connection itself, which is pooled too (the stitcher's
   * packets still in the window name it as their owner, with its id: see onCopy).
   */
  private summarize(conn: Connection, nowUs = -1): void {
    if (conn.summarized) return;
    this.report(conn, nowUs);
    this.release(conn);
  }

  /** Gives back what a connection held: its retained packets, its share of the shared bounds, and itself (pooled). */
  private release(conn: Connection): void {
    // Without stitching every retained packet is a copy its connection owns (stitch.ts CopyOwner): nothing to give back.
    if (this.stitchOn) {
      const st = this.stitcher;
      st.release(conn.synPacket);
      st.release(conn.synAckPacket);
      st.release(conn.rstPacket);
      st.release(conn.ackPacket);
      st.release(conn.a.firstDataPacket); st.release(conn.a.finPacket); st.release(conn.a.lastSynPacket);
      st.release(conn.b.firstDataPacket); st.release(conn.b.finPacket); st.release(conn.b.lastSynPacket);
      for (const e of conn.log) st.release(e.packet);
      for (const ex of conn.exchanges) {
        if (ex.request) st.release(ex.request.packet);
        if (ex.response) st.release(ex.response.packet);
      }
    }
    this.budget.loggedPackets -= conn.log.length;
    conn.dropHeld();
    if (this.connectionPool.length < CONNECTION_POOL_MAX) this.connectionPool.push(conn);
  }

  /** Endpoints as seen outside the NAT (where the client's packets enter). */
  private outerEndpoints(conn: Connection, clientSide: Side): { client: Endpoint; server: Endpoint } {
    const l = conn.legs[outerLeg(conn, clientSide)];
    return clientSide === 'a'
      ? { client: { address: l.aText, port: l.aPort }, server: { address: l.bText, port: l.bPort } }
      : { client: { address: l.bText, port: l.bPort }, server: { address: l.aText, port: l.aPort } };
  }

  /**
   * One exchange against the keep rules: kept, or counted. True when it is selected (always,
   * without --request): a connection counts through its selected exchanges.
   */
  private keepExchange(conn: Connection, ex: ExchangeBuilder, endpoints: () => { client: Endpoint; server: Endpoint }): boolean {
    if (!this.exchangeFilter && this.exchanges.length >= this.maxKept) { this.exchangesNotKept++; return true; }
    const ends = endpoints();
    const summary = this.exchangeSummary(conn, ex, ends.client, ends.server);
    if (this.exchangeFilter && !this.exchangeFilter(summary)) { this.exchangesNotKept++; return false; }
    if (this.exchanges.length >= this.maxKept) { this.exchangesNotKept++; return true; }
    this.exchanges.push(summary);
    return true;
  }

  /** The held exchanges are at their bound: the connection's oldest is summarised now (ConnectionContext.summariseEarly). */
  private summariseExchangeEarly(conn: Connection, ex: ExchangeBuilder): void {
    if (conn.clientSide === null) conn.decideRolesByPorts(conn.legs[0].aPort, conn.legs[0].bPort);
    if (this.keep === 'anomalies' && !this.exchangeFilter) this.exchangesNotKept++;
    else if (this.keepExchange(conn, ex, () => this.outerEndpoints(conn, conn.clientSide!)) && this.exchangeFilter !== null) conn.earlySelected = true;
    if (conn.earlyExchangeIds.length < this.maxKept) conn.earlyExchangeIds.push(ex.id);
    if (this.stitchOn && ex.request) this.stitcher.release(ex.request.packet);
    if (this.stitchOn && ex.response) this.stitcher.release(ex.response.packet);
  }

  /** Counts the connection, and keeps what the options say of it. */
  private report(conn: Connection, nowUs: number): void {
    conn.summarized = true;
    this.table.remove(conn);
    if (nowUs >= 0 && conn.isFinal()) {
      const until = nowUs + FLOW_DEFAULTS.tombstoneSec * 1e6;
      for (const l of conn.legs) this.table.bury(l.aAddr, l.aPort, l.bAddr, l.bPort, until);
    }
    conn.a.finish();
    conn.b.finish();
    if (conn.clientSide === null) conn.decideRolesByPorts(conn.legs[0].aPort, conn.legs[0].bPort);
    this.noteUnfinished(conn, false);
    const exchanges = conn.exchanges;
    // Nothing will be kept from most connections of a huge capture under --keep anomalies: count and go.
    if (this.keep === 'anomalies' && this.exchangeFilter === null && conn.nat === null && !anythingToReport(conn)) {
      this.connectionsNotKept++;
      this.exchangesNotKept += exchanges.length;
      return;
    }
    const clientSide = conn.clientSide!;
    const serverSide = other(clientSide);
    // Endpoint texts are made only for what is kept (most connections of a big capture are counted only).
    let ends: { client: Endpoint; server: Endpoint } | null = null;
    const endpoints = (): { client: Endpoint; server: Endpoint } => (ends ??= this.outerEndpoints(conn, clientSide));

    const keepConnection = this.keep === 'all';
    // Its exchange ids only for a connection that may be kept (none once maxKept are: the count does not change before the end).
    const exchangeIds: number[] | null = keepConnection && this.connections.length < this.maxKept ? [...conn.earlyExchangeIds] : null;
    // With a filter (--request) a connection counts only through its selected exchanges.
    let selected = this.exchangeFilter === null || conn.earlySelected;
    if (this.keep === 'anomalies' && !this.exchangeFilter) this.exchangesNotKept += exchanges.length;
    else {
      for (const ex of exchanges) {
        exchangeIds?.push(ex.id);
        if (this.keepExchange(conn, ex, endpoints)) selected = true;
      }
    }
    const mappings = natMappings(conn, clientSide, (i) => this.ifNames[i]);
    for (const m of mappings) {
      if (this.nat.length >= this.maxKept) break;
      const key = `${m.kind} ${m.from} ${m.to}`;
      if (!this.natKeys.has(key)) { this.natKeys.add(key); this.nat.push(m); }
    }
    if (selected && anythingToReport(conn)) {
      if (this.anomalies.length >= this.maxKept) this.anomaliesNotKept += anomalyCount(conn, clientSide);
      else {
        const e = endpoints();
        for (const a of connectionAnomalies(conn, clientSide, e.client, e.server, this.anomalyContext)) {
          if (this.anomalies.length < this.maxKept) this.anomalies.push(a); else this.anomaliesNotKept++;
        }
      }
    }
    if (!keepConnection || !selected || this.connections.length >= this.maxKept) { this.connectionsNotKept++; return; }

    const { client, server } = endpoints();
    const outer = outerLeg(conn, clientSide);
    const inner = innerLeg(conn, clientSide);
    const clientOf = (l: LegView): Endpoint => (clientSide === 'a' ? { address: l.aText, port: l.aPort } : { address: l.bText, port: l.bPort });
    const serverOf = (l: LegView): Endpoint => (clientSide === 'a' ? { address: l.bText, port: l.bPort } : { address: l.aText, port: l.aPort });
    const s = conn.state;
    const toServer = conn.tracker(clientSide);
    const toClient = conn.tracker(serverSide);
    const pathOf = (p: StitchedPacket | null): string[] => (p ? this.hops(p).map(hopName) : []);
    const handshakeSeen = conn.synUs >= 0 && conn.synAckUs >= 0;
    const summary: ConnectionSummary = {
      id: conn.id,
      client, server,
      serverInside: inner !== outer ? serverOf(conn.legs[inner]) : null,
      nat: mappings,
      rolesFrom: conn.rolesFrom,
      state: s.kind === 'established' ? 'established' : s.kind,
      handshakeSeen,
      handshake: conn.synPacket ? {
        synToSynAckMs: conn.synAckUs >= 0 ? ms(conn.synAckUs - conn.synUs) : null,
        synAckToAckMs: conn.ackUs >= 0 && conn.synAckUs >= 0 ? ms(conn.ackUs - conn.synAckUs) : null,
        measuredAt: this.ifNames[conn.synPacket.hops[0] >> 3],
        synRetransmissions: toServer.synRepeats,
        synAckRetransmissions: toClient.synRepeats,
      } : null,
      firstTs: roundTs(conn.firstUs),
      lastTs: roundTs(conn.lastUs),
      durationMs: ms(conn.lastUs - conn.firstUs),
      closedBy: s.kind === 'reset' ? { how: 'rst', from: s.by === clientSide ? 'client' : 'server' }
        : s.kind === 'closed' ? { how: 'fin', from: conn.finFrom === clientSide ? 'client' : 'server' } : null,
      toServer: dirStats(toServer),
      toClient: dirStats(toClient),
      observations: conn.observations,
      packets: conn.packets,
      // Outermost first, innermost last.
      legs: [outer, ...conn.legs.map((_, i) => i).filter((i) => i !== outer && i !== inner), ...(inner !== outer ? [inner] : [])].map((i) => {
        const l = conn.legs[i];
        return { client: clientOf(l), server: serverOf(l), interfaces: this.namesInMask(l.interfaceMask) };
      }),
      pathToServer: pathOf(toServer.firstDataPacket ?? conn.synPacket),
      pathToClient: pathOf(toClient.firstDataPacket ?? conn.synAckPacket ?? conn.rstPacket),
      exchangeIds: exchangeIds!,
      idleTimedOut: conn.idleTimedOut,
      evicted: conn.evicted,
      milestones: this.milestones(conn, clientSide),
      packetLog: conn.log.length > 0 ? this.packetLog(conn, clientSide) : [],
      packetsNotLogged: this.packetLogMax > 0 ? conn.packets - conn.log.length : 0,
    };
    this.connections.push(summary);
  }

  /** The handshake and the end of a connection, where each of their packets was seen (in time order). */
  private milestones(conn: Connection, clientSide: Side): Milestone[] {
    const out: Milestone[] = [];
    const serverSide = other(clientSide);
    const add = (kind: Milestone['kind'], side: Side, p: StitchedPacket | null, last: StitchedPacket | null, transmissions: number): void => {
      if (p === null) return;
      out.push({
        kind, from: side === clientSide ? 'client' : 'server', ts: roundTs(p.firstUs), transmissions,
        hops: this.hops(p), lastHops: last !== null && last !== p ? this.hops(last) : null,
      });
    };
    const c = conn.tracker(clientSide);
    const sv = conn.tracker(serverSide);
    add('syn', clientSide, conn.synPacket, c.lastSynPacket, 1 + c.synRepeats);
    add('syn-ack', serverSide, conn.synAckPacket, sv.lastSynPacket, 1 + sv.synRepeats);
    add('ack', clientSide, conn.ackPacket, null, 1);
    add('fin', clientSide, c.finPacket, null, 1);
    add('fin', serverSide, sv.finPacket, null, 1);
    if (conn.state.kind === 'reset') add('rst', conn.state.by, conn.rstPacket, null, 1);
    return out.sort((x, y) => x.ts - y.ts);
  }

  /** The logged packets, labelled as the ladder shows them. */
  private packetLog(conn: Connection, clientSide: Side): LoggedPacketSummary[] {
    const heads = new Map<StitchedPacket, string>();
    for (const ex of conn.exchanges) {
      if (ex.request) heads.set(ex.request.packet, `${ex.request.head.method} ${ex.request.head.target}`);
      if (ex.response) heads.set(ex.response.packet, `HTTP ${ex.response.head.status}`);
    }
    return conn.log.map((e) => ({
      ts: roundTs(e.packet.firstUs),
      from: e.side === clientSide ? 'client' : 'server',
      label: heads.get(e.packet) ?? flagLabel(e.flags, e.payloadLength),
      payloadBytes: e.payloadLength,
      hops: this.hops(e.packet),
    }));
  }

  private exchangeSummary(conn: Connection, ex: ExchangeBuilder, client: Endpoint, server: Endpoint): HttpExchange {
    const req = ex.request;
    const res = ex.response;
    const reqHops = req ? this.hops(req.packet) : [];
    const resHops = res ? this.hops(res.packet) : [];
    const timings: HopTiming[] = [];
    for (const rh of reqHops) {
      const sh = resHops.find((h) => h.interface === rh.interface);
      if (sh && req && res) {
        timings.push({
          interface: rh.interface, requestDirection: rh.direction, responseDirection: sh.direction,
          ms: ms(res.packet.firstUs + sh.offsetUs - (req.packet.firstUs + rh.offsetUs)),
        });
      }
    }
    let ttfb: number | null = null;
    if (req && res) ttfb = timings.length > 0 ? timings[0].ms : ms(res.startUs - req.startUs);
    return {
      id: ex.id,
      connectionId: conn.id,
      index: ex.index,
      pipelined: ex.pipelined,
      client, server,
      request: req ? requestInfo(req, reqHops) : null,
      response: res ? {
        status: res.head.status, reason: res.head.reason, version: res.head.version, bodyFraming: res.framing,
        bodyBytes: res.bodyBytes, ts: roundTs(res.startUs), hops: resHops, headSegments: res.segments,
      } : null,
      timeToFirstByteMs: ttfb,
      timings,
      status: res ? (req ? 'complete' : 'response-only') : ex.reset ? 'reset' : 'no-response',
    };
  }

  finish(): FlowAnalysis {
    const t = this.table;
    while (t.final.head !== null) this.summarize(t.final.head);
    // The half-open and the active ones in one order of last activity.
    for (;;) {
      const h = t.halfOpen.head;
      const a = t.active.head;
      const next = h === null ? a : a === null ? h : h.touchSeq < a.touchSeq ? h : a;
      if (next === null) break;
      this.summarize(next);
    }
    // A finding about many connections: kept whatever --max-kept.
    const flood = this.flood.finding();
    if (flood !== null) this.anomalies.push(flood);
    this.connections.sort((a, b) => a.id - b.id);
    this.exchanges.sort((a, b) => a.id - b.id);
    this.anomalies.sort((a, b) => a.ts - b.ts || a.connectionId - b.connectionId);
    this.nat.sort((a, b) => a.connectionId - b.connectionId);
    const st = this.stitcher;
    return {
      schema: FLOW_SCHEMA,
      capture: {
        records: this.records,
        tcpRecords: this.tcpRecords,
        firstTs: this.firstUs >= 0 ? roundTs(this.firstUs) : null,
        lastTs: this.lastUs >= 0 ? roundTs(this.lastUs) : null,
        interfaces: this.ifNames.map((name, i) => ({ interface: name, observations: this.ifObservations[i] })),
        unmappedIfindexes: this.unmappedIfindexes.sort((a, b) => a - b),
        packetsAfterClose: this.packetsAfterClose,
        recordsOutOfTimeOrder: this.recordsOutOfTimeOrder,
      },
      duplicates: {
        packets: st.packets,
        maxCopies: st.maxCopies,
        stitchedPackets: st.stitched,
        explanation: st.maxCopies > 1
          ? `seen ${st.maxCopies}×: -i any captures each packet on every interface it crosses (${st.stitched} of ${st.packets} packets were seen on more than one interface)`
          : null,
      },
      connections: this.connections,
      exchanges: this.exchanges,
      natMappings: this.nat,
      anomalies: this.anomalies,
      limits: {
        keep: this.keep, maxKept: this.maxKept, selected: this.exchangeFilter !== null,
        connectionsNotKept: this.connectionsNotKept, exchangesNotKept: this.exchangesNotKept, anomaliesNotKept: this.anomaliesNotKept,
        maxMemoryMB: this.bounds.maxMemoryMB,
        tables: this.tableUse(),
      },
    };
  }

  private tableUse(): FlowAnalysis['limits']['tables'] {
    const b = this.bounds;
    const u = this.budget;
    const use = (max: number, peak: number, evicted: number): TableUse => ({ max, peak, evicted });
    return {
      openConnections: use(b.openConnections, this.table.peak, this.openEvicted),
      halfOpenConnections: use(b.halfOpenConnections, this.halfOpenPeak, this.halfOpenEvicted),
      stitchPackets: use(b.stitchPackets, this.stitcher.peak, this.stitcher.leftEarly),
      heldExchanges: use(b.heldExchanges, u.heldExchangesPeak, u.exchangesSummarisedEarly),
      heldBackBytes: use(b.heldBackBytes, u.heldBackPeak, u.heldBackGivenUp),
      headBytes: use(b.headBytes, u.headPeak, u.headsGivenUp),
      loggedPackets: use(b.loggedPackets, u.loggedPeak, u.packetsNotLogged),
      legsPerConnection: use(MAX_LEGS_PER_CONNECTION, Math.max(this.maxLegs, this.nextConnId > 1 ? 1 : 0), this.legsNotTracked),
    };
  }
}

/** SYN, SYN-ACK, RST, FIN, DATA n or ACK, as a ladder labels a packet. */
function flagLabel(flags: number, payloadLength: number): string {
  if (flags & 0x04) return 'RST';
  if (flags & 0x02) return flags & 0x10 ? 'SYN-ACK' : 'SYN';
  if (flags & 0x01) return payloadLength > 0 ? `DATA ${payloadLength} + FIN` : 'FIN';
  return payloadLength > 0 ? `DATA ${payloadLength}` : 'ACK';
}

function requestInfo(req: MessageBuilder, hops: Hop[]): NonNullable<HttpExchange['request']> {
  const h = req.head;
  return {
    method: h.method, target: h.target, version: h.version,
    host: h.host,
    xForwardedFor: h.xForwardedFor,
    traceId: h.traceId !== null ? parseTraceId(h.traceId) : null,
    bodyBytes: req.bodyBytes,
    ts: roundTs(req.startUs),
    hops,
    headSegments: req.segments,
  };
}

function dirStats(d: DirectionTracker): DirectionStats {
  return {
    packets: d.packets, payloadBytes: d.payloadBytes, retransmissions: d.retransmissions, outOfOrder: d.outOfOrder,
    lostSegments: d.lostSegments, zeroWindows: d.zeroWindows, keepAlives: d.keepAlives,
    maxPayloadBytes: d.maxPayloadBytes, maxRetransmittedBytes: d.maxRetransmittedBytes, unackedBytes: d.unackedBytes(),
  };
}

/** Seconds since the epoch, to the microsecond. */
function roundTs(us: number): number {
  return Math.round(us) / 1e6;
}

/** Milliseconds from microseconds, to the microsecond. */
function ms(us: number): number {
  return Math.round(us) / 1000;
}

/** IPv6 texts now (the numbers are hashes); IPv4 null: formatted from the number when a summary needs it. */
function addrText(p: FlowPacket, src: boolean): string | null {
  return p.ipv6 ? formatIPv6(p.data, src ? p.srcAddrOffset : p.dstAddrOffset) : null;
}
