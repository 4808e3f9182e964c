import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { newTraceId, normaliseTraceId, parseHeader, parseResolveSpec, parseTarget, redactHeader, traceRoot } from '../../src/http/index.js';
import { UsageError } from '../../src/errors.js';

test('newTraceId: Root=1-<8 hex epoch seconds>-<24 hex>, random part differs', () => {
  const epoch = 0x5f84c7a5;
  const a = newTraceId(epoch);
  assert.match(a, /^Root=1-5f84c7a5-[0-9a-f]{24}$/);
  assert.notEqual(a, newTraceId(epoch));
  const now = Math.floor(Date.now() / 1000);
  const stamped = parseInt(newTraceId().slice(7, 15), 16);
  assert.ok(Math.abs(stamped - now) <= 2);
});

test('property: every new trace id normalises to itself and has a Root', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), (epoch) => {
    const id = newTraceId(epoch);
    assert.equal(normaliseTraceId(id), id);
    assert.equal(traceRoot(id), id.slice(5));
  }));
});

test('trace ids given by the user: bare root, Root=, extra fields; junk refused', () => {
  assert.equal(normaliseTraceId('1-67891233-abcdef012345678912345678'), 'Root=1-67891233-abcdef012345678912345678');
  assert.equal(normaliseTraceId('Root=1-67891233-abcdef012345678912345678;Parent=53995c3f42cd8ad8'), 'Root=1-67891233-abcdef012345678912345678;Parent=53995c3f42cd8ad8');
  for (const bad of ['', 'abc', '1-6789123-abcdef012345678912345678', 'Root=1-67891233-abcdef01234567891234567g', 'Root=1-67891233-abcdef012345678912345678\r\nX: y']) {
    assert.throws(() => normaliseTraceId(bad), UsageError, bad);
  }
});

test('--resolve: curl forms, IPv6 in brackets, several addresses; bad ones refused', () => {
  assert.deepEqual(parseResolveSpec('Seqas.Online:443:10.0.1.10'), { host: 'seqas.online', port: 443, addresses: ['10.0.1.10'] });
  assert.deepEqual(parseResolveSpec('x:80:[::1],127.0.0.1'), { host: 'x', port: 80, addresses: ['::1', '127.0.0.1'] });
  assert.deepEqual(parseResolveSpec('*:80:10.0.0.1').host, '*');
  for (const bad of ['x:80', 'x:0:1.2.3.4', 'x:80:host.name', ':80:1.2.3.4', 'x:http:1.2.3.4']) assert.throws(() => parseResolveSpec(bad), UsageError, bad);
});

test('headers: Name: value; no name, bad name or line breaks refused', () => {
  assert.deepEqual(parseHeader('Accept:  application/json '), { name: 'Accept', value: 'application/json', remove: false });
  // curl: 'Name:' leaves the header out, 'Name;' sends it with an empty value
  assert.deepEqual(parseHeader('Accept:'), { name: 'Accept', value: '', remove: true });
  assert.deepEqual(parseHeader('X-Empty;'), { name: 'X-Empty', value: '', remove: false });
  assert.deepEqual(parseHeader('X-Semi: a;b'), { name: 'X-Semi', value: 'a;b', remove: false });
  for (const bad of ['NoColon', ': v', 'Bad Name: v', 'X: a\nY: b']) assert.throws(() => parseHeader(bad), UsageError, bad);
});

test('redaction keeps what helps (scheme, cookie names, attributes), hides the secrets', () => {
  assert.equal(redactHeader({ name: 'Authorization', value: 'Basic dXNlcjpwYXNz' }).value, 'Basic [redacted]');
  assert.equal(redactHeader({ name: 'authorization', value: 'opaque' }).value, '[redacted]');
  assert.equal(redactHeader({ name: 'Cookie', value: 'sid=abc; lang=en' }).value, 'sid=[redacted]; lang=[redacted]');
  assert.equal(redactHeader({ name: 'Set-Cookie', value: 'sid=abc; Path=/; Secure' }).value, 'sid=[redacted]; Path=/; Secure');
  assert.equal(redactHeader({ name: 'X-Api-Key', value: 'k' }).value, '[redacted]');
  assert.equal(redactHeader({ name: 'Content-Type', value: 'text/html' }).value, 'text/html');
});

test('URL targets: default ports, IPv6 literals; other schemes and credentials refused', () => {
  assert.equal(parseTarget('https://seqas.online/').port, 443);
  assert.equal(parseTarget('http://seqas.online/').port, 80);
  assert.equal(parseTarget('http://[::1]:8080/x').host, '::1');
  for (const bad of ['ftp://x/', 'seqas.online', 'http://user:pw@x/']) assert.throws(() => parseTarget(bad), UsageError, bad);
});
