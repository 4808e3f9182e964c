/**
 * The few fields flow keeps from an HTTP/1.x head (RFC 9112 §3–§5): the request line or
 * status line, Host, X-Forwarded-For, X-Amzn-Trace-Id, and what frames the body
 * (Content-Length, Transfer-Encoding). decode's parseHttpHead returns every header as
 * strings, for printing; on the analysis hot path — a head per message, millions of them —
 * flow reads the bytes itself and makes strings only of the values it keeps, each one flat
 * (one allocation, not a string built char by char), so a connection's memory stays small.
 */

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;

export interface HeadFields {
  kind: 'request' | 'response';
  method: string;
  target: string;
  version: string;
  status: number;
  reason: string;
  host: string | null;
  xForwardedFor: string | null;
  traceId: string | null;
  /** Content-Length when present and valid; -1 otherwise. */
  contentLength: number;
  /** The last transfer coding is `chunked`. */
  chunked: boolean;
}

/** Header names we keep, lower-case bytes; index = field code. */
const NAMES = ['host', 'x-forwarded-for', 'x-amzn-trace-id', 'content-length', 'transfer-encoding'].map((n) => Uint8Array.from(n, (c) => c.charCodeAt(0)));
const H_HOST = 0;
const H_XFF = 1;
const H_TRACE = 2;
const H_CL = 3;
const H_TE = 4;

/** Node's native Latin-1 decoder (Buffer#latin1Slice works on any Uint8Array): one flat string. */
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice(this: Uint8Array, start: number, end: number): string }).latin1Slice;

/** A flat Latin-1 string of data[start, end). */
function text(data: Uint8Array, start: number, end: number): string {
  return end > start ? latin1Slice.call(data, start, end) : '';
}

/** Methods, versions and reasons repeat in every message: one shared string each. */
const COMMON = ['GET', 'POST', 'PUT', 'HEAD', 'DELETE', 'OPTIONS', 'PATCH', 'HTTP/1.1', 'HTTP/1.0', 'OK', 'Not Found', 'Created', 'No Content', 'Not Modified', 'Found', 'Moved Permanently', 'Bad Request', 'Internal Server Error', 'Bad Gateway', 'Service Unavailable', 'Gateway Timeout']
  .map((s) => ({ s, bytes: Uint8Array.from(s, (c) => c.charCodeAt(0)) }));

function commonText(data: Uint8Array, start: number, end: number): string {
  const n = end - start;
  for (const c of COMMON) {
    if (c.bytes.length !== n) continue;
    let same = true;
    for (let i = 0; i < n; i++) if (data[start + i] !== c.bytes[i]) { same = false; break; }
    if (same) return c.s;
  }
  return text(data, start, end);
}

function nameIs(data: Uint8Array, start: number, end: number, name: Uint8Array): boolean {
  if (end - start !== name.length) return false;
  for (let i = 0; i < name.length; i++) {
    let c = data[start + i];
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    if (c !== name[i]) return false;
  }
  return true;
}

function lineEnd(data: Uint8Array, p: number, end: number): number {
  for (let i = p; i < end; i++) if (data[i] === LF) return i;
  return end;
}

/**
 * Where the last `readHeadFields` call found the head's blank line: the index just past it,
 * or -1 (no blank line in the bytes given, or the first line was not a head's).
 */
export let lastHeadEnd = -1;

/**
 * Reads a head in data[offset, offset+length), up to its blank line (`lastHeadEnd` tells
 * where that was, -1 when the bytes given hold no blank line: the head is incomplete and
 * the fields read are not to be used). Returns null when the first line is not a request
 * line or a status line.
 */
export function readHeadFields(data: Uint8Array, offset: number, length: number, kind: 'request' | 'response'): HeadFields | null {
  const end = offset + length;
  lastHeadEnd = -1;
  let eol = lineEnd(data, offset, end);
  const firstEnd = eol > offset && data[eol - 1] === CR ? eol - 1 : eol;
  let sp1 = -1;
  let sp2 = -1;
  for (let i = offset; i < firstEnd; i++) {
    if (data[i] === SP) { if (sp1 < 0) sp1 = i; else { sp2 = i; break; } }
  }
  if (sp1 < 0) return null;
  const f: HeadFields = {
    kind, method: '', target: '', version: '', status: -1, reason: '',
    host: null, xForwardedFor: null, traceId: null, contentLength: -1, chunked: false,
  };
  if (kind === 'request') {
    if (sp2 < 0) return null;
    f.method = commonText(data, offset, sp1);
    f.target = text(data, sp1 + 1, sp2);
    f.version = commonText(data, sp2 + 1, firstEnd);
  } else {
    f.version = commonText(data, offset, sp1);
    const codeEnd = sp2 < 0 ? firstEnd : sp2;
    let status = 0;
    let digits = 0;
    for (let i = sp1 + 1; i < codeEnd; i++) {
      const c = data[i];
      if (c < 0x30 || c > 0x39 || digits >= 3) return null;
      status = status * 10 + (c - 0x30);
      digits++;
    }
    if (digits !== 3) return null;
    f.status = status;
    f.reason = sp2 < 0 ? '' : commonText(data, sp2 + 1, firstEnd);
  }
  let p = eol + 1;
  while (p < end) {
    // One pass over the line: its first colon, then its line feed.
    let colon = -1;
    eol = end;
    for (let i = p; i < end; i++) {
      const c = data[i];
      if (c === LF) { eol = i; break; }
      if (c === COLON && colon < 0) colon = i;
    }
    if (eol === end) break; // no line feed: an incomplete head (or a complete one without its blank line)
    const lineStop = eol > p && data[eol - 1] === CR ? eol - 1 : eol;
    if (lineStop === p) { lastHeadEnd = eol + 1; break; } // the blank line
    if (colon > p) {
      const n = colon - p;
      // Only names of the lengths we look for are compared at all.
      for (let h = 0; h < NAMES.length; h++) {
        if (NAMES[h].length !== n || !nameIs(data, p, colon, NAMES[h])) continue;
        let vs = colon + 1;
        let ve = lineStop;
        while (vs < ve && (data[vs] === SP || data[vs] === HTAB)) vs++;
        while (ve > vs && (data[ve - 1] === SP || data[ve - 1] === HTAB)) ve--;
        switch (h) {
          case H_HOST: if (f.host === null) f.host = text(data, vs, ve); break;
          case H_XFF: f.xForwardedFor = f.xForwardedFor === null ? text(data, vs, ve) : `${f.xForwardedFor}, ${text(data, vs, ve)}`; break;
          case H_TRACE: if (f.traceId === null) f.traceId = text(data, vs, ve); break;
          case H_CL: f.contentLength = parseLength(data, vs, ve); break;
          case H_TE: f.chunked = lastCodingIsChunked(data, vs, ve); break;
        }
        break;
      }
    }
    p = eol + 1;
  }
  return f;
}

/** Content-Length digits (RFC 9110 §8.6); -1 when not a plain decimal. */
function parseLength(data: Uint8Array, start: number, end: number): number {
  if (end <= start || end - start > 15) return -1;
  let v = 0;
  for (let i = start; i < end; i++) {
    const c = data[i];
    if (c < 0x30 || c > 0x39) return -1;
    v = v * 10 + (c - 0x30);
  }
  return v;
}

const CHUNKED = Uint8Array.from('chunked', (c) => c.charCodeAt(0));

/** True when the last coding of a Transfer-Encoding value is `chunked` (RFC 9112 §6.1). */
function lastCodingIsChunked(data: Uint8Array, start: number, end: number): boolean {
  let s = start;
  for (let i = end - 1; i >= start; i--) if (data[i] === 0x2c /* , */) { s = i + 1; break; }
  while (s < end && (data[s] === SP || data[s] === HTAB)) s++;
  return nameIs(data, s, end, CHUNKED);
}
