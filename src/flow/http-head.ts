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

/** Header names we keep, lower-case bytes. */
const bytesOf = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const HOST = bytesOf('host');
const XFF = bytesOf('x-forwarded-for');
const TRACE = bytesOf('x-amzn-trace-id');
const CONTENT_LENGTH = bytesOf('content-length');
const TRANSFER_ENCODING = bytesOf('transfer-encoding');

/** Node's native Latin-1 decoder (Buffer#latin1Slice works on any Uint8Array): one flat string. */
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice(this: Uint8Array, start: number, end: number): string }).latin1Slice;

/** A flat Latin-1 string of data[start, end). */
function text(data: Uint8Array, start: number, end: number): string {
  return end > start ? latin1Slice.call(data, start, end) : '';
}

/** Methods, versions and reasons repeat in every message: one shared string each, found by length. */
const COMMON_BY_LENGTH: Array<Array<{ s: string; bytes: Uint8Array }>> = [];
for (const s of ['GET', 'POST', 'PUT', 'HEAD', 'DELETE', 'OPTIONS', 'PATCH', 'HTTP/1.1', 'HTTP/1.0', 'OK', 'Not Found', 'Created', 'No Content', 'Not Modified', 'Found', 'Moved Permanently', 'Bad Request', 'Internal Server Error', 'Bad Gateway', 'Service Unavailable', 'Gateway Timeout']) {
  (COMMON_BY_LENGTH[s.length] ??= []).push({ s, bytes: bytesOf(s) });
}

function commonText(data: Uint8Array, start: number, end: number): string {
  const candidates = COMMON_BY_LENGTH[end - start];
  if (candidates !== undefined) {
    for (const c of candidates) {
      const b = c.bytes;
      let i = 0;
      while (i < b.length && data[start + i] === b[i]) i++;
      if (i === b.length) return c.s;
    }
  }
  return text(data, start, end);
}

/** data[start, start + name.length) is `name`, ASCII case-insensitively (`name` is lower-case). */
function nameIs(data: Uint8Array, start: number, name: Uint8Array): boolean {
  for (let i = 0; i < name.length; i++) {
    let c = data[start + i];
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    if (c !== name[i]) return false;
  }
  return true;
}

/** `name` followed by a colon starts the line at `p` (in bounds). */
function headerAt(data: Uint8Array, p: number, end: number, name: Uint8Array): boolean {
  return p + name.length < end && data[p + name.length] === COLON && nameIs(data, p, name);
}

/** Header codes of the names we keep (0: another header). */
const H_OTHER = 0;
const H_HOST = 1;
const H_XFF = 2;
const H_TRACE = 3;
const H_CL = 4;
const H_TE = 5;

/**
 * Which kept header the line at `p` is, from its first letter and the colon right after the
 * name: no scan for the colon, and most lines (User-Agent, Accept…) are told apart by one byte.
 */
function headerCode(data: Uint8Array, p: number, end: number): number {
  switch (data[p] | 0x20) {
    case 0x68: /* h */ return headerAt(data, p, end, HOST) ? H_HOST : H_OTHER;
    case 0x78: /* x */ return headerAt(data, p, end, XFF) ? H_XFF : headerAt(data, p, end, TRACE) ? H_TRACE : H_OTHER;
    case 0x63: /* c */ return headerAt(data, p, end, CONTENT_LENGTH) ? H_CL : H_OTHER;
    case 0x74: /* t */ return headerAt(data, p, end, TRANSFER_ENCODING) ? H_TE : H_OTHER;
    default: return H_OTHER;
  }
}

/** Length of the names by code (where the value starts after the colon). */
const NAME_LENGTH = [0, HOST.length, XFF.length, TRACE.length, CONTENT_LENGTH.length, TRANSFER_ENCODING.length];

/**
 * Where the last `readHeadFields` call found the head's blank line: the index just past it,
 * or -1 (no blank line in the bytes given, or the first line was not a head's).
 */
export let lastHeadEnd = -1;

export function newHeadFields(): HeadFields {
  return {
    kind: 'request', method: '', target: '', version: '', status: -1, reason: '',
    host: null, xForwardedFor: null, traceId: null, contentLength: -1, chunked: false,
  };
}

/** Copies every field of `from` into `to` (heads live in reused objects). */
export function copyHeadFields(from: HeadFields, to: HeadFields): void {
  to.kind = from.kind; to.method = from.method; to.target = from.target; to.version = from.version; to.status = from.status;
  to.reason = from.reason; to.host = from.host; to.xForwardedFor = from.xForwardedFor; to.traceId = from.traceId;
  to.contentLength = from.contentLength; to.chunked = from.chunked;
}

/**
 * Reads a head in data[offset, offset+length), up to its blank line (`lastHeadEnd` tells
 * where that was, -1 when the bytes given hold no blank line: the head is incomplete and
 * the fields read are not to be used), into `out`. Returns null when the first line is not
 * a request line or a status line. `texts` false: only what frames the body, the method and
 * the target are read — no string for the version, reason, Host, X-Forwarded-For or
 * X-Amzn-Trace-Id (a huge capture under --keep anomalies keeps none of them).
 */
export function readHeadFields(data: Uint8Array, offset: number, length: number, kind: 'request' | 'response', out: HeadFields = newHeadFields(), texts = true): HeadFields | null {
  const end = offset + length;
  lastHeadEnd = -1;
  // The first line, with its first two spaces, in one pass.
  let sp1 = -1;
  let sp2 = -1;
  let eol = offset;
  for (; eol < end; eol++) {
    const c = data[eol];
    if (c === LF) break;
    if (c === SP && sp2 < 0) { if (sp1 < 0) sp1 = eol; else sp2 = eol; }
  }
  const firstEnd = eol > offset && data[eol - 1] === CR ? eol - 1 : eol;
  // A space in the CR of the line's end does not count (there is none: CR is not SP).
  if (sp1 < 0 || sp1 >= firstEnd) return null;
  if (sp2 >= firstEnd) sp2 = -1;
  const f = out;
  f.kind = kind; f.method = ''; f.target = ''; f.version = ''; f.status = -1; f.reason = '';
  f.host = null; f.xForwardedFor = null; f.traceId = null; f.contentLength = -1; f.chunked = false;
  if (kind === 'request') {
    if (sp2 < 0) return null;
    f.method = commonText(data, offset, sp1);
    f.target = text(data, sp1 + 1, sp2);
    if (texts) f.version = commonText(data, sp2 + 1, firstEnd);
  } else {
    if (texts) f.version = commonText(data, offset, sp1);
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
    if (texts) f.reason = sp2 < 0 ? '' : commonText(data, sp2 + 1, firstEnd);
  }
  let p = eol + 1;
  while (p < end) {
    // The blank line (CRLF or a bare LF) ends the head.
    const c0 = data[p];
    if (c0 === LF) { lastHeadEnd = p + 1; break; }
    if (c0 === CR && p + 1 < end && data[p + 1] === LF) { lastHeadEnd = p + 2; break; }
    let h = headerCode(data, p, end);
    if (!texts && h < H_CL) h = H_OTHER;
    // Only the line feed is looked for in the rest of the line.
    let i = h === H_OTHER ? p : p + NAME_LENGTH[h] + 1;
    while (i < end && data[i] !== LF) i++;
    if (i === end) break; // no line feed: an incomplete head (or a complete one without its blank line)
    eol = i;
    if (h !== H_OTHER) {
      let vs = p + NAME_LENGTH[h] + 1;
      let ve = data[eol - 1] === CR ? eol - 1 : eol;
      while (vs < ve && (data[vs] === SP || data[vs] === HTAB)) vs++;
      while (ve > vs && (data[ve - 1] === SP || data[ve - 1] === HTAB)) ve--;
      switch (h) {
        case H_HOST: if (f.host === null) f.host = text(data, vs, ve); break;
        case H_XFF: f.xForwardedFor = f.xForwardedFor === null ? text(data, vs, ve) : `${f.xForwardedFor}, ${text(data, vs, ve)}`; break;
        case H_TRACE: if (f.traceId === null) f.traceId = text(data, vs, ve); break;
        case H_CL: f.contentLength = parseLength(data, vs, ve); break;
        case H_TE: f.chunked = lastCodingIsChunked(data, vs, ve); break;
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

const CHUNKED = bytesOf('chunked');

/** True when the last coding of a Transfer-Encoding value is `chunked` (RFC 9112 §6.1). */
function lastCodingIsChunked(data: Uint8Array, start: number, end: number): boolean {
  let s = start;
  for (let i = end - 1; i >= start; i--) if (data[i] === 0x2c /* , */) { s = i + 1; break; }
  while (s < end && (data[s] === SP || data[s] === HTAB)) s++;
  return end - s === CHUNKED.length && nameIs(data, s, CHUNKED);
}

/*
 * A head's layout: where readHeadFields would find what it reads, as numbers. The reading
 * worker (read-worker.ts) finds it for every packet whose payload starts with a whole head, so
 * the analysing thread makes the head's fields from it (headFromLayout) without scanning the
 * head again — a share of the work moved to the other core. Positions are relative to the
 * head's first byte. Only complete heads that readHeadFields reads (not null), with at most
 * MAX_LAID_XFF X-Forwarded-For lines, get one: anything else is read again by readHeadFields.
 */
const HL_KIND = 0; // 1 request, 2 response
const HL_END = 1; // just past the blank line
const HL_SP1 = 2;
const HL_SP2 = 3; // -1: none in the first line
const HL_FIRST_END = 4;
const HL_STATUS = 5;
const HL_LENGTH = 6;
const HL_CHUNKED = 7;
const HL_HOST = 8; // start, end (start -1: none)
const HL_TRACE = 10;
const HL_XFF_COUNT = 12;
const HL_XFF = 13; // start, end pairs
const MAX_LAID_XFF = 4;
/** Numbers per layout. */
export const HEAD_LAYOUT_SLOTS = HL_XFF + 2 * MAX_LAID_XFF;

/**
 * Finds the layout of the head at data[offset, offset+length) of `kind` into
 * `out[base, base + HEAD_LAYOUT_SLOTS)`. False when there is none to give (see above).
 */
export function layHead(data: Uint8Array, offset: number, length: number, kind: 'request' | 'response', out: Float64Array, base: number): boolean {
  const end = offset + length;
  let sp1 = -1;
  let sp2 = -1;
  let eol = offset;
  for (; eol < end; eol++) {
    const c = data[eol];
    if (c === LF) break;
    if (c === SP && sp2 < 0) { if (sp1 < 0) sp1 = eol; else sp2 = eol; }
  }
  if (eol === end) return false;
  const firstEnd = eol > offset && data[eol - 1] === CR ? eol - 1 : eol;
  if (sp1 < 0 || sp1 >= firstEnd) return false;
  if (sp2 >= firstEnd) sp2 = -1;
  let status = -1;
  if (kind === 'request') {
    if (sp2 < 0) return false;
  } else {
    const codeEnd = sp2 < 0 ? firstEnd : sp2;
    status = 0;
    let digits = 0;
    for (let i = sp1 + 1; i < codeEnd; i++) {
      const c = data[i];
      if (c < 0x30 || c > 0x39 || digits >= 3) return false;
      status = status * 10 + (c - 0x30);
      digits++;
    }
    if (digits !== 3) return false;
  }
  out[base + HL_KIND] = kind === 'request' ? 1 : 2;
  out[base + HL_SP1] = sp1 - offset;
  out[base + HL_SP2] = sp2 < 0 ? -1 : sp2 - offset;
  out[base + HL_FIRST_END] = firstEnd - offset;
  out[base + HL_STATUS] = status;
  out[base + HL_LENGTH] = -1;
  out[base + HL_CHUNKED] = 0;
  out[base + HL_HOST] = -1;
  out[base + HL_TRACE] = -1;
  let xff = 0;
  let p = eol + 1;
  while (p < end) {
    const c0 = data[p];
    if (c0 === LF) { out[base + HL_END] = p + 1 - offset; out[base + HL_XFF_COUNT] = xff; return true; }
    if (c0 === CR && p + 1 < end && data[p + 1] === LF) { out[base + HL_END] = p + 2 - offset; out[base + HL_XFF_COUNT] = xff; return true; }
    const h = headerCode(data, p, end);
    let i = h === H_OTHER ? p : p + NAME_LENGTH[h] + 1;
    while (i < end && data[i] !== LF) i++;
    if (i === end) return false; // incomplete
    eol = i;
    if (h !== H_OTHER) {
      let vs = p + NAME_LENGTH[h] + 1;
      let ve = data[eol - 1] === CR ? eol - 1 : eol;
      while (vs < ve && (data[vs] === SP || data[vs] === HTAB)) vs++;
      while (ve > vs && (data[ve - 1] === SP || data[ve - 1] === HTAB)) ve--;
      switch (h) {
        case H_HOST: if (out[base + HL_HOST] < 0) { out[base + HL_HOST] = vs - offset; out[base + HL_HOST + 1] = ve - offset; } break;
        case H_XFF:
          if (xff === MAX_LAID_XFF) return false;
          out[base + HL_XFF + 2 * xff] = vs - offset; out[base + HL_XFF + 2 * xff + 1] = ve - offset;
          xff++;
          break;
        case H_TRACE: if (out[base + HL_TRACE] < 0) { out[base + HL_TRACE] = vs - offset; out[base + HL_TRACE + 1] = ve - offset; } break;
        case H_CL: out[base + HL_LENGTH] = parseLength(data, vs, ve); break;
        case H_TE: out[base + HL_CHUNKED] = lastCodingIsChunked(data, vs, ve) ? 1 : 0; break;
      }
    }
    p = eol + 1;
  }
  return false; // no blank line
}

/**
 * What readHeadFields(data, offset, …, kind, out, texts) gives for a head whose layout
 * `layout[base…]` layHead found at data[offset…] (the same bytes): the same fields in `out`,
 * the same `lastHeadEnd`; null when the layout is of another kind.
 */
export function headFromLayout(data: Uint8Array, offset: number, kind: 'request' | 'response', layout: Float64Array, base: number, out: HeadFields, texts: boolean): HeadFields | null {
  lastHeadEnd = -1;
  if (layout[base + HL_KIND] !== (kind === 'request' ? 1 : 2)) return null;
  const sp1 = offset + layout[base + HL_SP1];
  const sp2r = layout[base + HL_SP2];
  const sp2 = sp2r < 0 ? -1 : offset + sp2r;
  const firstEnd = offset + layout[base + HL_FIRST_END];
  const f = out;
  f.kind = kind; f.method = ''; f.target = ''; f.version = ''; f.status = -1; f.reason = '';
  f.host = null; f.xForwardedFor = null; f.traceId = null;
  if (kind === 'request') {
    f.method = commonText(data, offset, sp1);
    f.target = text(data, sp1 + 1, sp2);
    if (texts) f.version = commonText(data, sp2 + 1, firstEnd);
  } else {
    if (texts) f.version = commonText(data, offset, sp1);
    f.status = layout[base + HL_STATUS];
    if (texts) f.reason = sp2 < 0 ? '' : commonText(data, sp2 + 1, firstEnd);
  }
  if (texts) {
    if (layout[base + HL_HOST] >= 0) f.host = text(data, offset + layout[base + HL_HOST], offset + layout[base + HL_HOST + 1]);
    if (layout[base + HL_TRACE] >= 0) f.traceId = text(data, offset + layout[base + HL_TRACE], offset + layout[base + HL_TRACE + 1]);
    const n = layout[base + HL_XFF_COUNT];
    for (let i = 0; i < n; i++) {
      const v = text(data, offset + layout[base + HL_XFF + 2 * i], offset + layout[base + HL_XFF + 2 * i + 1]);
      f.xForwardedFor = f.xForwardedFor === null ? v : `${f.xForwardedFor}, ${v}`;
    }
  }
  f.contentLength = layout[base + HL_LENGTH];
  f.chunked = layout[base + HL_CHUNKED] === 1;
  lastHeadEnd = offset + layout[base + HL_END];
  return f;
}

/**
 * The layout of the packet being analysed, when the reading worker found one (set by the
 * analyzer before the packet's bytes are fed; `offset` -1: none). scanHead uses it only for
 * a head starting at exactly these bytes.
 */
export const headHint: { data: Uint8Array; offset: number; length: number; layout: Float64Array; base: number } = {
  data: new Uint8Array(0), offset: -1, length: 0, layout: new Float64Array(0), base: 0,
};
