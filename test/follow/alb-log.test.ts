/**
 * `follow --alb-log` on the lab's access logs (root): a run of 100 requests through both ALB
 * nodes, each joined to its own line the way follow joins them (accessLogEvidence over
 * alb-log's scan) — the client's port, the node, and the target the app says answered; then
 * follow itself, on the live files and on the same lines written as ELB writes them to S3
 * (one gzip file per node and 5-minute interval, the node's address in the name).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { LAB, labExec, readAccessLog } from '../../src/lab/index.js';
import { scanAccessLogs, formatAccessLogLine, logFileKey, accessLogMs } from '../../src/alb-log/index.js';
import { accessLogEvidence, type AccessLogEvidence, type FollowResult, type RequestEvidence, type TargetOfRequest } from '../../src/follow/index.js';
import { followInClient } from './lab-follow.js';
import { isRoot, useLab } from '../helpers/lab.js';

const SKIP = isRoot ? false : 'needs root (network namespaces): run as root, as CI does';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ftt-alblog-lab-'));

useLab();
after(() => { fs.rmSync(tmp, { recursive: true, force: true }); });

/** 100 requests from the client, alternating the two nodes, each with its own trace id: what each one was and what answered. */
const SCRIPT = `
import http from 'node:http';
const out = [];
const epoch = Math.floor(Date.now() / 1000).toString(16).padStart(8, '0');
for (let i = 0; i < 100; i++) {
  const address = i % 2 ? ${JSON.stringify(LAB.albB.public)} : ${JSON.stringify(LAB.albA.public)};
  const root = '1-' + epoch + '-' + (0xa1b0000 + i).toString(16).padStart(24, '0');
  const sentAt = Date.now();
  const r = await new Promise((resolve) => {
    const req = http.get({ host: address, port: 80, path: '/', agent: false, headers: { Host: ${JSON.stringify(LAB.domain)}, 'X-Amzn-Trace-Id': 'Root=' + root } }, (res) => {
      let body = '';
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode, instance: JSON.parse(body).instance, local: req.socket.localPort }));
    });
    req.on('error', (e) => resolve({ status: 0, error: e.message }));
  });
  out.push({ address, root, sentAt, ...r });
}
process.stdout.write(JSON.stringify(out));
`;

interface Sent { address: string; root: string; sentAt: number; status: number; instance: string; local: number }

test('a run of 100: every request joined to its own access-log line (client port, node, the target that answered)', { skip: SKIP }, async () => {
  const r = await labExec('client', [process.execPath, '--input-type=module', '-e', SCRIPT], { timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  const sent = JSON.parse(r.stdout) as Sent[];
  assert.equal(sent.length, 100);
  assert.ok(sent.every((q) => q.status === 200), 'all answered');
  assert.ok(new Set(sent.map((q) => q.instance)).size === 2, 'both targets served some');
  // As follow reads them: its request evidence, then the scan of the log folder and the join.
  const requests = sent.map((q) => ({ address: q.address, traceId: q.root, sentAt: q.sentAt }) as RequestEvidence);
  const scan = await scanAccessLogs(LAB.accessLogDir, { roots: new Set(sent.map((q) => q.root)), sentAtMs: sent.map((q) => q.sentAt) });
  const log = accessLogEvidence(scan, requests);
  const nodeOf = (address: string): string => (address === LAB.albA.public ? 'alb-a' : 'alb-b');
  for (const [i, q] of sent.entries()) {
    const e = log.requests[i]!;
    assert.equal(e.status, 'found', `request ${i} (${q.root})`);
    assert.equal(e.record!.client, `${LAB.client}:${q.local}`, `request ${i}: its own line (the client's port)`);
    assert.equal(e.node, nodeOf(q.address), `request ${i}: the node it went through`);
    assert.equal(e.record!.target, `${LAB.targets.find((t) => t.name === q.instance)!.ens5}:80`, `request ${i}: the target that answered`);
    assert.equal(e.record!.elbStatusCode, 200);
    assert.equal(e.record!.targetStatusCode, 200);
  }

  // The same lines as ELB delivers them: a gzip file per node and 5-minute interval, the node's address in its name.
  const elbDir = path.join(tmp, 'bucket');
  const byKey = new Map<string, string[]>();
  for (const rec of readAccessLog()) {
    const t = accessLogMs(rec.time)!;
    const key = logFileKey({ prefix: 'lab', account: '123456789012', region: LAB.region, loadBalancer: rec.elb, intervalEndMs: t, nodeAddress: rec.node === 'alb-a' ? LAB.albA.public : LAB.albB.public, random: rec.node.replace('-', '') });
    byKey.set(key, [...(byKey.get(key) ?? []), formatAccessLogLine(rec)]);
  }
  for (const [key, lines] of byKey) {
    fs.mkdirSync(path.dirname(path.join(elbDir, key)), { recursive: true });
    fs.writeFileSync(path.join(elbDir, key), zlib.gzipSync(lines.join('\n') + '\n'));
  }
  const gz = accessLogEvidence(await scanAccessLogs(elbDir, { roots: new Set(sent.map((q) => q.root)), sentAtMs: sent.map((q) => q.sentAt) }), requests);
  for (const [i, q] of sent.entries()) {
    assert.equal(gz.requests[i]!.status, 'found');
    assert.equal(gz.requests[i]!.node, q.address, 'the node, from the file name');
    assert.equal(gz.requests[i]!.record!.client, `${LAB.client}:${q.local}`);
  }
});

test('follow --alb-log: the load balancer\'s row and result carry each request\'s line and the target that served it', { skip: SKIP }, async () => {
  const run = await followInClient();
  assert.equal(run.code, 0, run.result?.verdict.headline ?? run.stderr);
  const res: FollowResult = run.result!;
  assert.equal(res.loadBalancer.accessLog?.status, 'ok');
  for (const q of res.requests) {
    const e: AccessLogEvidence = res.loadBalancer.accessLog!.requests.find((x) => x.traceRoot === q.traceId)!;
    assert.equal(e.status, 'found');
    assert.equal(e.record!.client, q.localAddress, 'the line of this request (its client address and port)');
    const served: TargetOfRequest = res.loadBalancer.requests.find((x) => x.traceRoot === q.traceId)!;
    assert.equal(served.from, 'access-log');
    assert.equal(served.target, e.record!.target);
    assert.equal(served.crossZone, served.nodeZone !== served.targetZone);
  }
  const lbRow = res.verdict.rows.find((x) => x.layer === 'loadBalancer')!;
  assert.match(lbRow.summary, /alb-a \([^)]*\) 200 → ec2-[ab] \(172\.31\.\d+\.20:80, zone [ab]\)/);
  assert.ok(lbRow.evidence.some((l) => /elb 200, target 172\.31\.\d+\.20:80 status 200, error_reason -, processing [\d.]+ \/ [\d.]+ \/ [\d.]+ s/.test(l)), lbRow.evidence.join('\n'));
});
