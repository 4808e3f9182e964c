/**
 * HTTP/1.x message heads at the start of a TCP segment: RFC 9112 §3 (request line), §4
 * (status line), §5 (field lines). Only heads that begin a segment are recognised; a head
 * split over segments is reported with `complete: false` and the lines seen so far.
 */
import type { HttpHead } from './types.js';

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const COLON = 0x3a;
/** Longest head looked at in one segment (a request line + headers rarely exceeds this). */
export const HTTP_MAX_HEAD_BYTES = 64 * 1024;

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH', 'CONNECT', 'TRACE'];
const METHOD_BYTES = METHODS.map((m) => Uint8Array.from(m + ' ', (c) => c.charCodeAt(0)));
const HTTP_SLASH = Uint8Array.from('HTTP/', (c) => c.charCodeAt(0));

function startsWith(d: Uint8Array, offset: number, end: number, prefix: Uint8Array): boolean {
  if (end - offset < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (d[offset + i] !== prefix[i]) return false;
  return true;
}

/** 'request' / 'response' when the bytes begin like an HTTP/1.x head, else null. No allocation. */
export function httpHeadKind(d: Uint8Array, offset: number, length: number): 'request' | 'response' | null {
  const end = offset + length;
  if (length < 5) return null;
  const c = d[offset];
  if (c === 0x48 /* H */ && startsWith(d, offset, end, HTTP_SLASH)) return 'response';
  if (c < 0x41 || c > 0x54) return null; // A…T: the first letters of the methods
  for (let i = 0; i < METHOD_BYTES.length; i++) if (startsWith(d, offset, end, METHOD_BYTES[i])) return 'request';
  return null;
}

/** Node's native Latin-1 decoder (Buffer#latin1Slice works on any Uint8Array, Buffer or not). */
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice(this: Uint8Array, start: number, end: number): string }).latin1Slice;

/**
 * Bytes → string, one char per byte, made in one native call: a flat string of exactly its
 * length. (Built with `+=` one char at a time, every step allocated a string and one of 13
 * or more chars ended as a chain of cons strings that V8 flattens again when it is read.)
 */
function latin1(d: Uint8Array, start: number, end: number): string {
  if (end > d.length) end = d.length; // a caller's length past the bytes: read what is there
  return end > start ? latin1Slice.call(d, start, end) : '';
}

/**
 * The reused HTTP head of a decoder. Nothing is turned into strings while decoding: the
 * first-line pieces and the header lines are kept as offsets and become strings when first
 * read, from the packet bytes — so, like every decoded field, they must be read before the
 * next decode(). `status` is a number parsed on the spot.
 */
class LazyHttpHead implements HttpHead {
  present = false;
  kind: 'request' | 'response' = 'request';
  status = -1;
  complete = false;
  headLength = 0;
  private data: Uint8Array | null = null;
  /** First-line pieces as [start, end) offsets; strings made (and cached) on first read. */
  private aStart = 0;
  private aEnd = 0;
  private bStart = 0;
  private bEnd = 0;
  private cStart = 0;
  private cEnd = 0;
  private cache: [string | null, string | null, string | null] = [null, null, null];
  private headersStart = 0;
  private headersEnd = 0;
  private parsed: Array<[string, string]> | null = [];

  private piece(i: 0 | 1 | 2): string {
    let v = this.cache[i];
    if (v === null) {
      const d = this.data;
      v = d === null ? '' : i === 0 ? latin1(d, this.aStart, this.aEnd) : i === 1 ? latin1(d, this.bStart, this.bEnd) : latin1(d, this.cStart, this.cEnd);
      this.cache[i] = v;
    }
    return v;
  }

  get method(): string { return this.kind === 'request' ? this.piece(0) : ''; }
  set method(v: string) { this.cache[0] = v; }
  get target(): string { return this.kind === 'request' ? this.piece(1) : ''; }
  set target(v: string) { this.cache[1] = v; }
  get version(): string { return this.kind === 'request' ? this.piece(2) : this.piece(0); }
  set version(v: string) { if (this.kind === 'request') this.cache[2] = v; else this.cache[0] = v; }
  get reason(): string { return this.kind === 'response' ? this.piece(2) : ''; }
  set reason(v: string) { this.cache[2] = v; }

  get headers(): Array<[string, string]> {
    if (this.parsed === null) this.parsed = this.data === null ? [] : parseHeaderLines(this.data, this.headersStart, this.headersEnd);
    return this.parsed;
  }

  set headers(value: Array<[string, string]>) {
    this.parsed = value;
  }

  /** Points the head at the bytes of this packet: the three first-line pieces, the header lines. */
  setRegions(data: Uint8Array, a0: number, a1: number, b0: number, b1: number, c0: number, c1: number, h0: number, h1: number): void {
    this.data = data;
    this.aStart = a0; this.aEnd = a1;
    this.bStart = b0; this.bEnd = b1;
    this.cStart = c0; this.cEnd = c1;
    this.cache[0] = null; this.cache[1] = null; this.cache[2] = null;
    this.headersStart = h0;
    this.headersEnd = h1;
    this.parsed = null;
  }

  toJSON(): HttpHead {
    return { present: this.present, kind: this.kind, method: this.method, target: this.target, version: this.version, status: this.status, reason: this.reason, headers: this.headers, complete: this.complete, headLength: this.headLength };
  }
}

export function newHttpHead(): HttpHead {
  return new LazyHttpHead();
}

export function resetHttpHead(h: HttpHead): void {
  h.present = false;
  h.status = -1;
  h.complete = false;
  h.headLength = 0;
  if (h instanceof LazyHttpHead) {
    h.setRegions(EMPTY, 0, 0, 0, 0, 0, 0, 0, 0);
    h.kind = 'request';
    return;
  }
  h.kind = 'request';
  h.method = '';
  h.target = '';
  h.version = '';
  h.reason = '';
  h.headers = [];
}

const EMPTY = new Uint8Array(0);

/** Index of the end of the line starting at `p` (the CR or LF), or -1 when no line end before `end`. */
function lineEnd(d: Uint8Array, p: number, end: number): number {
  for (let i = p; i < end; i++) if (d[i] === LF) return i > p && d[i - 1] === CR ? i - 1 : i;
  return -1;
}

function nextLine(d: Uint8Array, eol: number): number {
  return eol + (d[eol] === CR ? 2 : 1);
}

/** "Name: value" lines in [p, end) (complete lines only), values trimmed. */
function parseHeaderLines(d: Uint8Array, p: number, end: number): Array<[string, string]> {
  const headers: Array<[string, string]> = [];
  for (;;) {
    const eol = lineEnd(d, p, end);
    if (eol < 0 || eol === p) break;
    let colon = -1;
    for (let i = p; i < eol; i++) if (d[i] === COLON) { colon = i; break; }
    if (colon > p) {
      let vs = colon + 1;
      let ve = eol;
      while (vs < ve && (d[vs] === SP || d[vs] === 0x09)) vs++;
      while (ve > vs && (d[ve - 1] === SP || d[ve - 1] === 0x09)) ve--;
      headers.push([latin1(d, p, colon), latin1(d, vs, ve)]);
    }
    p = nextLine(d, eol);
  }
  return headers;
}

/**
 * Parses the HTTP/1.x head at `offset` (up to `length` bytes). Returns `out` (or a new head)
 * with `present: false` when the bytes do not begin a head. With a head made by
 * newHttpHead() nothing is allocated: strings are made when the fields are read.
 */
export function parseHttpHead(d: Uint8Array, offset: number, length: number, out: HttpHead = newHttpHead()): HttpHead {
  resetHttpHead(out);
  const kind = httpHeadKind(d, offset, length);
  if (kind === null) return out;
  const end = offset + Math.min(length, HTTP_MAX_HEAD_BYTES);
  out.present = true;
  out.kind = kind;
  let eol = lineEnd(d, offset, end);
  const firstEnd = eol < 0 ? end : eol;
  let a = offset;
  while (a < firstEnd && d[a] !== SP) a++;
  let b = a < firstEnd ? a + 1 : firstEnd;
  while (b < firstEnd && d[b] !== SP) b++;
  // Pieces: request "METHOD TARGET VERSION", response "VERSION STATUS REASON".
  const p1 = a < firstEnd ? a + 1 : firstEnd;
  const p2 = b < firstEnd ? b + 1 : firstEnd;
  if (kind === 'response') {
    let status = 0;
    let digits = 0;
    for (let i = p1; i < b; i++) {
      const c = d[i] - 0x30;
      if (c < 0 || c > 9) { digits = -1; break; }
      status = status * 10 + c;
      digits++;
    }
    out.status = digits > 0 ? status : -1;
  }
  const lazy = out instanceof LazyHttpHead ? out : null;
  if (lazy !== null) {
    lazy.setRegions(d, offset, a, p1, b, p2, firstEnd, firstEnd, firstEnd);
  } else if (kind === 'request') {
    out.method = latin1(d, offset, a);
    out.target = latin1(d, p1, b);
    out.version = latin1(d, p2, firstEnd);
  } else {
    out.version = latin1(d, offset, a);
    out.reason = latin1(d, p2, firstEnd);
  }
  if (eol < 0) return out;
  const headersStart = nextLine(d, eol);
  let p = headersStart;
  let headersEnd = p;
  for (;;) {
    eol = lineEnd(d, p, end);
    if (eol < 0) break;
    if (eol === p) {
      out.complete = true;
      out.headLength = nextLine(d, eol) - offset;
      break;
    }
    p = nextLine(d, eol);
    headersEnd = p;
  }
  if (lazy !== null) lazy.setRegions(d, offset, a, p1, b, p2, firstEnd, headersStart, headersEnd);
  else out.headers = parseHeaderLines(d, headersStart, headersEnd);
  return out;
}

/** The value of the first header called `name` (case-insensitive), or null. */
export function httpHeader(head: HttpHead, name: string): string | null {
  const lower = name.toLowerCase();
  for (const [n, v] of head.headers) if (n.toLowerCase() === lower) return v;
  return null;
}
