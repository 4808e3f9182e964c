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

function latin1(d: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(d[i]);
  return s;
}

export function newHttpHead(): HttpHead {
  return { present: false, kind: 'request', method: '', target: '', version: '', status: -1, reason: '', headers: [], complete: false, headLength: 0 };
}

export function resetHttpHead(h: HttpHead): void {
  h.present = false;
  h.kind = 'request';
  h.method = '';
  h.target = '';
  h.version = '';
  h.status = -1;
  h.reason = '';
  if (h.headers.length) h.headers = [];
  h.complete = false;
  h.headLength = 0;
}

/** Index of the end of the line starting at `p` (the CR or LF), or -1 when no line end before `end`. */
function lineEnd(d: Uint8Array, p: number, end: number): number {
  for (let i = p; i < end; i++) if (d[i] === LF) return i > p && d[i - 1] === CR ? i - 1 : i;
  return -1;
}

/**
 * Parses the HTTP/1.x head at `offset` (up to `length` bytes). Returns `out` (or a new head)
 * with `present: false` when the bytes do not begin a head. Allocates strings: call it only
 * when `httpHeadKind` said yes (the decoder does).
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
  const sp1 = d.indexOf(SP, offset);
  const a = sp1 >= 0 && sp1 < firstEnd ? sp1 : firstEnd;
  const sp2Raw = a < firstEnd ? d.indexOf(SP, a + 1) : -1;
  const b = sp2Raw >= 0 && sp2Raw < firstEnd ? sp2Raw : firstEnd;
  if (kind === 'request') {
    out.method = latin1(d, offset, a);
    out.target = a < firstEnd ? latin1(d, a + 1, b) : '';
    out.version = b < firstEnd ? latin1(d, b + 1, firstEnd) : '';
  } else {
    out.version = latin1(d, offset, a);
    const status = a < firstEnd ? Number.parseInt(latin1(d, a + 1, b), 10) : NaN;
    out.status = Number.isFinite(status) ? status : -1;
    out.reason = b < firstEnd ? latin1(d, b + 1, firstEnd) : '';
  }
  if (eol < 0) return out;
  let p = eol + (d[eol] === CR ? 2 : 1);
  const headers: Array<[string, string]> = [];
  for (;;) {
    eol = lineEnd(d, p, end);
    if (eol < 0) break;
    if (eol === p) {
      out.complete = true;
      out.headLength = eol + (d[eol] === CR ? 2 : 1) - offset;
      break;
    }
    let colon = -1;
    for (let i = p; i < eol; i++) if (d[i] === COLON) { colon = i; break; }
    if (colon > p) {
      let vs = colon + 1;
      let ve = eol;
      while (vs < ve && (d[vs] === SP || d[vs] === 0x09)) vs++;
      while (ve > vs && (d[ve - 1] === SP || d[ve - 1] === 0x09)) ve--;
      headers.push([latin1(d, p, colon), latin1(d, vs, ve)]);
    }
    p = eol + (d[eol] === CR ? 2 : 1);
  }
  out.headers = headers;
  return out;
}

/** The value of the first header called `name` (case-insensitive), or null. */
export function httpHeader(head: HttpHead, name: string): string | null {
  const lower = name.toLowerCase();
  for (const [n, v] of head.headers) if (n.toLowerCase() === lower) return v;
  return null;
}
