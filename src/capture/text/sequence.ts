/**
 * Absolute TCP sequence numbers from tcpdump's relative ones.
 *
 * tcpdump (print-tcp.c, without -S) keeps one entry per conversation, keyed by its addresses
 * and ports in a fixed order (the lower port first; equal ports: the lower address first).
 * For a segment with ACK set, it records the numbers as they are — and prints them absolute —
 * when it has no entry yet or the segment is a SYN (a SYN-ACK, or a SYN with ACK); otherwise
 * it prints seq and ack minus the recorded ones. A segment without ACK (the first SYN, a bare
 * RST) is printed absolute and changes nothing. This class runs the same bookkeeping over the
 * text, in the same order, and adds back what tcpdump took off — exact for a whole
 * `tcpdump -nn` output; for an excerpt that starts mid-conversation the first numbers seen
 * become the base, as tcpdump's would have (the absolute ones are then not known: said).
 *
 * A pure ACK prints no seq: its seq is the sender's next one, kept per sending direction by
 * its base (the same on every interface a packet crosses: NAT rewrites addresses and ports,
 * never sequence numbers), so the copies of one ACK on ens5 and docker0 get the same number.
 *
 * With -S tcpdump prints every number absolute. Which way a text was printed is decided
 * once, at the first segment whose sender's next sequence number is known: the printed seq
 * (or ack, against the other side's next) is either that number itself (-S) or that number
 * minus the base (relative) — the one within 1 MiB of it tells. Until then, relative
 * (tcpdump's default).
 */

export interface ConversationKey {
  src: Uint8Array;
  dst: Uint8Array;
  srcPort: number;
  dstPort: number;
}

interface Entry {
  /** The recorded numbers (tcpdump's th->seq, th->ack) in the key's order. */
  seq: number;
  ack: number;
  /** Set when the entry was made from numbers printed mid-conversation (no SYN-ACK seen): the base is not the ISN. */
  fromExcerpt: boolean;
}

const U32 = 0x1_0000_0000;
const ABSOLUTE_WINDOW = 1 << 24;
/** A printed number this close to the expected one is that number. */
const NEAR = 1 << 20;
const ACK = 0x10;
const SYN = 0x02;

function add(a: number, b: number): number {
  return (a + b) % U32;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function hexOf(a: Uint8Array): string {
  let s = '';
  for (const b of a) s += b.toString(16).padStart(2, '0');
  return s;
}

export interface AbsoluteNumbers {
  seq: number | null;
  ack: number | null;
  /** The numbers are relative to a base that is not the connection's ISN (an excerpt): exact within the text, not absolute. */
  approximate: boolean;
}

export class RelativeSequences {
  private readonly entries = new Map<string, Entry>();
  /** Next sequence number per sending direction, keyed by the direction's base (NAT-invariant). */
  private readonly nextByBase = new Map<number, number>();
  /** Same, per tuple, for directions with no base yet. */
  private readonly nextByTuple = new Map<string, number>();
  conversationsFromExcerpt = 0;
  /** How the text prints numbers after a conversation's first: decided by the first telling segment. */
  mode: 'unknown' | 'relative' | 'absolute' = 'unknown';
  /** Numbers that were printed relative and made absolute here. */
  madeAbsolute = 0;

  /**
   * The absolute numbers of one segment. `seq`/`ack`: as printed (null when not printed);
   * `payloadLength` and the flags advance the sender's next sequence number.
   */
  absolute(k: ConversationKey, flags: number, seq: number | null, ack: number | null, payloadLength: number): AbsoluteNumbers {
    const rev = k.srcPort > k.dstPort || (k.srcPort === k.dstPort && compareBytes(k.src, k.dst) > 0);
    const key = rev ? `${hexOf(k.dst)}|${hexOf(k.src)}|${k.dstPort}|${k.srcPort}` : `${hexOf(k.src)}|${hexOf(k.dst)}|${k.srcPort}|${k.dstPort}`;
    const tuple = `${hexOf(k.src)}|${k.srcPort}>${hexOf(k.dst)}|${k.dstPort}`;
    let absSeq = seq;
    let absAck = ack;
    let approximate = false;
    let entry = this.entries.get(key);
    if ((flags & ACK) !== 0) {
      if (entry === undefined || (flags & SYN) !== 0) {
        // tcpdump records these and prints them as they are.
        const s = seq ?? this.nextOf(entry, rev, tuple) ?? 0;
        const a = ack ?? 0;
        // tcpdump prints the first numbers of a conversation absolute (random 32-bit values);
        // small ones here mean the text was cut after tcpdump had recorded its base.
        const fromExcerpt = (flags & SYN) === 0 && (seq === null || seq < ABSOLUTE_WINDOW) && (ack === null || ack < ABSOLUTE_WINDOW);
        if (fromExcerpt && entry === undefined) this.conversationsFromExcerpt++;
        entry = rev ? { ack: s, seq: (a - 1 + U32) % U32, fromExcerpt } : { seq: s, ack: (a - 1 + U32) % U32, fromExcerpt };
        this.entries.set(key, entry);
        absSeq = seq;
        absAck = ack;
      } else {
        const seqBase = rev ? entry.ack : entry.seq;
        const ackBase = rev ? entry.seq : entry.ack;
        if (this.mode === 'unknown') this.decide(entry, rev, tuple, seq, seqBase, ack, ackBase);
        // Undecided: a number that is large and just above its base was printed absolute.
        const relative = (value: number, base: number): boolean => this.mode === 'relative'
          || (this.mode === 'unknown' && !(value >= ABSOLUTE_WINDOW && (value - base + U32) % U32 < ABSOLUTE_WINDOW));
        if (seq !== null && relative(seq, seqBase)) { absSeq = add(seq, seqBase); this.madeAbsolute++; }
        if (ack !== null && relative(ack, ackBase)) { absAck = add(ack, ackBase); this.madeAbsolute++; }
        approximate = entry.fromExcerpt && this.mode !== 'absolute';
      }
    }
    // A segment without seq printed (a pure ACK) carries the sender's next sequence number.
    if (absSeq === null) absSeq = this.nextOf(entry, rev, tuple);
    if (absSeq !== null) {
      const consumed = payloadLength + ((flags & SYN) !== 0 ? 1 : 0) + ((flags & 0x01) !== 0 ? 1 : 0);
      const next = add(absSeq, consumed);
      const base = entry ? (rev ? entry.ack : entry.seq) : null;
      const prev = this.nextOf(entry, rev, tuple);
      // Only forward: a retransmission of an earlier segment does not move it back.
      if (prev === null || ((next - prev + U32) % U32) < U32 / 2) {
        if (base !== null) this.nextByBase.set(base, next);
        this.nextByTuple.set(tuple, next);
      }
    }
    return { seq: absSeq, ack: absAck, approximate };
  }

  private nextOf(entry: Entry | undefined, rev: boolean, tuple: string): number | null {
    if (entry) {
      const base = rev ? entry.ack : entry.seq;
      const n = this.nextByBase.get(base);
      if (n !== undefined) return n;
    }
    return this.nextByTuple.get(tuple) ?? null;
  }

  /** -S or not, from a segment whose expected numbers are known (see the top). */
  private decide(entry: Entry, rev: boolean, tuple: string, seq: number | null, seqBase: number, ack: number | null, ackBase: number): void {
    const near = (a: number, b: number): boolean => Math.min((a - b + U32) % U32, (b - a + U32) % U32) < NEAR;
    const tests: Array<[number | null, number | null, number]> = [
      [seq, this.nextOf(entry, rev, tuple), seqBase],
      [ack, this.nextByBase.get(rev ? entry.seq : entry.ack) ?? null, ackBase],
    ];
    for (const [printed, expected, base] of tests) {
      if (printed === null || expected === null || base === 0) continue;
      const asIs = near(printed, expected);
      const plusBase = near(add(printed, base), expected);
      if (asIs !== plusBase) { this.mode = asIs ? 'absolute' : 'relative'; return; }
    }
  }
}
