/**
 * Reading access logs and finding a request's line: a plain file, a directory of ELB's
 * gzip files in the S3 layout (only the files whose 5-minute interval can hold the
 * request are read), an S3 prefix through a scripted S3 (the calls the SDK would get), and
 * the reasons a line is not there — the log ends before the request (not delivered yet),
 * starts after it, or covers it without the line.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import {
  formatAccessLogLine, logFileKey, matchRequest, scanAccessLogs, s3LogKeys, sdkS3Objects, parseS3Url, checkAccessLogSource, nodeOfFile,
  type AccessLogRecord, type S3Objects,
} from '../../src/alb-log/index.js';
import { InputError } from '../../src/errors.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ftt-alblog-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const T0 = Date.UTC(2026, 11, 7, 23, 57, 10); // five minutes before midnight: the next day's folder matters
const root = (i: number): string => `1-${Math.floor(T0 / 1000).toString(16)}-${i.toString(16).padStart(24, '0')}`;
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

function record(i: number, atMs: number, over: Partial<AccessLogRecord> = {}): AccessLogRecord {
  return {
    type: 'http', time: iso(atMs + 3), elb: 'app/seqas-alb/50dc6c495c0c9188', client: `10.10.1.2:${40000 + i}`, target: '172.31.5.20:80',
    requestProcessingTime: 0.001, targetProcessingTime: 0.002, responseProcessingTime: 0, elbStatusCode: 200, targetStatusCode: 200,
    receivedBytes: 98, sentBytes: 466, request: 'GET http://seqas.online:80/ HTTP/1.1', userAgent: 'flowtrace/0.1', sslCipher: null, sslProtocol: null,
    targetGroupArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/seqas-web/73e2d6bc24d8a067',
    traceId: `Self=1-00000000-${i.toString(16).padStart(24, '0')};Root=${root(i)}`, domainName: null, chosenCertArn: null, matchedRulePriority: '0',
    requestCreationTime: iso(atMs), actionsExecuted: 'forward', redirectUrl: null, errorReason: null, targetPortList: '172.31.5.20:80',
    targetStatusCodeList: '200', classification: null, classificationReason: null, connTraceId: `TID_${i}`, node: '', ...over,
  };
}

const NODES = ['10.77.1.10', '10.77.2.10'];

/** ELB's files for one load balancer: one per node per 5-minute interval, 20 requests a minute over an hour. */
function elbFiles(): Map<string, Buffer> {
  const byKey = new Map<string, string[]>();
  for (let i = 0; i < 1200; i++) {
    const at = T0 - 30 * 60_000 + i * 3000;
    const node = NODES[i % 2]!;
    const key = logFileKey({ prefix: 'logs', account: '123456789012', region: 'eu-west-1', loadBalancer: 'app/seqas-alb/50dc6c495c0c9188', intervalEndMs: at, nodeAddress: node, random: `r${node.split('.')[2]}` });
    const lines = byKey.get(key) ?? [];
    lines.push(formatAccessLogLine(record(i, at, { target: i % 3 === 0 ? '172.31.21.20:80' : '172.31.5.20:80' })));
    byKey.set(key, lines);
  }
  return new Map([...byKey].map(([k, lines]) => [k, zlib.gzipSync(lines.join('\n') + '\n')]));
}

const FILES = elbFiles();
const dir = path.join(tmp, 'bucket');
for (const [key, bytes] of FILES) {
  fs.mkdirSync(path.dirname(path.join(dir, key)), { recursive: true });
  fs.writeFileSync(path.join(dir, key), bytes);
}

/** The index of the request sent at T0 (600 × 3 s after T0 − 30 min). */
const AT_T0 = 600;
const sentAt = (i: number): number => T0 - 30 * 60_000 + i * 3000;

test('a directory in the S3 layout: the request\'s line, its node from the file name, only the files of its interval read', async () => {
  const roots = new Set([root(AT_T0), root(AT_T0 + 1)]);
  const scan = await scanAccessLogs(dir, { roots, sentAtMs: [sentAt(AT_T0)] });
  assert.deepEqual(scan.problems, []);
  assert.ok(scan.files.length >= 2 && scan.files.length <= 8, `${scan.files.length} files read (the interval's and its neighbours', per node)`);
  assert.ok(scan.skipped.files > 10, 'the other intervals were left unread');
  const m = matchRequest(scan, root(AT_T0), sentAt(AT_T0));
  assert.equal(m.status, 'found');
  assert.equal(m.record!.client, `10.10.1.2:${40000 + AT_T0}`);
  assert.equal(m.record!.node, NODES[AT_T0 % 2]);
  assert.equal(m.record!.target, '172.31.21.20:80');
  assert.match(m.file!, /_20261208T0000Z_10\.77\.1\.10_r1\.log\.gz$/);
  assert.equal(m.intervalEnd, '2026-12-08T00:00:00.000Z');
  const other = matchRequest(scan, root(AT_T0 + 1), sentAt(AT_T0 + 1));
  assert.equal(other.record!.node, '10.77.2.10');
});

test('every request of a run of 100 joins its own line (client port, node, target) in gzip files', async () => {
  const ids = Array.from({ length: 100 }, (_, k) => 300 + k * 7);
  const scan = await scanAccessLogs(dir, { roots: new Set(ids.map(root)), sentAtMs: ids.map(sentAt) });
  for (const i of ids) {
    const m = matchRequest(scan, root(i), sentAt(i));
    assert.equal(m.status, 'found', `request ${i}`);
    assert.equal(m.record!.client, `10.10.1.2:${40000 + i}`);
    assert.equal(m.record!.node, NODES[i % 2]);
    assert.equal(m.record!.target, i % 3 === 0 ? '172.31.21.20:80' : '172.31.5.20:80');
  }
});

test('not there: the log ends before the request (not delivered yet), starts after it, or covers it without the line', async () => {
  const later = T0 + 60 * 60_000;
  const scan = await scanAccessLogs(dir, { roots: new Set(['1-ffffffff-000000000000000000000001']), sentAtMs: [later] });
  const m = matchRequest(scan, '1-ffffffff-000000000000000000000001', later);
  assert.equal(m.status, 'log-ends-before');
  assert.equal(m.coverage!.until, '2026-12-08T00:30:00.000Z', 'the newest interval the directory has');
  assert.equal(m.intervalEnd, '2026-12-08T01:00:00.000Z', 'the file that will hold it');
  const earlier = T0 - 3 * 60 * 60_000;
  assert.equal(matchRequest(await scanAccessLogs(dir, { roots: new Set(), sentAtMs: [earlier] }), root(1), earlier).status, 'log-starts-after');
  const covered = await scanAccessLogs(dir, { roots: new Set(['1-ffffffff-000000000000000000000002']), sentAtMs: [T0] });
  assert.equal(matchRequest(covered, '1-ffffffff-000000000000000000000002', T0).status, 'not-found');
  const empty = path.join(tmp, 'empty');
  fs.mkdirSync(empty);
  assert.equal(matchRequest(await scanAccessLogs(empty, { roots: new Set(), sentAtMs: [T0] }), root(1), T0).status, 'no-log');
});

test('a plain file (the lab\'s live log): the node from its name, coverage from its lines; a Root seen twice picks the line after the request', async () => {
  const file = path.join(tmp, 'alb-b.access.log');
  const lines = [record(1, T0 - 10_000), record(2, T0), record(2, T0 + 60_000, { elbStatusCode: 502, targetStatusCode: null }), record(3, T0 + 120_000)];
  fs.writeFileSync(file, lines.map(formatAccessLogLine).join('\n') + '\nnot a log line\n');
  const scan = await scanAccessLogs(file, { roots: new Set([root(2)]), sentAtMs: [T0 + 59_000] });
  assert.equal(scan.files[0]!.node, 'alb-b');
  assert.equal(scan.files[0]!.unparsed, 1);
  assert.equal(scan.files[0]!.lines, 5);
  const m = matchRequest(scan, root(2), T0 + 59_000);
  assert.equal(m.record!.elbStatusCode, 502, 'the line after the request was sent');
  assert.equal(m.record!.node, 'alb-b');
  assert.equal(m.intervalEnd, null, 'not an ELB file: no delivery interval');
  assert.equal(matchRequest(scan, root(9), T0 + 10 * 60_000).status, 'log-ends-before');
  assert.equal(nodeOfFile('/run/flowtrace-lab/alb-a.access.log'), 'alb-a');
  // A gzip file under any name is read as gzip.
  const gz = path.join(tmp, 'copy.log');
  fs.writeFileSync(gz, zlib.gzipSync(fs.readFileSync(file)));
  assert.equal(matchRequest(await scanAccessLogs(gz, { roots: new Set([root(2)]), sentAtMs: [T0] }), root(2), T0).record!.elbStatusCode, 200);
});

/** A scripted S3 over FILES: what ListObjectsV2 (delimiter `/`) and GetObject return, with every call recorded. */
function scriptedS3(files: Map<string, Buffer>): S3Objects & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async list(bucket, prefix) {
      calls.push(`list ${bucket} ${prefix}`);
      const keys: string[] = [];
      const prefixes = new Set<string>();
      for (const k of files.keys()) {
        if (!k.startsWith(prefix)) continue;
        const rest = k.slice(prefix.length);
        const slash = rest.indexOf('/');
        if (slash >= 0) prefixes.add(prefix + rest.slice(0, slash + 1));
        else keys.push(k);
      }
      return { keys, prefixes: [...prefixes] };
    },
    async get(bucket, key) {
      calls.push(`get ${bucket} ${key}`);
      const b = files.get(key);
      if (!b) throw new Error('NoSuchKey');
      return b;
    },
  };
}

test('s3://bucket/prefix: walks AWSLogs/ACCOUNT/elasticloadbalancing/REGION/ to the delivery days of the request, reads only its interval\'s objects', async () => {
  assert.deepEqual(parseS3Url('s3://my-logs/logs/'), { bucket: 'my-logs', prefix: 'logs' });
  assert.equal(parseS3Url('/var/log/x'), null);
  const s3 = scriptedS3(FILES);
  const scan = await scanAccessLogs('s3://my-logs/logs', { roots: new Set([root(AT_T0)]), sentAtMs: [sentAt(AT_T0)], s3 });
  const m = matchRequest(scan, root(AT_T0), sentAt(AT_T0));
  assert.equal(m.status, 'found');
  assert.equal(m.record!.node, NODES[AT_T0 % 2]);
  assert.match(m.file!, /^s3:\/\/my-logs\/logs\/AWSLogs\/123456789012\/elasticloadbalancing\/eu-west-1\/2026\/12\/0[78]\//);
  const lists = s3.calls.filter((c) => c.startsWith('list'));
  assert.deepEqual(lists, [
    'list my-logs logs/AWSLogs/',
    'list my-logs logs/AWSLogs/123456789012/elasticloadbalancing/',
    'list my-logs logs/AWSLogs/123456789012/elasticloadbalancing/eu-west-1/2026/12/07/',
    'list my-logs logs/AWSLogs/123456789012/elasticloadbalancing/eu-west-1/2026/12/08/',
  ]);
  const gets = s3.calls.filter((c) => c.startsWith('get'));
  assert.ok(gets.length >= 2 && gets.length <= 8, `${gets.length} objects read, not the ${FILES.size} of the hour`);
  // A prefix that is already a day folder is listed as it is.
  const day = scriptedS3(FILES);
  const keys = await s3LogKeys(day, 'my-logs', 'logs/AWSLogs/123456789012/elasticloadbalancing/eu-west-1/2026/12/07', [sentAt(AT_T0)]);
  assert.ok(keys.length > 0);
  assert.deepEqual(day.calls, ['list my-logs logs/AWSLogs/123456789012/elasticloadbalancing/eu-west-1/2026/12/07/']);
});

test('sources that cannot be read: a missing path and a bad S3 URL before the walk; S3 without the SDK says what to do', async () => {
  assert.throws(() => checkAccessLogSource(path.join(tmp, 'nope')), (e: unknown) => e instanceof InputError && /cannot read the access log/.test(e.message));
  assert.throws(() => checkAccessLogSource('s3:/bucket'), /bad S3 URL/);
  checkAccessLogSource('s3://bucket/prefix');
  checkAccessLogSource(dir);
  const missing = () => Promise.reject(Object.assign(new Error("Cannot find package '@aws-sdk/client-s3'"), { code: 'ERR_MODULE_NOT_FOUND' }));
  await assert.rejects(sdkS3Objects(missing), (e: unknown) => e instanceof InputError && /AWS SDK/.test(e.message) && /aws s3 cp/.test(e.hint));
  // An S3 that cannot be listed (no credentials, no access) is an error naming what to check.
  const denied: S3Objects = { list: () => Promise.reject(new Error('AccessDenied')), get: () => Promise.reject(new Error('AccessDenied')) };
  await assert.rejects(scanAccessLogs('s3://bucket/prefix', { roots: new Set(), sentAtMs: [T0], s3: denied }), (e: unknown) => e instanceof InputError && /AccessDenied/.test(e.message) && /credentials/.test(e.hint));
});
