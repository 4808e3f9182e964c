/**
 * flow's byte-level head reader (src/flow/http-head.ts) against a plain model written with
 * strings and regular expressions: for random heads — kept and other headers in any case,
 * spaces and tabs around values, CRLF or bare LF, repeated headers, heads cut anywhere —
 * the same fields and the same end of head.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { HEAD_LAYOUT_SLOTS, headFromLayout, lastHeadEnd, layHead, newHeadFields, readHeadFields } from '../../src/flow/http-head.js';

interface Model { end: number; fields: Record<string, unknown> | null }

/** The reference: what RFC 9112 says a reader of these fields sees. */
function model(head: string, kind: 'request' | 'response'): Model {
  const firstLf = head.indexOf('\n');
  const first = (firstLf < 0 ? head : head.slice(0, firstLf)).replace(/\r$/, '');
  const parts = first.split(' ');
  if (parts.length < 2) return { end: -1, fields: null };
  const f: Record<string, unknown> = { host: null, xForwardedFor: null, traceId: null, contentLength: -1, chunked: false };
  if (kind === 'request') {
    if (parts.length < 3) return { end: -1, fields: null };
    Object.assign(f, { method: parts[0], target: parts[1], version: parts.slice(2).join(' '), status: -1, reason: '' });
  } else {
    if (!/^\d{3}$/.test(parts[1])) return { end: -1, fields: null };
    Object.assign(f, { version: parts[0], status: Number(parts[1]), reason: parts.slice(2).join(' '), method: '', target: '' });
  }
  let end = -1;
  let p = firstLf < 0 ? head.length : firstLf + 1;
  while (p < head.length) {
    const lf = head.indexOf('\n', p);
    if (lf < 0) break;
    const line = head.slice(p, lf).replace(/\r$/, '');
    if (line === '') { end = lf + 1; break; }
    const colon = line.indexOf(':');
    if (colon > 0) {
      const name = line.slice(0, colon).replace(/[A-Z]/g, (c) => c.toLowerCase());
      const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
      if (name === 'host' && f.host === null) f.host = value;
      if (name === 'x-forwarded-for') f.xForwardedFor = f.xForwardedFor === null ? value : `${f.xForwardedFor as string}, ${value}`;
      if (name === 'x-amzn-trace-id' && f.traceId === null) f.traceId = value;
      if (name === 'content-length') f.contentLength = /^\d{1,15}$/.test(value) ? Number(value) : -1;
      if (name === 'transfer-encoding') f.chunked = /^[ \t]*chunked$/i.test(value.split(',').pop()!);
    }
    p = lf + 1;
  }
  return { end, fields: f };
}

const anyCase = (s: string): fc.Arbitrary<string> => fc.array(fc.boolean(), { minLength: s.length, maxLength: s.length })
  .map((up) => [...s].map((c, i) => (up[i] ? c.toUpperCase() : c)).join(''));
const name = fc.oneof(
  ...['host', 'x-forwarded-for', 'x-amzn-trace-id', 'content-length', 'transfer-encoding', 'hostname', 'x-forwarded-fox', 'content-type', 'te', 'connection', 'x'].map(anyCase),
  fc.stringMatching(/^[a-zA-Z-]{0,20}$/),
);
const value = fc.oneof(
  fc.stringMatching(/^[ \t]{0,2}[a-zA-Z0-9.,;=/ -]{0,24}[ \t]{0,2}$/),
  fc.constantFrom('12', ' 007 ', '1x', '', 'chunked', 'gzip, chunked', 'chunked, gzip', ' Chunked ', '99999999999999999'),
);
const eol = fc.constantFrom('\r\n', '\n');
const headArb = fc.record({
  first: fc.oneof(fc.constantFrom('GET /a HTTP/1.1', 'HTTP/1.1 200 OK', 'HTTP/1.0 404 Not Found', 'POST /x?y=1 HTTP/1.0', 'HTTP/1.1 20 X', 'GET /', 'HTTP/1.1 204', 'OPTIONS * HTTP/1.1'), fc.stringMatching(/^[A-Z/0-9. ]{0,20}$/)),
  lines: fc.array(fc.record({ name, colon: fc.constantFrom(':', ':', ' :', ''), value, eol }), { maxLength: 8 }),
  firstEol: eol, blank: fc.constantFrom('\r\n', '\n', '', '\r'), body: fc.stringMatching(/^[a-z\r\n]{0,6}$/),
  cut: fc.nat(),
});

test('property: readHeadFields reads what the string model reads, and finds the same end of head', () => {
  fc.assert(fc.property(headArb, fc.constantFrom('request', 'response'), fc.nat(16), (h, kind, pad) => {
    let head = h.first + h.firstEol + h.lines.map((l) => `${l.name}${l.colon}${l.value}${l.eol}`).join('') + h.blank + h.body;
    // Sometimes a head cut short, as a segment ends.
    if (h.cut % 3 === 0) head = head.slice(0, h.cut % (head.length + 1));
    const bytes = new Uint8Array(pad + head.length + 4).fill(0x0a);
    for (let i = 0; i < head.length; i++) bytes[pad + i] = head.charCodeAt(i);
    const got = readHeadFields(bytes, pad, head.length, kind as 'request' | 'response');
    const want = model(head, kind as 'request' | 'response');
    if (want.fields === null) { assert.equal(got, null); return; }
    assert.notEqual(got, null);
    assert.equal(lastHeadEnd, want.end < 0 ? -1 : pad + want.end);
    if (want.end < 0) return; // incomplete: the fields are not to be used
    const { kind: _k, ...fields } = got!;
    assert.deepEqual(fields, want.fields, JSON.stringify(head));
  }), { numRuns: 5000 });
});

test('property: a head laid out (the reading worker) reads as readHeadFields reads it, texts or not', () => {
  const layout = new Float64Array(3 + HEAD_LAYOUT_SLOTS);
  let laid = 0;
  fc.assert(fc.property(headArb, fc.constantFrom('request', 'response'), fc.nat(16), fc.boolean(), (h, kind, pad, texts) => {
    let head = h.first + h.firstEol + h.lines.map((l) => `${l.name}${l.colon}${l.value}${l.eol}`).join('') + h.blank + h.body;
    if (h.cut % 3 === 0) head = head.slice(0, h.cut % (head.length + 1));
    const bytes = new Uint8Array(pad + head.length + 4).fill(0x0a);
    for (let i = 0; i < head.length; i++) bytes[pad + i] = head.charCodeAt(i);
    const k = kind as 'request' | 'response';
    const want = readHeadFields(bytes, pad, head.length, k, newHeadFields(), texts);
    const wantEnd = lastHeadEnd;
    if (!layHead(bytes, pad, head.length, k, layout, 3)) {
      // No layout: only for what readHeadFields does not read whole (the head is then read again).
      assert.ok(want === null || wantEnd < 0 || (head.match(/x-forwarded-for:/gi)?.length ?? 0) > 4, JSON.stringify(head));
      return;
    }
    laid++;
    const got = headFromLayout(bytes, pad, k, layout, 3, newHeadFields(), texts);
    assert.equal(lastHeadEnd, wantEnd);
    assert.deepEqual(got, want, JSON.stringify(head));
    assert.equal(headFromLayout(bytes, pad, k === 'request' ? 'response' : 'request', layout, 3, newHeadFields(), texts), null);
  }), { numRuns: 5000 });
  assert.ok(laid > 500, `${laid} heads laid out`);
});

test('readHeadFields: a typical request and response', () => {
  const req = new TextEncoder().encode('GET /api/items/7 HTTP/1.1\r\nHost: app.seqas.online\r\nUser-Agent: curl/8.4.0\r\nX-Forwarded-For: 203.0.113.9\r\nx-forwarded-for: 10.0.0.1\r\nX-Amzn-Trace-Id: Root=1-5f84c7a9-0123456789abcdef01234567\r\n\r\nBODY');
  const r = readHeadFields(req, 0, req.length, 'request')!;
  assert.deepEqual([r.method, r.target, r.version, r.host, r.xForwardedFor, r.traceId], ['GET', '/api/items/7', 'HTTP/1.1', 'app.seqas.online', '203.0.113.9, 10.0.0.1', 'Root=1-5f84c7a9-0123456789abcdef01234567']);
  assert.equal(lastHeadEnd, req.length - 4);
  const res = new TextEncoder().encode('HTTP/1.1 502 Bad Gateway\nContent-Length: 12\nTransfer-Encoding: gzip,  chunked\n\n');
  const s = readHeadFields(res, 0, res.length, 'response')!;
  assert.deepEqual([s.status, s.reason, s.contentLength, s.chunked], [502, 'Bad Gateway', 12, true]);
  assert.equal(lastHeadEnd, res.length);
});
