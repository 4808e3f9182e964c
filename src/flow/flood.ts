/**
 * SYN floods as a finding: every handshake that never completed (a SYN never answered, or a
 * SYN-ACK never acknowledged) is noted with its source, its target and its time — whether
 * its connection was summarised or forgotten by the half-open bound — in fixed memory: the
 * sources and targets that sent most (Space-Saving, Metwally et al. 2005: K counters, a
 * count's overestimate at most the smallest count), the number of distinct sources (exact up
 * to EXACT_SOURCES, then HyperLogLog, Flajolet et al. 2007, ±1.6 %), the first and last SYN.
 *
 * It is a flood (`syn-flood`) when at least FLOOD_MIN_HANDSHAKES never completed at
 * FLOOD_MIN_PER_SECOND or more on average — or when the half-open bound had to forget some.
 */
import { formatIPv4 } from '../decode/index.js';
import type { Anomaly, SynFloodFacts } from './types.js';

export const FLOOD_MIN_HANDSHAKES = 1000;
export const FLOOD_MIN_PER_SECOND = 100;
/** Sources listed: those that sent at least this share of the handshakes, at most TOP_LISTED. */
const TOP_SHARE = 0.01;
const TOP_LISTED = 10;
const TARGETS_LISTED = 5;
const SOURCE_COUNTERS = 64;
const TARGET_COUNTERS = 16;
const EXACT_SOURCES = 1024;
const HLL_BITS = 12;

/** Space-Saving: the K keys seen most, with counts that overestimate by at most `errors[i]`. */
class TopCounter {
  private readonly keys: Float64Array;
  private readonly counts: Float64Array;
  private readonly errors: Float64Array;
  private readonly texts: Array<string | null>;
  /** Min-heap of slots by count; `pos[slot]` is where the slot is in it. */
  private readonly heap: Int32Array;
  private readonly pos: Int32Array;
  /** key → slot: open addressing with linear probing (slot + 1; 0 empty), 4 buckets per counter. No allocation per key. */
  private readonly index: Int32Array;
  private readonly indexMask: number;
  private size = 0;

  constructor(private readonly k: number) {
    this.keys = new Float64Array(k);
    this.counts = new Float64Array(k);
    this.errors = new Float64Array(k);
    this.texts = new Array<string | null>(k).fill(null);
    this.heap = new Int32Array(k);
    this.pos = new Int32Array(k);
    this.index = new Int32Array(4 * k);
    this.indexMask = 4 * k - 1;
  }

  /** One more for `key` (`text`: its printed form when it cannot be made from the key). */
  add(key: number, text: string | null): void {
    let s = this.find(key);
    if (s >= 0) {
      this.counts[s]++;
      this.down(this.pos[s]);
      return;
    }
    if (this.size < this.k) {
      s = this.size++;
      this.counts[s] = 1;
      this.errors[s] = 0;
      this.heap[s] = s;
      this.pos[s] = s;
      this.keys[s] = key;
      this.texts[s] = text;
      this.insert(key, s);
      this.up(s);
      return;
    }
    // The least counted key gives its counter up; the newcomer inherits its count as error.
    s = this.heap[0];
    this.erase(this.keys[s]);
    this.errors[s] = this.counts[s];
    this.counts[s]++;
    this.keys[s] = key;
    this.texts[s] = text;
    this.insert(key, s);
    this.down(this.pos[s]);
  }

  private bucket(key: number): number {
    return mix32((key | 0) ^ Math.floor(key / 4294967296)) & this.indexMask;
  }

  private find(key: number): number {
    for (let b = this.bucket(key); ; b = (b + 1) & this.indexMask) {
      const e = this.index[b];
      if (e === 0) return -1;
      if (this.keys[e - 1] === key) return e - 1;
    }
  }

  private insert(key: number, slot: number): void {
    let b = this.bucket(key);
    while (this.index[b] !== 0) b = (b + 1) & this.indexMask;
    this.index[b] = slot + 1;
  }

  /** Removes `key`, shifting back the entries after it in its probe run (no tombstones). */
  private erase(key: number): void {
    const mask = this.indexMask;
    let b = this.bucket(key);
    while (this.keys[this.index[b] - 1] !== key) b = (b + 1) & mask;
    this.index[b] = 0;
    for (let j = (b + 1) & mask; this.index[j] !== 0; j = (j + 1) & mask) {
      const home = this.bucket(this.keys[this.index[j] - 1]);
      // The entry at j may move into the hole at b when its home is not in (b, j] (cyclically).
      if (b <= j ? home <= b || home > j : home <= b && home > j) {
        this.index[b] = this.index[j];
        this.index[j] = 0;
        b = j;
      }
    }
  }

  /** The keys by count, most first: count and the count guaranteed (count − overestimate). */
  top(): Array<{ key: number; text: string | null; count: number; guaranteed: number }> {
    const out = [];
    for (let s = 0; s < this.size; s++) out.push({ key: this.keys[s], text: this.texts[s], count: this.counts[s], guaranteed: this.counts[s] - this.errors[s] });
    return out.sort((a, b) => b.guaranteed - a.guaranteed || b.count - a.count || a.key - b.key);
  }

  private up(i: number): void {
    const heap = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.counts[heap[parent]] <= this.counts[heap[i]]) return;
      const t = heap[i]; heap[i] = heap[parent]; heap[parent] = t;
      this.pos[heap[i]] = i;
      this.pos[heap[parent]] = parent;
      i = parent;
    }
  }

  private down(i: number): void {
    const heap = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= this.size) return;
      const r = l + 1;
      const c = r < this.size && this.counts[heap[r]] < this.counts[heap[l]] ? r : l;
      if (this.counts[heap[c]] >= this.counts[heap[i]]) return;
      const t = heap[i]; heap[i] = heap[c]; heap[c] = t;
      this.pos[heap[i]] = i;
      this.pos[heap[c]] = c;
      i = c;
    }
  }
}

/** Distinct 32-bit keys: exact up to EXACT_SOURCES, then a HyperLogLog estimate. */
class DistinctCounter {
  private exact: Set<number> | null = new Set();
  private readonly registers = new Uint8Array(1 << HLL_BITS);

  add(key: number): void {
    const h = mix32(key);
    const idx = h >>> (32 - HLL_BITS);
    const rank = Math.clz32((h << HLL_BITS) | (1 << (HLL_BITS - 1))) + 1;
    if (rank > this.registers[idx]) this.registers[idx] = rank;
    if (this.exact !== null) {
      this.exact.add(key);
      if (this.exact.size > EXACT_SOURCES) this.exact = null;
    }
  }

  get isExact(): boolean {
    return this.exact !== null;
  }

  count(): number {
    if (this.exact !== null) return this.exact.size;
    const m = this.registers.length;
    let sum = 0;
    let zeros = 0;
    for (const r of this.registers) { sum += 2 ** -r; if (r === 0) zeros++; }
    const estimate = ((0.7213 / (1 + 1.079 / m)) * m * m) / sum;
    // Small range: linear counting is the better estimate.
    if (estimate <= 2.5 * m && zeros > 0) return Math.round(m * Math.log(m / zeros));
    return Math.round(estimate);
  }
}

/** murmur3's finaliser: spreads the bits of an address over the whole word. */
function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

export class SynFloodTracker {
  private handshakes = 0;
  private evictedCount = 0;
  private firstUs = Infinity;
  private lastUs = -Infinity;
  private readonly sources = new TopCounter(SOURCE_COUNTERS);
  private readonly targets = new TopCounter(TARGET_COUNTERS);
  private readonly distinct = new DistinctCounter();

  /**
   * A handshake that never completed: its client's address (IPv4 number or IPv6 hash, with
   * the IPv6 text), the server's, and when the SYN was first seen.
   */
  note(src: number, srcText: string | null, dst: number, dstPort: number, dstText: string | null, synUs: number, evicted: boolean): void {
    this.handshakes++;
    if (evicted) this.evictedCount++;
    if (synUs < this.firstUs) this.firstUs = synUs;
    if (synUs > this.lastUs) this.lastUs = synUs;
    this.sources.add(src >>> 0, srcText);
    this.distinct.add(src);
    this.targets.add((dst >>> 0) * 65536 + dstPort, dstText);
  }

  /** Handshakes noted so far that never completed. */
  get unfinished(): number {
    return this.handshakes;
  }

  /** The finding, or null when it is not a flood. */
  finding(): Anomaly | null {
    const n = this.handshakes;
    if (n === 0) return null;
    const spanUs = this.lastUs - this.firstUs;
    const perSecond = spanUs > 0 ? (n / spanUs) * 1e6 : Infinity;
    if (this.evictedCount === 0 && (n < FLOOD_MIN_HANDSHAKES || perSecond < FLOOD_MIN_PER_SECOND)) return null;
    const topSources = this.sources.top()
      .filter((s) => s.guaranteed >= Math.max(1, n * TOP_SHARE))
      .slice(0, TOP_LISTED)
      .map((s) => ({ address: s.text ?? formatIPv4(s.key), handshakes: s.guaranteed }));
    const targets = this.targets.top()
      .filter((t) => t.guaranteed >= 1)
      .slice(0, TARGETS_LISTED)
      .map((t) => ({ endpoint: t.text !== null ? `[${t.text}]:${t.key % 65536}` : `${formatIPv4(Math.floor(t.key / 65536))}:${t.key % 65536}`, handshakes: t.guaranteed }));
    const facts: SynFloodFacts = {
      handshakes: n,
      evicted: this.evictedCount,
      sources: this.distinct.count(),
      sourcesExact: this.distinct.isExact,
      topSources,
      targets,
      firstTs: Math.round(this.firstUs) / 1e6,
      lastTs: Math.round(this.lastUs) / 1e6,
      perSecond: Number.isFinite(perSecond) ? Math.round(perSecond) : null,
    };
    return { kind: 'syn-flood', severity: 'error', connectionId: 0, exchangeId: null, ts: facts.firstTs, hops: [], message: floodMessage(facts), flood: facts };
  }
}

function floodMessage(f: SynFloodFacts): string {
  const span = f.lastTs - f.firstTs;
  const rate = f.perSecond !== null ? ` in ${span.toFixed(1)} s (${count(f.perSecond)}/s)` : '';
  const sources = `${f.sourcesExact ? '' : 'about '}${count(f.sources)} source${f.sources === 1 ? '' : 's'}`;
  const top = f.topSources.length > 0
    ? ` (most: ${f.topSources.slice(0, 3).map((s) => `${s.address} ${count(s.handshakes)}`).join(', ')})`
    : f.sources > 1 ? ' (none sent 1 % of them)' : '';
  const targets = f.targets.length > 0 ? ` to ${f.targets.slice(0, 3).map((t) => t.endpoint).join(', ')}` : '';
  const forgotten = f.evicted > 0 ? `; ${count(f.evicted)} half-open connections were forgotten to bound memory (limits.tables.halfOpenConnections)` : '';
  return `${count(f.handshakes)} handshakes never completed${rate}, from ${sources}${top}${targets}${forgotten}`;
}

/** 1234 → "1234", 56789 → "56.8 k", 1950000 → "1.95 M". */
export function count(n: number): string {
  if (n >= 1e6) return `${+(n / 1e6).toPrecision(3)} M`;
  if (n >= 1e4) return `${+(n / 1e3).toPrecision(3)} k`;
  return String(n);
}
