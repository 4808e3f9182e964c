/** The agent protocol's validation, the bounded line splitter and redaction: hostile inputs. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseClientLine, AGENT_LIMITS, filterForPorts } from '../../src/agent/protocol.js';
import { LineSplitter, type LineEvent } from '../../src/agent/lines.js';
import { redactText, redactDeep, maskHeaderValuesInPlace, newRedactor } from '../../src/agent/redact.js';

function errorCode(line: string): string | null {
  const r = parseClientLine(line);
  return r.ok ? null : r.error.code;
}

test('a valid start gets defaults and keeps its fields', () => {
  const r = parseClientLine('{"type":"start","id":"r1","ports":[80,80,8080],"traceId":"Root=1-67891233-abcdef012345678912345678"}');
  assert.ok(r.ok);
  assert.deepEqual(r.value, {
    type: 'start', id: 'r1', interfaces: ['any'], ports: [80, 8080], traceId: 'Root=1-67891233-abcdef012345678912345678',
    traceIds: ['Root=1-67891233-abcdef012345678912345678'], maxDurationMs: AGENT_LIMITS.defaultDurationMs, maxBytes: AGENT_LIMITS.defaultCaptureBytes, pcapng: false, redact: [],
  });
});

test('several trace ids: traceIds alone, or with traceId (first, repeats dropped); v1 starts unchanged', () => {
  const A = 'Root=1-67891233-abcdef012345678912345678';
  const B = '1-67891234-abcdef012345678912345678';
  const both = parseClientLine(JSON.stringify({ type: 'start', traceId: A, traceIds: [B, A, B] }));
  assert.ok(both.ok && both.value.type === 'start');
  assert.equal(both.value.traceId, A);
  assert.deepEqual(both.value.traceIds, [A, B]);
  const list = parseClientLine(JSON.stringify({ type: 'start', traceIds: [B, A] }));
  assert.ok(list.ok && list.value.type === 'start');
  assert.equal(list.value.traceId, B);
  assert.deepEqual(list.value.traceIds, [B, A]);
  const none = parseClientLine('{"type":"start"}');
  assert.ok(none.ok && none.value.type === 'start');
  assert.equal(none.value.traceId, null);
  assert.deepEqual(none.value.traceIds, []);
  assert.equal(errorCode(JSON.stringify({ type: 'start', traceIds: 'Root=1-2-3' })), 'BAD_FIELD');
  assert.equal(errorCode(JSON.stringify({ type: 'start', traceIds: [A, 'a b'] })), 'BAD_FIELD');
  assert.equal(errorCode(JSON.stringify({ type: 'start', traceIds: [A, 7] })), 'BAD_FIELD');
  const many = Array.from({ length: AGENT_LIMITS.maxTraceIds }, (_, i) => `1-67891233-${String(i).padStart(24, '0')}`);
  assert.equal(errorCode(JSON.stringify({ type: 'start', traceIds: many })), null);
  assert.equal(errorCode(JSON.stringify({ type: 'start', traceIds: [...many, B] })), 'BAD_FIELD');
  assert.equal(errorCode(JSON.stringify({ type: 'start', traceId: B, traceIds: many })), 'BAD_FIELD');
});

test('start.redact: header names added to the redaction policy (lower case, no repeats); anything else is BAD_FIELD', () => {
  const r = parseClientLine(JSON.stringify({ type: 'start', redact: ['X-Session-Token', 'x-session-token', 'X-Tenant'] }));
  assert.ok(r.ok && r.value.type === 'start');
  assert.deepEqual(r.value.redact, ['x-session-token', 'x-tenant']);
  assert.equal(errorCode(JSON.stringify({ type: 'start', redact: 'X-Session-Token' })), 'BAD_FIELD');
  assert.equal(errorCode(JSON.stringify({ type: 'start', redact: ['X-Session-Token: x'] })), 'BAD_FIELD');
  assert.equal(errorCode(JSON.stringify({ type: 'start', redact: ['a b'] })), 'BAD_FIELD');
  assert.equal(errorCode(JSON.stringify({ type: 'start', redact: [''] })), 'BAD_FIELD');
  assert.equal(errorCode(JSON.stringify({ type: 'start', redact: [7] })), 'BAD_FIELD');
  assert.equal(errorCode(JSON.stringify({ type: 'start', redact: ['x'.repeat(65)] })), 'BAD_FIELD');
  assert.equal(errorCode(JSON.stringify({ type: 'start', redact: Array.from({ length: 25 }, (_, i) => `X-H${i}`) })), 'BAD_FIELD');
  assert.equal(errorCode(JSON.stringify({ type: 'start', redact: Array.from({ length: 24 }, (_, i) => `X-H${i}`) })), null);
});

test('bad messages get precise error codes', () => {
  assert.equal(errorCode('{"type":"start"'), 'MALFORMED');
  assert.equal(errorCode('[1,2]'), 'MALFORMED');
  assert.equal(errorCode('"start"'), 'MALFORMED');
  assert.equal(errorCode('{"type":"reboot"}'), 'UNKNOWN_TYPE');
  assert.equal(errorCode('{}'), 'UNKNOWN_TYPE');
  assert.equal(errorCode('{"type":"start","interfaces":["eth0; rm -rf /"]}'), 'BAD_INTERFACE');
  assert.equal(errorCode('{"type":"start","interfaces":["abcdefghijklmnop"]}'), 'BAD_INTERFACE'); // 16 chars
  assert.equal(errorCode('{"type":"start","interfaces":["$(id)"]}'), 'BAD_INTERFACE');
  assert.equal(errorCode('{"type":"start","interfaces":[]}'), 'BAD_FIELD');
  assert.equal(errorCode('{"type":"start","ports":[0]}'), 'BAD_PORT');
  assert.equal(errorCode('{"type":"start","ports":[65536]}'), 'BAD_PORT');
  assert.equal(errorCode('{"type":"start","ports":[80.5]}'), 'BAD_PORT');
  assert.equal(errorCode('{"type":"start","ports":["80 or host 1.2.3.4"]}'), 'BAD_PORT');
  assert.equal(errorCode('{"type":"start","maxDurationMs":3000000}'), 'BAD_FIELD');
  assert.equal(errorCode('{"type":"start","maxBytes":-1}'), 'BAD_FIELD');
  assert.equal(errorCode('{"type":"start","traceId":"a b"}'), 'BAD_FIELD');
  assert.equal(errorCode('{"type":"start","filter":"port 80"}'), 'BAD_FIELD'); // no raw filters
  assert.equal(errorCode('{"type":"stop","id":"x y"}'), 'BAD_FIELD');
  assert.equal(errorCode('x'.repeat(AGENT_LIMITS.maxLineBytes + 1)), 'OVERSIZED');
  assert.equal(errorCode('{"type":"stop"}'), null);
});

test('fuzz: any line is either a valid message or an error reply, never a throw; only integers reach the filter', () => {
  fc.assert(fc.property(fc.oneof(fc.string(), fc.json(), fc.record({ type: fc.constant('start'), ports: fc.array(fc.anything()), interfaces: fc.array(fc.string()) }).map((o) => JSON.stringify(o))), (line) => {
    const r = parseClientLine(line);
    if (r.ok && r.value.type === 'start') {
      assert.match(filterForPorts(r.value.ports), /^(port \d{1,5}( or port \d{1,5})*)?$/);
      for (const n of r.value.interfaces) assert.match(n, /^[A-Za-z0-9._@-]{1,15}$/);
    }
    if (!r.ok) assert.equal(r.error.type, 'error');
  }), { numRuns: 2000 });
});

test('the line splitter answers an oversized line at once and resumes after its newline; chunking does not matter', () => {
  const events: LineEvent[] = [];
  const s = new LineSplitter(10, (e) => events.push(e));
  s.push(Buffer.from('{"a":1}\n0123456789ABC'));
  assert.deepEqual(events.map((e) => e.kind), ['line', 'oversized']);
  s.push(Buffer.from('DEF\n{"b":2}'));
  s.push(Buffer.from('\n'));
  s.end();
  assert.deepEqual(events.map((e) => (e.kind === 'line' ? e.text : 'X')), ['{"a":1}', 'X', '{"b":2}']);
  fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1 }), (cuts) => {
    const input = Buffer.from('{"a":1}\r\n\n0123456789ABCDEF\n{"b":2}\nlast');
    const got: string[] = [];
    const sp = new LineSplitter(10, (e) => got.push(e.kind === 'line' ? e.text : 'X'));
    let at = 0;
    for (let i = 0; at < input.length; i++) { const n = cuts[i % cuts.length]; sp.push(input.subarray(at, at + n)); at += n; }
    sp.end();
    assert.deepEqual(got, ['{"a":1}', 'X', '{"b":2}', 'last']);
  }));
});

test('redaction: text, JSON values, header pairs, and bytes in place', () => {
  const r = newRedactor();
  assert.equal(redactText('GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer abc.def\r\nCookie: sid=1; a=2\r\n', r),
    'GET / HTTP/1.1\r\nHost: x\r\nAuthorization: [redacted]\r\nCookie: [redacted]\r\n');
  assert.equal(redactText('{"set-cookie":"sid=2; HttpOnly","x":1}', r), '{"set-cookie":"[redacted]","x":1}');
  const deep = redactDeep({ headers: [['Host', 'a'], ['Proxy-Authorization', 'Basic Zm9v']], cookie: 'x=1', nested: { note: 'Cookie: y=2' } }, r);
  assert.deepEqual(deep, { headers: [['Host', 'a'], ['Proxy-Authorization', '[redacted]']], cookie: '[redacted]', nested: { note: 'Cookie: [redacted]' } });
  assert.equal(r.count, 6);
  const bytes = Buffer.from('GET / HTTP/1.1\r\nauthorization:  Basic dXNlcjpwYXNz\r\nX-Cookie: keep\r\nSet-Cookie: s=1\r\n\r\n', 'latin1');
  const before = bytes.length;
  assert.equal(maskHeaderValuesInPlace(bytes), 2);
  assert.equal(bytes.length, before);
  const text = bytes.toString('latin1');
  assert.ok(text.includes(`authorization:  ${'*'.repeat('Basic dXNlcjpwYXNz'.length)}\r\n`));
  assert.ok(text.includes('X-Cookie: keep'));
  assert.ok(text.includes('Set-Cookie: ***\r\n'));
});
