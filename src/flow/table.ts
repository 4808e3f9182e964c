/**
 * The open connections: a hash table by tuple key (NAT gives a connection one key per leg)
 * and three lists — half-open (SYN seen, handshake not done) and active, each by last
 * activity (least recent first: where eviction and the idle timeout look), and final (FIN
 * both ways or RST) by close time (where the linger ends first). A connection is in exactly
 * one list while it is in the table. Plus the tombstones of recently summarised connections.
 * Every operation is constant time (amortised for the table's doubling).
 */
import type { Connection } from './connections.js';
import { findLeg } from './nat.js';

/** Which list a connection is in. */
export const LIST_NONE = 0;
export const LIST_HALF_OPEN = 1;
export const LIST_ACTIVE = 2;
export const LIST_FINAL = 3;

/**
 * Buckets at first: the table doubles whenever the keys of the open connections outnumber
 * half its buckets, so it stays small (and in the CPU's cache) when few connections are
 * open at once — the common case, even in a big capture.
 */
const INITIAL_TABLE_BITS = 12;
/**
 * Tombstones: direct-mapped, a newer one overwrites an older one in its slot (2^18 slots,
 * 4 MiB). A slot is two doubles side by side — until when, and the tuple's key with 21 bits
 * of a second hash (53 bits, exact in a double) — so a look-up touches one cache line.
 */
const TOMB_BITS = 18;
const TOMB_MASK = (1 << TOMB_BITS) - 1;

type Bucket = Connection | Connection[] | undefined;

class ConnectionList {
  head: Connection | null = null;
  tail: Connection | null = null;
  count = 0;
  /**
   * The head's time (close time in the final list, last activity in the others; Infinity when
   * empty), kept here: it is read at every packet, and the head — the oldest — is cold in the cache.
   */
  headUs = Infinity;
  constructor(readonly id: number) {}

  append(conn: Connection): void {
    conn.list = this.id;
    conn.prevInList = this.tail;
    conn.nextInList = null;
    if (this.tail) this.tail.nextInList = conn;
    else { this.head = conn; this.headUs = this.timeOf(conn); }
    this.tail = conn;
    this.count++;
  }

  remove(conn: Connection): void {
    if (conn.prevInList) conn.prevInList.nextInList = conn.nextInList;
    else { this.head = conn.nextInList; this.headUs = this.head === null ? Infinity : this.timeOf(this.head); }
    if (conn.nextInList) conn.nextInList.prevInList = conn.prevInList; else this.tail = conn.prevInList;
    conn.prevInList = conn.nextInList = null;
    conn.list = LIST_NONE;
    this.count--;
  }

  private timeOf(conn: Connection): number {
    return this.id === LIST_FINAL ? conn.closeUs : conn.lastUs;
  }
}

export class ConnectionTable {
  private table: Bucket[] = new Array<Bucket>(1 << INITIAL_TABLE_BITS).fill(undefined);
  private mask = (1 << INITIAL_TABLE_BITS) - 1;
  /** Keys in the table (one per leg of each open connection). */
  private keys = 0;
  /** The leg match of the last successful `lookup` (leg × 2 + 1 when side `b` sent it): no second search. */
  lastMatch = -1;
  readonly halfOpen = new ConnectionList(LIST_HALF_OPEN);
  readonly active = new ConnectionList(LIST_ACTIVE);
  readonly final = new ConnectionList(LIST_FINAL);
  /** Most connections open at once. */
  peak = 0;

  private readonly tombs = new Float64Array(2 << TOMB_BITS);

  get open(): number {
    return this.halfOpen.count + this.active.count + this.final.count;
  }

  lookup(src: number, srcPort: number, dst: number, dstPort: number): Connection | null {
    const e = this.table[tupleKey(src, srcPort, dst, dstPort) & this.mask];
    if (e === undefined) return null;
    if (!Array.isArray(e)) {
      const m = findLeg(e, src, srcPort, dst, dstPort);
      if (m < 0) return null;
      this.lastMatch = m;
      return e;
    }
    for (const c of e) {
      const m = findLeg(c, src, srcPort, dst, dstPort);
      if (m >= 0) { this.lastMatch = m; return c; }
    }
    return null;
  }

  /** Adds a key for one leg of `conn`. */
  register(conn: Connection, src: number, srcPort: number, dst: number, dstPort: number): void {
    const key = tupleKey(src, srcPort, dst, dstPort);
    insertIntoBucket(this.table, key & this.mask, conn);
    conn.bucketKeys.push(key);
    if (++this.keys > (this.mask + 1) >> 1) this.grow();
  }

  /** A new connection, into the list its state says. */
  add(conn: Connection, list: number): void {
    this.listOf(list).append(conn);
    const open = this.open;
    if (open > this.peak) this.peak = open;
  }

  /** Out of the table and its list. */
  remove(conn: Connection): void {
    if (conn.list !== LIST_NONE) this.listOf(conn.list).remove(conn);
    this.keys -= conn.bucketKeys.length;
    for (const key of conn.bucketKeys) {
      const slot = key & this.mask;
      const e = this.table[slot];
      if (e === conn) this.table[slot] = undefined;
      else if (Array.isArray(e)) {
        // In place (no new array per removal): a flood removes millions.
        let w = 0;
        for (let r = 0; r < e.length; r++) if (e[r] !== conn) e[w++] = e[r];
        e.length = w;
        if (w <= 1) this.table[slot] = w === 0 ? undefined : e[0];
      }
    }
  }

  /** A packet of `conn`: it becomes the most recently active of its list (the final list stays in close order). */
  touch(conn: Connection): void {
    if (conn.list === LIST_FINAL) return;
    const list = this.listOf(conn.list);
    if (conn.nextInList === null) {
      // Already the most recent; alone in its list, it is also the head, whose time changed.
      if (list.head === conn) list.headUs = conn.lastUs;
      return;
    }
    list.remove(conn);
    list.append(conn);
  }

  /** Into another list (half-open → active when the handshake is done; → final at FIN/FIN or RST). */
  move(conn: Connection, list: number): void {
    if (conn.list === list) return;
    if (conn.list !== LIST_NONE) this.listOf(conn.list).remove(conn);
    this.listOf(list).append(conn);
  }

  private listOf(id: number): ConnectionList {
    return id === LIST_HALF_OPEN ? this.halfOpen : id === LIST_ACTIVE ? this.active : this.final;
  }

  /**
   * Doubles the table. Entries that share a bucket in the bigger table shared one in this
   * one (the bucket is the key's low bits), so walking the old buckets in order and
   * appending keeps every bucket's order: lookups find the same connection first as before.
   */
  private grow(): void {
    const old = this.table;
    const oldMask = this.mask;
    const mask = oldMask * 2 + 1;
    const table = new Array<Bucket>(mask + 1).fill(undefined);
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
    this.mask = mask;
  }

  // ── tombstones ──────────────────────────────────────────────────────────────

  /** Packets of this tuple (either way) until `untilUs` belong to a connection summarised a moment ago. */
  bury(src: number, srcPort: number, dst: number, dstPort: number, untilUs: number): void {
    const key = tupleKey(src, srcPort, dst, dstPort);
    const slot = (key & TOMB_MASK) * 2;
    this.tombs[slot] = untilUs;
    this.tombs[slot + 1] = tombIdentity(key, tupleCheck(src, srcPort, dst, dstPort));
  }

  isBuried(src: number, srcPort: number, dst: number, dstPort: number, nowUs: number): boolean {
    const key = tupleKey(src, srcPort, dst, dstPort);
    const slot = (key & TOMB_MASK) * 2;
    return this.tombs[slot] >= nowUs && this.tombs[slot + 1] === tombIdentity(key, tupleCheck(src, srcPort, dst, dstPort));
  }
}

/** The key (32 bits) and 21 bits of the check, in one exact double; never 0 for a real tuple's slot (0 is "empty"). */
function tombIdentity(key: number, check: number): number {
  return (key >>> 0) * 2097152 + (check & 0x1fffff) + 1;
}

function insertIntoBucket(table: Bucket[], slot: number, conn: Connection): void {
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
