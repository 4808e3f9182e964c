/**
 * The ALB access-log line: one record type, `formatAccessLogLine` and `parseAccessLogLine`
 * inverse of each other (every field, quoted values with spaces, quotes and backslashes,
 * `-` values), and the lines the lab's ALB writes unchanged by the merge of the writer's
 * and the reader's types. (The lab's own lines, as root: test/lab/access-log.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatAccessLogLine, parseAccessLogLine, accessLogTime, type AccessLogRecord } from '../../src/alb-log/index.js';

/**
 * Lines written by the ALB's formatter before the merge (commit 07673f3, `formatAccessLog`
 * in src/lab/alb.ts) for five requests: 200; 503 (no target); 502 (refused); HTTPS with a
 * User-Agent holding quotes, a backslash and an apostrophe, no target group; 460 with an
 * empty User-Agent.
 */
const WRITTEN_BEFORE = [
  String.raw`http 2026-11-23T19:49:14.686000Z app/seqas-alb/50dc6c495c0c9188 10.10.1.2:35424 172.31.5.20:80 0.008 0.002 0.002 200 200 98 466 "GET http://seqas.online:80/ HTTP/1.1" "curl/7.88.1" - - arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/seqas-web/73e2d6bc24d8a067 "Root=1-6b0498ba-d4a08fc526db27385e837a66" "-" "-" 0 2026-11-23T19:49:14.674000Z "forward" "-" "-" "172.31.5.20:80" "200" "-" "-" TID_5f77e5ad57e15f01dde07096b1809a36`,
  String.raw`http 2026-11-23T19:49:14.686000Z app/seqas-alb/50dc6c495c0c9188 10.10.1.2:35424 - -1 -1 -1 503 - 98 322 "GET http://seqas.online:80/ HTTP/1.1" "curl/7.88.1" - - arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/seqas-web/73e2d6bc24d8a067 "Root=1-6b0498ba-d4a08fc526db27385e837a66" "-" "-" 0 2026-11-23T19:49:14.674000Z "forward" "-" "-" "-" "-" "-" "-" TID_5f77e5ad57e15f01dde07096b1809a36`,
  String.raw`http 2026-11-23T19:49:14.686000Z app/seqas-alb/50dc6c495c0c9188 10.10.1.2:35424 172.31.5.20:80 0.008 -1 -1 502 - 98 466 "GET http://seqas.online:80/ HTTP/1.1" "curl/7.88.1" - - arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/seqas-web/73e2d6bc24d8a067 "Root=1-6b0498ba-d4a08fc526db27385e837a66" "-" "-" 0 2026-11-23T19:49:14.674000Z "forward" "-" "-" "172.31.5.20:80" "-" "-" "-" TID_5f77e5ad57e15f01dde07096b1809a36`,
  String.raw`https 2026-11-23T19:49:14.686000Z app/seqas-alb/50dc6c495c0c9188 10.10.1.2:35424 172.31.5.20:80 0.008 0.002 0.002 200 200 98 466 "GET http://seqas.online:80/ HTTP/1.1" "Mozilla/5.0 (X11; \"quoted\" \ back) it's" TLS_AES_256_GCM_SHA384 TLSv1.3 - "Self=1-6b0498bb-000000000000000000000000;Root=1-6b0498ba-d4a08fc526db27385e837a66" "seqas.online" "arn:aws:acm:eu-west-1:123456789012:certificate/x" -1 2026-11-23T19:49:14.674000Z "forward" "-" "-" "172.31.5.20:80" "200" "-" "-" TID_5f77e5ad57e15f01dde07096b1809a36`,
  String.raw`http 2026-11-23T19:49:14.686000Z app/seqas-alb/50dc6c495c0c9188 10.10.1.2:35424 172.31.5.20:80 0.000 -1 -1 460 - 98 466 "GET http://seqas.online:80/ HTTP/1.1" "-" - - arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/seqas-web/73e2d6bc24d8a067 "Root=1-6b0498ba-d4a08fc526db27385e837a66" "-" "-" 0 2026-11-23T19:49:14.674000Z "forward" "-" "-" "172.31.5.20:80" "-" "-" "-" TID_5f77e5ad57e15f01dde07096b1809a36`,
];

/** The record the ALB builds for the first line above (what src/lab/alb.ts fills in). */
const SERVED: AccessLogRecord = {
  type: 'http', time: '2026-11-23T19:49:14.686000Z', elb: 'app/seqas-alb/50dc6c495c0c9188', client: '10.10.1.2:35424',
  target: '172.31.5.20:80', requestProcessingTime: 0.0081234, targetProcessingTime: 0.0019, responseProcessingTime: 0.0024999,
  elbStatusCode: 200, targetStatusCode: 200, receivedBytes: 98, sentBytes: 466, request: 'GET http://seqas.online:80/ HTTP/1.1',
  userAgent: 'curl/7.88.1', sslCipher: null, sslProtocol: null,
  targetGroupArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/seqas-web/73e2d6bc24d8a067',
  traceId: 'Root=1-6b0498ba-d4a08fc526db27385e837a66', domainName: null, chosenCertArn: null, matchedRulePriority: '0',
  requestCreationTime: '2026-11-23T19:49:14.674000Z', actionsExecuted: 'forward', redirectUrl: null, errorReason: null,
  targetPortList: '172.31.5.20:80', targetStatusCodeList: '200', classification: null, classificationReason: null,
  connTraceId: 'TID_5f77e5ad57e15f01dde07096b1809a36', node: 'alb-a',
};

/** SERVED as the line gives it back (seconds to 3 decimals). */
const SERVED_AS_READ: AccessLogRecord = { ...SERVED, requestProcessingTime: 0.008, targetProcessingTime: 0.002, responseProcessingTime: 0.002 };

test('the ALB\'s record formats to the line written before the merge, byte for byte', () => {
  assert.equal(formatAccessLogLine(SERVED), WRITTEN_BEFORE[0]);
  assert.equal(accessLogTime(new Date('2026-11-23T19:49:14.686Z')), '2026-11-23T19:49:14.686000Z');
  const refused = { ...SERVED, targetStatusCode: null, targetProcessingTime: -1, responseProcessingTime: -1, elbStatusCode: 502, targetStatusCodeList: null };
  assert.equal(formatAccessLogLine(refused), WRITTEN_BEFORE[2]);
});

test('every line written before the merge parses and formats back to itself', () => {
  for (const line of WRITTEN_BEFORE) {
    const r = parseAccessLogLine(line, 'alb-a');
    assert.ok(r, line);
    assert.equal(formatAccessLogLine(r), line);
  }
  const noTarget = parseAccessLogLine(WRITTEN_BEFORE[1]!)!;
  assert.equal(noTarget.target, null);
  assert.equal(noTarget.requestProcessingTime, -1);
  assert.equal(noTarget.targetStatusCode, null);
  assert.equal(noTarget.targetPortList, null);
  const tls = parseAccessLogLine(WRITTEN_BEFORE[3]!)!;
  assert.equal(tls.userAgent, String.raw`Mozilla/5.0 (X11; "quoted" \ back) it's`);
  assert.equal(tls.sslCipher, 'TLS_AES_256_GCM_SHA384');
  assert.equal(tls.targetGroupArn, null);
  assert.equal(tls.matchedRulePriority, '-1');
  assert.equal(parseAccessLogLine(WRITTEN_BEFORE[4]!)!.userAgent, null, '"-" is null');
});

test('every field: a line with no `-` anywhere gives each field, and formats back', () => {
  const line = String.raw`h2 2026-11-23T20:00:01.123456Z app/my-lb/50dc6c495c0c9188 192.0.2.7:2817 10.0.0.1:80 0.001 1.250 0.000 403 401 1234 5678 "POST https://www.example.com:443/a b?q=\"x\" HTTP/2.0" "agent \"one\" two\three" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/t/73e2d6bc24d8a067 "Root=1-58337364-23a8c76965a2ef7629b185e3" "www.example.com" "arn:aws:acm:us-east-2:123456789012:certificate/12345678" 10 2026-11-23T20:00:00.987654Z "waf,authenticate,forward" "https://example.com/login?x=\"y\"" "AuthInvalidCookie" "10.0.0.1:80 10.0.0.2:80" "401 -" "Ambiguous" "UndefinedContentLengthSemantics" TID_1234`;
  const r = parseAccessLogLine(line, 'alb-b');
  assert.deepEqual(r, {
    type: 'h2', time: '2026-11-23T20:00:01.123456Z', elb: 'app/my-lb/50dc6c495c0c9188', client: '192.0.2.7:2817', target: '10.0.0.1:80',
    requestProcessingTime: 0.001, targetProcessingTime: 1.25, responseProcessingTime: 0, elbStatusCode: 403, targetStatusCode: 401,
    receivedBytes: 1234, sentBytes: 5678, request: 'POST https://www.example.com:443/a b?q="x" HTTP/2.0', userAgent: String.raw`agent "one" two\three`,
    sslCipher: 'ECDHE-RSA-AES128-GCM-SHA256', sslProtocol: 'TLSv1.2',
    targetGroupArn: 'arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/t/73e2d6bc24d8a067',
    traceId: 'Root=1-58337364-23a8c76965a2ef7629b185e3', domainName: 'www.example.com', chosenCertArn: 'arn:aws:acm:us-east-2:123456789012:certificate/12345678',
    matchedRulePriority: '10', requestCreationTime: '2026-11-23T20:00:00.987654Z', actionsExecuted: 'waf,authenticate,forward',
    redirectUrl: 'https://example.com/login?x="y"', errorReason: 'AuthInvalidCookie', targetPortList: '10.0.0.1:80 10.0.0.2:80',
    targetStatusCodeList: '401 -', classification: 'Ambiguous', classificationReason: 'UndefinedContentLengthSemantics', connTraceId: 'TID_1234', node: 'alb-b',
  });
  assert.equal(formatAccessLogLine(r!), line);
});

test('`-` values: null fields are written `-` (bare) or `"-"` (quoted) and read back as null', () => {
  const empty: AccessLogRecord = {
    ...SERVED_AS_READ, target: null, elbStatusCode: null, targetStatusCode: null, userAgent: null, sslCipher: null, sslProtocol: null,
    targetGroupArn: null, traceId: null, domainName: null, chosenCertArn: null, actionsExecuted: null, redirectUrl: null,
    errorReason: null, targetPortList: null, targetStatusCodeList: null, classification: null, classificationReason: null, connTraceId: null,
  };
  const line = formatAccessLogLine(empty);
  assert.match(line, / 10\.10\.1\.2:35424 - 0\.008 0\.002 0\.002 - - 98 466 "GET [^"]+" "-" - - - "-" "-" "-" 0 \S+ "-" "-" "-" "-" "-" "-" "-" -$/);
  assert.deepEqual(parseAccessLogLine(line, 'alb-a'), empty);
  // An empty string is written as `-` too (so it reads back as null).
  assert.equal(parseAccessLogLine(formatAccessLogLine({ ...SERVED, userAgent: '' }))!.userAgent, null);
});

test('a quoted value ending in a backslash (written `\\"`) reads back: the layout decides', () => {
  const r = { ...SERVED_AS_READ, userAgent: 'C:\\', traceId: 'a\\" \\"b\\' };
  const line = formatAccessLogLine(r);
  assert.ok(line.includes(String.raw`"C:\" - - arn:`), line);
  const back = parseAccessLogLine(line, 'alb-a');
  assert.deepEqual(back, r);
  assert.equal(formatAccessLogLine(back!), line);
});

test('older (29 fields, no conn_trace_id) and newer (extra fields) lines parse; not-a-line is null', () => {
  const older = WRITTEN_BEFORE[0]!.replace(/ TID_\S+$/, '');
  assert.equal(parseAccessLogLine(older)!.connTraceId, null);
  assert.equal(parseAccessLogLine(older)!.classificationReason, null);
  const newer = `${WRITTEN_BEFORE[0]} "-" "-" "-"`;
  assert.equal(parseAccessLogLine(newer)!.connTraceId, 'TID_5f77e5ad57e15f01dde07096b1809a36');
  assert.equal(parseAccessLogLine(WRITTEN_BEFORE[0] + '\r\n')!.connTraceId, 'TID_5f77e5ad57e15f01dde07096b1809a36');
  for (const bad of [
    '', 'http', 'GET / HTTP/1.1',
    WRITTEN_BEFORE[0]!.replace(' 0.008 ', ' fast '), // a time that is not a number
    WRITTEN_BEFORE[0]!.replace(' 466 ', ' - '), // sent bytes must be a number
    WRITTEN_BEFORE[0]!.replace('"curl/7.88.1"', '"curl/7.88.1'), // unterminated quote
    WRITTEN_BEFORE[0]!.replace('"curl/7.88.1"', 'curl/7.88.1'), // a quoted field without quotes
    WRITTEN_BEFORE[0]!.replace(/ "-" "-" TID_\S+$/, ''), // 28 fields
    '"'.repeat(5000),
    `${' "\\"'.repeat(3000)}`,
  ]) assert.equal(parseAccessLogLine(bad), null, bad.slice(0, 120));
});

// Strings as clients and servers send them: spaces, quotes, backslashes, `-`, no line feed.
const text = fc.string({ unit: fc.constantFrom('a', 'Z', '0', ' ', '"', '\\', '-', ';', '=', ':', '/', 'é', '\t'), maxLength: 24 });
// Bare fields: tokens (no space, no quote).
const token = fc.string({ unit: fc.constantFrom('a', 'Z', '0', '-', '.', ':', '/', '_', '\\'), minLength: 1, maxLength: 16 });
const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null });
const secondsArb = fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 10_000_000 }).map((ms) => ms / 1000));
const record: fc.Arbitrary<AccessLogRecord> = fc.record({
  type: fc.constantFrom('http', 'https', 'h2', 'ws', 'wss', 'grpcs'), time: token, elb: token, client: token, target: maybe(token),
  requestProcessingTime: secondsArb, targetProcessingTime: secondsArb, responseProcessingTime: secondsArb,
  elbStatusCode: maybe(fc.integer({ min: 100, max: 599 })), targetStatusCode: maybe(fc.integer({ min: 100, max: 599 })),
  receivedBytes: fc.nat(), sentBytes: fc.nat(), request: text, userAgent: maybe(text), sslCipher: maybe(token), sslProtocol: maybe(token),
  targetGroupArn: maybe(token), traceId: maybe(text), domainName: maybe(text), chosenCertArn: maybe(text), matchedRulePriority: token,
  requestCreationTime: token, actionsExecuted: maybe(text), redirectUrl: maybe(text), errorReason: maybe(text), targetPortList: maybe(text),
  targetStatusCodeList: maybe(text), classification: maybe(text), classificationReason: maybe(text), connTraceId: maybe(token), node: fc.constant('alb-a'),
});

const NULLABLE: (keyof AccessLogRecord)[] = ['target', 'userAgent', 'sslCipher', 'sslProtocol', 'targetGroupArn', 'traceId', 'domainName', 'chosenCertArn',
  'actionsExecuted', 'redirectUrl', 'errorReason', 'targetPortList', 'targetStatusCodeList', 'classification', 'classificationReason', 'connTraceId'];
const QUOTED: (keyof AccessLogRecord)[] = ['request', 'userAgent', 'traceId', 'domainName', 'chosenCertArn', 'actionsExecuted', 'redirectUrl',
  'errorReason', 'targetPortList', 'targetStatusCodeList', 'classification', 'classificationReason'];

/** What the line can say: `-` and '' are null, and a `request` of '' is written "-". */
function asWritten(r: AccessLogRecord): AccessLogRecord {
  const out: Record<string, unknown> = { ...r };
  for (const k of NULLABLE) if (out[k] === '' || out[k] === '-') out[k] = null;
  if (r.request === '') out.request = '-';
  return out as unknown as AccessLogRecord;
}

test('property: format(parse(line)) === line for every line the formatter writes; the record comes back', () => {
  fc.assert(fc.property(record, (r) => {
    const line = formatAccessLogLine(r);
    const back = parseAccessLogLine(line, 'alb-a');
    assert.ok(back, line);
    assert.equal(formatAccessLogLine(back), line);
    // The record itself comes back whenever no quoted value ends in a backslash (the one
    // case the format itself leaves ambiguous; the layout settles it, mostly).
    if (QUOTED.every((k) => !String(r[k] ?? '').endsWith('\\'))) assert.deepEqual(back, asWritten(r));
  }), { numRuns: 3000 });
});

