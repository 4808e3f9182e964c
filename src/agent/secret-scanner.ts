/**
 * Finds the values of secret HTTP header fields (the redaction policy's names, src/redaction.ts)
 * in a byte stream fed in pieces: the scanner keeps its place between pieces,
 * so a header line cut anywhere — in the name, in the colon's spaces, in the value — across
 * any number of TCP segments is still found. RFC 9112 §5 (field lines: `name ":" OWS value
 * OWS`, and obs-fold continuation lines starting with SP or HTAB, §5.2).
 *
 * The scanner does not parse HTTP: any line of the stream that starts with one of the names
 * followed by optional blanks and `:` counts (a body line `Cookie: …` is masked too — more
 * masking, never less). Positions are offsets in the stream; the found values are half-open
 * ranges [start, end) of those offsets.
 *
 * State (numbered transitions, one byte at a time; `lower` is the ASCII lower-case byte):
 *   1. LINE_START   a name's first byte → NAME (its candidates); LF → LINE_START; else REST
 *   2. NAME         a candidate continues → NAME; a complete candidate then SP/HT → BEFORE_COLON,
 *                   then `:` → BEFORE_VALUE; LF → LINE_START; else → REST
 *   3. BEFORE_COLON SP/HT → stay; `:` → BEFORE_VALUE; LF → LINE_START; else → REST
 *   4. BEFORE_VALUE SP/HT → stay; CR → VALUE_CR; LF → AFTER_VALUE; else a range opens → VALUE
 *   5. VALUE        CR → VALUE_CR and LF → AFTER_VALUE (the range closes); else stay (masked)
 *   6. VALUE_CR     LF → AFTER_VALUE; else → REST (a bare CR ended the value)
 *   7. AFTER_VALUE  SP/HT → BEFORE_VALUE (obs-fold: the same value goes on); else as LINE_START
 *   8. REST         LF → LINE_START; else stay
 * A gap in the stream (bytes never captured) keeps VALUE/BEFORE_VALUE (the value may go on:
 * masking on is the safe side) and turns every other state into LINE_START.
 */

import { SECRET_HEADER_NAMES } from '../redaction.js';

export { SECRET_HEADER_NAMES };

/** Candidates are bits of one 32-bit mask (the policy allows no more names). */
const MAX_NAMES = 30;

const SP = 0x20;
const HT = 0x09;
const CR = 0x0d;
const LF = 0x0a;
const COLON = 0x3a;

const enum S { LINE_START, NAME, BEFORE_COLON, BEFORE_VALUE, VALUE, VALUE_CR, AFTER_VALUE, REST }

function lower(c: number): number { return c >= 0x41 && c <= 0x5a ? c | 0x20 : c; }

export class SecretHeaderScanner {
  /** The names, lower-case bytes (header names are ASCII tokens). */
  private readonly names: Uint8Array[];
  private readonly allCandidates: number;
  private state: S = S.LINE_START;
  /** NAME: bit i set when NAMES[i] still matches the `matched` bytes seen. */
  private candidates = 0;
  private matched = 0;
  private rangeStart = -1;
  /** This header's value was counted already (an obs-fold line goes on with it). */
  private counted = false;
  /** Where the next fed byte sits in the stream (for `gap` and `finish`). */
  private position = 0;
  /** Found value ranges as [start, end) pairs, flat, in stream order. */
  readonly ranges: number[] = [];
  /** Non-empty header values found (an obs-fold continuation is part of its header's value). */
  values = 0;

  constructor(names: readonly string[] = SECRET_HEADER_NAMES) {
    if (names.length > MAX_NAMES) throw new RangeError(`at most ${MAX_NAMES} header names`);
    this.names = names.map((n) => Uint8Array.from(Buffer.from(n.toLowerCase(), 'latin1')));
    this.allCandidates = names.length === 0 ? 0 : (2 ** names.length - 1) | 0;
  }

  /**
   * Scans `bytes[from, to)`, which sit at stream offset `streamOffset`. Must be called with
   * increasing, non-overlapping offsets; a jump forward is a gap (see the header comment).
   */
  feed(bytes: Uint8Array, from: number, to: number, streamOffset: number): void {
    if (streamOffset > this.position) this.gap(streamOffset);
    for (let i = from; i < to; i++) this.step(bytes[i], streamOffset + (i - from));
    this.position = streamOffset + (to - from);
  }

  /** Bytes up to `streamOffset` were not captured. */
  private gap(streamOffset: number): void {
    if (this.state === S.VALUE) {
      // The range stays open across the gap: a value cut by a lost segment goes on masked.
    } else if (this.state !== S.BEFORE_VALUE) {
      this.state = S.LINE_START;
    }
    this.position = streamOffset;
  }

  /** Ends the stream: a value still open is closed where the stream's data ends. */
  finish(): void {
    if (this.state === S.VALUE) this.closeRange(this.position);
    this.state = S.REST;
  }

  private closeRange(end: number): void {
    if (end > this.rangeStart) this.ranges.push(this.rangeStart, end);
    this.rangeStart = -1;
  }

  private startName(c: number): void {
    const b = lower(c);
    const NAMES = this.names;
    let cand = 0;
    for (let k = 0; k < NAMES.length; k++) if (NAMES[k][0] === b) cand |= 1 << k;
    if (cand !== 0) { this.state = S.NAME; this.candidates = cand; this.matched = 1; return; }
    this.state = c === LF ? S.LINE_START : S.REST;
  }

  private step(c: number, at: number): void {
    switch (this.state) {
      case S.LINE_START: this.startName(c); return;
      case S.NAME: {
        const NAMES = this.names;
        if (c === LF) { this.state = S.LINE_START; return; }
        if (c === COLON || c === SP || c === HT) {
          let complete = false;
          for (let k = 0; k < NAMES.length; k++) if ((this.candidates & (1 << k)) !== 0 && NAMES[k].length === this.matched) complete = true;
          if (!complete) { this.state = S.REST; return; }
          this.state = c === COLON ? S.BEFORE_VALUE : S.BEFORE_COLON;
          this.counted = false;
          return;
        }
        const b = lower(c);
        let cand = 0;
        for (let k = 0; k < NAMES.length; k++) {
          if ((this.candidates & (1 << k)) !== 0 && NAMES[k].length > this.matched && NAMES[k][this.matched] === b) cand |= 1 << k;
        }
        if (cand === 0) { this.state = S.REST; return; }
        this.candidates = cand & this.allCandidates;
        this.matched++;
        return;
      }
      case S.BEFORE_COLON:
        if (c === SP || c === HT) return;
        if (c === COLON) { this.state = S.BEFORE_VALUE; return; }
        this.state = c === LF ? S.LINE_START : S.REST;
        return;
      case S.BEFORE_VALUE:
        if (c === SP || c === HT) return;
        if (c === CR) { this.state = S.VALUE_CR; return; }
        if (c === LF) { this.state = S.AFTER_VALUE; return; }
        this.state = S.VALUE;
        this.rangeStart = at;
        if (!this.counted) { this.values++; this.counted = true; }
        return;
      case S.VALUE:
        if (c === CR || c === LF) {
          this.closeRange(at);
          this.state = c === CR ? S.VALUE_CR : S.AFTER_VALUE;
        }
        return;
      case S.VALUE_CR:
        this.state = c === LF ? S.AFTER_VALUE : S.REST;
        return;
      case S.AFTER_VALUE:
        if (c === SP || c === HT) { this.state = S.BEFORE_VALUE; return; }
        this.startName(c);
        return;
      case S.REST:
        if (c === LF) this.state = S.LINE_START;
        return;
    }
  }
}
