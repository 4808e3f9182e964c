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
import { anythingToReport, connectionAnomalies, hopName, innerLeg, outerLeg, type AnomalyContext } from './anomalies.js';
import { Connection, other, type DirectionTracker, type LegView, type Side } from './connections.js';
import { parseTraceId, type ExchangeBuilder, type MessageBuilder } from './http-exchanges.js';
import { addLeg, findLeg, natMappings, noteTransition } from './nat.js';
import { DEFAULT_STITCH_WINDOW_US, DIRECTION_CODES, PacketStitcher, hashPayload, retainPacket, type CopyFields, type StitchedPacket } from './stitch.js';
import {
  FLOW_SCHEMA, type Anomaly, type ConnectionSummary, type DirectionStats, type Endpoint, type FlowAnalysis, type Hop,
  type HopDirection, type HopTiming, type HttpExchange, type LoggedPacketSummary, type Milestone, type NatMapping,
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

/**
 * Buckets of the connection table at first: it doubles whenever the keys of the open
 * connections outnumber half its buckets, so it stays small (and in the CPU's cache) when
 * few connections are open at once — the common case, even in a big capture.
 */
const INITIAL_TABLE_BITS = 12;
/** Connections waiting for reuse, at most (a burst of closes beyond it is left to the GC). */
const CONNECTION_POOL_MAX = 1024;
const TOMB_BITS = 18;
const TOMB_MASK = (1 << TOMB_BITS) - 1;

/**
 * Interfaces (observation points) the analysis tells apart. Packets on any further one (a
 * capture of thousands of interfaces, or of one SLL2 ifindex per packet) are counted under
 * one entry, OTHER_INTERFACES: the table, its caches and every scan of it stay bounded.
 */
export const MAX_INTERFACES = 4096;
export const OTHER_INTERFACES = 'other-interfaces';

const BRIDGE_SIDE = /^(docker\d+|br-|veth|cni|cbr|cali|flannel|kube-bridge|podman|virbr)/;

const DIR_CODE: Record<string, number> = { unknown: 0, in: 1, out: 2, broadcast: 3, multicast: 4, otherhost: 5 };

class Analyzer implements FlowAnalyzer {
  private readonly ifmap: Map<number, string>;
  private readonly stitcher: PacketStitcher;
  private stitchOn: boolean;
  private readonly stitchMode: boolean | 'auto';
  private readonly idleUs: number;
  private readonly lingerUs: number;
  /**
   * Recently summarised connections, direct-mapped by tuple key: the key, a second,
   * independent hash of the tuple, and until when. Typed arrays: no allocation, no deletes;
   * a newer entry may overwrite an older one in its slot (that late packet then starts a
   * small connection of its own — rare with 2^18 slots).
   */
  private readonly tombKey = new Int32Array(1 << TOMB_BITS);
  private readonly tombCheck = new Int32Array(1 << TOMB_BITS);
  private readonly tombUntil = new Float64Array(1 << TOMB_BITS);
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

  /** Open connections by tuple key, bucket = key & tableMask (exact match by findLeg); NAT gives a connection one key per leg. */
  private table: Array<Connection | Connection[] | undefined> = new Array<Connection | Connection[] | undefined>(1 << INITIAL_TABLE_BITS).fill(undefined);
  private tableMask = (1 << INITIAL_TABLE_BITS) - 1;
  /** Keys in the table (one per leg of each open connection). */
  private tableKeys = 0;
  /** Summarised connections nothing refers to, for reuse (see summarize). */
  private readonly connectionPool: Connection[] = [];
  private activeHead: Connection | null = null;
  private activeTail: Connection | null = null;
  private finalHead: Connection | null = null;
  private finalTail: Connection | null = null;

  private nextConnId = 1;
  private nextExchangeId = 1;
  private readonly newExchangeId = (): number => this.nextExchangeId++;
  private records = 0;
  private tcpRecords = 0;
  private firstUs = -1;
  private lastUs = -1;
  private readonly scratch: StitchedPacket = {
    hash: 0, check: 0, firstUs: 0, hops: [0, 0],
    src: 0, dst: 0, srcPort: 0, dstPort: 0, owner: null, ownerId: -1, side: 0, leg: 0, firstLeg: 0, nextSameHash: null, scratch: true, copy: null, retained: false, serial: 0, nextSerial: -1, inRing: false,
  };
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
    this.stitcher = new PacketStitcher(options.stitchWindowUs ?? FLOW_DEFAULTS.stitchWindowUs);
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
    this.records++;
    const tsUs = record.tsSec * 1e6 + Math.floor(record.tsNsec / 1000);
    if (this.firstUs < 0) this.firstUs = tsUs;
    if (tsUs > this.lastUs) this.lastUs = tsUs;
    else if (tsUs < this.lastUs - this.stitcher.windowUs) this.recordsOutOfTimeOrder++;
    const ifx = this.interfaceOf(record, d, where);
    this.ifObservations[ifx]++;
    if (d.transport !== 'tcp' || !d.tcp.present || d.tcp.malformed !== null) { this.expire(tsUs); return; }
    if (d.ipVersion === 4 && (d.ipv4.moreFragments || d.ipv4.fragmentOffsetBytes > 0)) { this.expire(tsUs); return; }
    this.tcpRecords++;
    const dirCode = where?.direction !== undefined ? DIR_CODE[where.direction] ?? 0 : this.directionOf(record, d);
    const point = ifx * 8 + dirCode;
    const t = d.tcp;
    const f = this.f;
    if (d.ipVersion === 4) {
      f.ipId = d.ipv4.id;
      f.src = d.ipv4.src;
      f.dst = d.ipv4.dst;
    } else {
      f.ipId = d.ipv6.flowLabel;
      f.src = hash16(d.data, d.ipv6.srcOffset);
      f.dst = hash16(d.data, d.ipv6.dstOffset);
    }
    f.seq = t.seq;
    f.ack = t.ack;
    f.flags = t.flags;
    f.window = t.window;
    f.srcPort = t.srcPort;
    f.dstPort = t.dstPort;
    f.payloadLength = t.payloadLength;
    if (!this.stitchOn && (d.link.kind === 'linux_sll2' || d.link.kind === 'linux_sll') && this.stitchMode === 'auto') this.stitchOn = true;
    // The payload hash only tells copies apart: not needed without stitching.
    f.payloadHash = this.stitchOn && t.capturedPayloadLength > 0 ? hashPayload(d.data, t.payloadOffset, t.capturedPayloadLength) : 0;
    let packet: StitchedPacket;
    if (this.stitchOn) {
      packet = this.stitcher.stitch(f, point, tsUs);
      if (!this.stitcher.lastWasFirst) { this.onCopy(packet, ifx, d); return; }
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

    let conn = this.lookup(f.src, f.srcPort, f.dst, f.dstPort);
    if (conn === null && this.isTombstoned(f)) { this.packetsAfterClose++; return; }
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
      const pooled = this.connectionPool.pop();
      conn = pooled !== undefined ? pooled.reuse(this.nextConnId++, tsUs) : new Connection(this.nextConnId++, tsUs, this.newExchangeId);
      leg = addLeg(conn, 'a', f.src, f.srcPort, f.dst, f.dstPort, this.addrText(d, true), this.addrText(d, false));
      this.register(conn, f.src, f.srcPort, f.dst, f.dstPort);
      this.linkActive(conn);
      isNew = true;
    } else {
      const m = findLeg(conn, f.src, f.srcPort, f.dst, f.dstPort);
      side = (m & 1) === 1 ? 'b' : 'a';
      leg = m >> 1;
      this.touch(conn, tsUs);
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
    if (this.packetLogMax > 0 && conn.log.length < this.packetLogMax) {
      conn.log.push({ packet: retainPacket(packet), side, flags: f.flags, payloadLength: f.payloadLength });
    }
    const wasFinal = conn.inFinals;
    conn.tracker(side).onSegment(f.flags, f.seq, f.window, d.data, t.payloadOffset, t.payloadLength, t.capturedPayloadLength, tsUs, packet);
    if ((f.flags & 0x10) !== 0) conn.tracker(side === 'a' ? 'b' : 'a').onAck(f.ack);
    if (!wasFinal && conn.isFinal()) this.moveToFinal(conn);
  }

  /** A later copy of a known packet: note where it was seen and any NAT rewrite since the last copy. */
  private onCopy(packet: StitchedPacket, ifx: number, d: DecodedPacket): void {
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
      else {
        legIndex = addLeg(conn, sender, f.src, f.srcPort, f.dst, f.dstPort, this.addrText(d, true), this.addrText(d, false));
        this.register(conn, f.src, f.srcPort, f.dst, f.dstPort);
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

  private interfaceOf(record: PacketRecord, d: DecodedPacket, where?: PacketWhere): number {
    if (where?.interface) return this.internInterface(where.interface);
    if (d.link.kind === 'linux_sll2' && d.link.ifindex >= 0) {
      const ifindex = d.link.ifindex;
      const cached = this.byIfindex[ifindex];
      if (cached !== undefined) return cached;
      const name = this.ifmap.get(ifindex);
      if (name !== undefined) return this.cached(this.byIfindex, ifindex, this.internInterface(name));
      // Not in --ifmap: a pcapng interface block named after one interface (flowtrace capture
      // -w writes one per interface) names it; `any` (tcpdump -i any -w) does not.
      const blockName = this.blockNames[record.interfaceId];
      if (blockName && blockName !== 'any') return this.blockInterface(record.interfaceId, blockName);
      if (this.ifNames.length >= MAX_INTERFACES - 1) return this.internInterface(OTHER_INTERFACES);
      this.unmappedIfindexes.push(ifindex);
      return this.cached(this.byIfindex, ifindex, this.internInterface(`ifindex${ifindex}`));
    }
    const cached = this.byInterfaceId[record.interfaceId];
    if (cached !== undefined) return cached;
    // A pcap file has one nameless interface: call it what it is, the capture point.
    const name = this.blockNames[record.interfaceId] ?? (this.interfaceBlocks <= 1 && record.interfaceId === 0 ? 'capture' : null);
    if (name === null && this.ifNames.length >= MAX_INTERFACES - 1) return this.internInterface(OTHER_INTERFACES);
    return this.cached(this.byInterfaceId, record.interfaceId, this.internInterface(name ?? `if${record.interfaceId}`));
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

  private directionOf(record: PacketRecord, d: DecodedPacket): number {
    if (record.epbDirection === 1) return DIR_CODE.in;
    if (record.epbDirection === 2) return DIR_CODE.out;
    return DIR_CODE[d.link.direction] ?? 0;
  }

  private expectsForwarding(): boolean {
    return this.sawBridgeSide;
  }

  /** IPv6 texts now (the numbers are hashes); IPv4 null: formatted from the number when a summary needs it. */
  private addrText(d: DecodedPacket, src: boolean): string | null {
    if (d.ipVersion === 4) return null;
    return formatIPv6(d.data, src ? d.ipv6.srcOffset : d.ipv6.dstOffset);
  }

  // ── the connection table and the two lists (active by last packet, final by close) ──

  private lookup(src: number, srcPort: number, dst: number, dstPort: number): Connection | null {
    const e = this.table[tupleKey(src, srcPort, dst, dstPort) & this.tableMask];
    if (e === undefined) return null;
    if (!Array.isArray(e)) return findLeg(e, src, srcPort, dst, dstPort) >= 0 ? e : null;
    for (const c of e) if (findLeg(c, src, srcPort, dst, dstPort) >= 0) return c;
    return null;
  }

  /** A non-SYN packet of a connection summarised a moment ago (late ACK, FIN retransmission). */
  private isTombstoned(f: CopyFields): boolean {
    if ((f.flags & 0x12) === 0x02) return false; // a SYN starts something new
    const key = tupleKey(f.src, f.srcPort, f.dst, f.dstPort);
    const slot = key & TOMB_MASK;
    return this.tombKey[slot] === key && this.tombUntil[slot] >= this.lastUs
      && this.tombCheck[slot] === tupleCheck(f.src, f.srcPort, f.dst, f.dstPort);
  }

  private register(conn: Connection, src: number, srcPort: number, dst: number, dstPort: number): void {
    const key = tupleKey(src, srcPort, dst, dstPort);
    insertIntoBucket(this.table, key & this.tableMask, conn);
    conn.bucketKeys.push(key);
    if (++this.tableKeys > (this.tableMask + 1) >> 1) this.growTable();
  }

  /**
   * Doubles the table. Entries that share a bucket in the bigger table shared one in this
   * one (the bucket is the key's low bits), so walking the old buckets in order and
   * appending keeps every bucket's order: lookups find the same connection first as before.
   */
  private growTable(): void {
    const old = this.table;
    const oldMask = this.tableMask;
    const mask = oldMask * 2 + 1;
    const table = new Array<Connection | Connection[] | undefined>(mask + 1).fill(undefined);
    const move = (conn: Connection, slot: number, nth: number): void => {
      // The nth key of this connection that lands in this old bucket.
      let seen = 0;
      for (const key of conn.bucketKeys) {
        if ((key & oldMask) !== slot) continue;
        if (seen++ === nth) { insertIntoBucket(table, key & mask, conn); return; }
      }
    };
    for (let slot = 0; slot <= oldMask; slot++) {
      const e = old[slot];
      if (e === undefined) continue;
      if (!Array.isArray(e)) { move(e, slot, 0); continue; }
      const occurrences = new Map<Connection, number>();
      for (const conn of e) {
        const nth = occurrences.get(conn) ?? 0;
        occurrences.set(conn, nth + 1);
        move(conn, slot, nth);
      }
    }
    this.table = table;
    this.tableMask = mask;
  }

  private unregister(conn: Connection): void {
    this.tableKeys -= conn.bucketKeys.length;
    for (const key of conn.bucketKeys) {
      const slot = key & this.tableMask;
      const e = this.table[slot];
      if (e === conn) this.table[slot] = undefined;
      else if (Array.isArray(e)) {
        const rest = e.filter((c) => c !== conn);
        this.table[slot] = rest.length === 0 ? undefined : rest.length === 1 ? rest[0] : rest;
      }
    }
  }

  private linkActive(conn: Connection): void {
    conn.prevActive = this.activeTail;
    conn.nextActive = null;
    if (this.activeTail) this.activeTail.nextActive = conn; else this.activeHead = conn;
    this.activeTail = conn;
  }

  private unlinkActive(conn: Connection): void {
    if (conn.prevActive) conn.prevActive.nextActive = conn.nextActive; else if (this.activeHead === conn) this.activeHead = conn.nextActive;
    if (conn.nextActive) conn.nextActive.prevActive = conn.prevActive; else if (this.activeTail === conn) this.activeTail = conn.prevActive;
    conn.prevActive = conn.nextActive = null;
  }

  private touch(conn: Connection, tsUs: number): void {
    if (tsUs > conn.lastUs) conn.lastUs = tsUs;
    if (conn.inFinals || this.activeTail === conn) return;
    this.unlinkActive(conn);
    this.linkActive(conn);
  }

  private moveToFinal(conn: Connection): void {
    this.unlinkActive(conn);
    conn.inFinals = true;
    conn.prevActive = this.finalTail;
    if (this.finalTail) this.finalTail.nextActive = conn; else this.finalHead = conn;
    this.finalTail = conn;
  }

  private unlinkFinal(conn: Connection): void {
    if (conn.prevActive) conn.prevActive.nextActive = conn.nextActive; else if (this.finalHead === conn) this.finalHead = conn.nextActive;
    if (conn.nextActive) conn.nextActive.prevActive = conn.prevActive; else if (this.finalTail === conn) this.finalTail = conn.prevActive;
    conn.prevActive = conn.nextActive = null;
    conn.inFinals = false;
  }

  private expire(nowUs: number): void {
    while (this.finalHead && nowUs - this.finalHead.closeUs > this.lingerUs) this.summarize(this.finalHead, nowUs);
    while (this.activeHead && nowUs - this.activeHead.lastUs > this.idleUs) {
      this.activeHead.idleTimedOut = true;
      this.summarize(this.activeHead);
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
    this.stitcher.release(conn.synPacket);
    this.stitcher.release(conn.synAckPacket);
    this.stitcher.release(conn.rstPacket);
    this.stitcher.release(conn.a.firstDataPacket);
    this.stitcher.release(conn.b.firstDataPacket);
    this.stitcher.release(conn.ackPacket);
    for (const d of [conn.a, conn.b]) { this.stitcher.release(d.finPacket); this.stitcher.release(d.lastSynPacket); }
    for (const e of conn.log) this.stitcher.release(e.packet);
    for (const ex of conn.pairing.all) {
      if (ex.request) this.stitcher.release(ex.request.packet);
      if (ex.response) this.stitcher.release(ex.response.packet);
    }
    if (this.connectionPool.length < CONNECTION_POOL_MAX) this.connectionPool.push(conn);
  }

  /** Counts the connection, and keeps what the options say of it. */
  private report(conn: Connection, nowUs: number): void {
    conn.summarized = true;
    if (conn.inFinals) this.unlinkFinal(conn); else this.unlinkActive(conn);
    this.unregister(conn);
    if (nowUs >= 0 && conn.isFinal()) {
      for (const l of conn.legs) {
        const key = tupleKey(l.aAddr, l.aPort, l.bAddr, l.bPort);
        const slot = key & TOMB_MASK;
        this.tombKey[slot] = key;
        this.tombCheck[slot] = tupleCheck(l.aAddr, l.aPort, l.bAddr, l.bPort);
        this.tombUntil[slot] = nowUs + FLOW_DEFAULTS.tombstoneSec * 1e6;
      }
    }
    conn.a.finish();
    conn.b.finish();
    conn.decideRolesByPorts(conn.legs[0].aPort, conn.legs[0].bPort);
    // Nothing will be kept from most connections of a huge capture under --keep anomalies: count and go.
    if (this.keep === 'anomalies' && this.exchangeFilter === null && conn.nat === null && !anythingToReport(conn)) {
      this.connectionsNotKept++;
      this.exchangesNotKept += conn.pairing.all.length;
      return;
    }
    const clientSide = conn.clientSide!;
    const serverSide = other(clientSide);
    // Endpoints as seen outside the NAT (where the client's packets enter), and inside it.
    const outer = outerLeg(conn, clientSide);
    const inner = innerLeg(conn, clientSide);
    const clientOf = (l: LegView): Endpoint => (clientSide === 'a' ? { address: l.aText, port: l.aPort } : { address: l.bText, port: l.bPort });
    const serverOf = (l: LegView): Endpoint => (clientSide === 'a' ? { address: l.bText, port: l.bPort } : { address: l.aText, port: l.aPort });
    const client = clientOf(conn.legs[outer]);
    const server = serverOf(conn.legs[outer]);

    const exchangeIds: number[] = [];
    // With a filter (--request) a connection counts only through its selected exchanges.
    let selected = this.exchangeFilter === null;
    if (this.keep === 'anomalies' && !this.exchangeFilter) this.exchangesNotKept += conn.pairing.all.length;
    else {
      for (const ex of conn.pairing.all) {
        exchangeIds.push(ex.id);
        if (!this.exchangeFilter && this.exchanges.length >= this.maxKept) { this.exchangesNotKept++; continue; }
        const summary = this.exchangeSummary(conn, ex, client, server);
        if (this.exchangeFilter && !this.exchangeFilter(summary)) { this.exchangesNotKept++; continue; }
        selected = true;
        if (this.exchanges.length >= this.maxKept) { this.exchangesNotKept++; continue; }
        this.exchanges.push(summary);
      }
    }
    const mappings = natMappings(conn, clientSide, (i) => this.ifNames[i]);
    for (const m of mappings) {
      if (this.nat.length >= this.maxKept) break;
      const key = `${m.kind} ${m.from} ${m.to}`;
      if (!this.natKeys.has(key)) { this.natKeys.add(key); this.nat.push(m); }
    }
    if (selected) {
      for (const a of connectionAnomalies(conn, clientSide, client, server, this.anomalyContext)) {
        if (this.anomalies.length < this.maxKept) this.anomalies.push(a); else this.anomaliesNotKept++;
      }
    }
    if (this.keep !== 'all' || !selected || this.connections.length >= this.maxKept) { this.connectionsNotKept++; return; }

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
      exchangeIds,
      idleTimedOut: conn.idleTimedOut,
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
    for (const ex of conn.pairing.all) {
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
    while (this.finalHead) this.summarize(this.finalHead);
    while (this.activeHead) this.summarize(this.activeHead);
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
      },
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

function insertIntoBucket(table: Array<Connection | Connection[] | undefined>, slot: number, conn: Connection): void {
  const e = table[slot];
  if (e === undefined) table[slot] = conn;
  else if (Array.isArray(e)) e.push(conn);
  else table[slot] = [e, conn];
}

/** Direction-independent key of a 4-tuple. */
function tupleKey(src: number, srcPort: number, dst: number, dstPort: number): number {
  const x = Math.imul(src ^ Math.imul(srcPort, 0x9e3779b1), 0x85ebca6b);
  const y = Math.imul(dst ^ Math.imul(dstPort, 0x9e3779b1), 0x85ebca6b);
  const lo = x < y ? x : y;
  const hi = x < y ? y : x;
  return (Math.imul(lo ^ (hi >>> 13), 0xc2b2ae35) ^ hi) | 0;
}

/** A second direction-independent hash of a 4-tuple, independent of tupleKey (tombstone check). */
function tupleCheck(src: number, srcPort: number, dst: number, dstPort: number): number {
  const x = Math.imul((src + 0x7f4a7c15) ^ (srcPort << 16), 0x2c1b3c6d);
  const y = Math.imul((dst + 0x7f4a7c15) ^ (dstPort << 16), 0x2c1b3c6d);
  return ((x ^ y) + Math.imul(x, y) * 3) | 0;
}

/** 32-bit FNV-1a of a 16-byte IPv6 address. */
function hash16(data: Uint8Array, offset: number): number {
  let h = 0x811c9dc5;
  for (let i = offset; i < offset + 16; i++) h = Math.imul(h ^ data[i], 0x01000193);
  return h | 0;
}
