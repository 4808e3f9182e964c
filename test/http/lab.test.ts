/**
 * `flowtrace http` from the lab's client node through the ALB nodes to the container app:
 * HTTP and HTTPS 200 with every phase, through each ALB address, the trace id found in the
 * ALB access log, the lab CA needed for HTTPS, 502 (app-down) and 504 (app-slow), connect
 * failures on the route, and the fallback to the next address when the first is dead. As
 * root only; the lab is ours for the duration.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { LAB, injectFault, healFault, readAccessLog } from '../../src/lab/index.js';
import { EXIT } from '../../src/errors.js';
import type { HttpResult } from '../../src/http/index.js';
import { LAB_SKIP, flowtraceInClient, releaseLab, takeLab } from '../dns/lab-session.js';

async function withFault(name: string, fn: () => Promise<void>): Promise<void> {
  await injectFault(name);
  try {
    await fn();
  } finally {
    await healFault(name);
  }
}

function assertAllPhases(r: HttpResult, https: boolean): void {
  const t = r.timings;
  const marks = [t.namelookupMs, t.connectMs, ...(https ? [t.appconnectMs] : []), t.pretransferMs, t.starttransferMs, t.totalMs];
  for (const m of marks) assert.equal(typeof m, 'number', JSON.stringify(t));
  for (let i = 1; i < marks.length; i++) assert.ok(marks[i]! >= marks[i - 1]!, JSON.stringify(t));
  if (!https) assert.equal(t.appconnectMs, null);
}

describe('flowtrace http in the lab (root)', { skip: LAB_SKIP }, () => {
  before(async () => { await takeLab(); });
  after(async () => { await releaseLab(); });

  test('HTTP 200 through DNS, every phase, the trace id reaches the ALB access log', async () => {
    const r = await flowtraceInClient<HttpResult>(['http', `http://${LAB.domain}/`, '--json']);
    assert.equal(r.code, EXIT.ok, r.stderr);
    const h = r.json!;
    assert.equal(h.statusCode, 200);
    assert.equal(h.resolvedBy, 'dns');
    assert.deepEqual([...h.addresses].sort(), [LAB.albA.public, LAB.albB.public].sort());
    assert.ok(([LAB.albA.public, LAB.albB.public] as string[]).includes(h.remote!.address));
    assert.equal(h.remote!.port, 80);
    assert.equal(h.local!.address, LAB.client);
    assertAllPhases(h, false);
    const root = h.traceId.slice('Root='.length);
    const logged = readAccessLog().filter((l) => l.traceId?.includes(root));
    assert.equal(logged.length, 1, `one access-log line for ${root}`);
    assert.equal(logged[0].elbStatusCode, 200);
  });

  test('HTTPS 200 with the lab CA: TLS details and the appconnect phase', async () => {
    const r = await flowtraceInClient<HttpResult>(['http', `https://${LAB.domain}/`, '--cacert', LAB.caFile, '--json']);
    assert.equal(r.code, EXIT.ok, r.stderr);
    const h = r.json!;
    assert.equal(h.statusCode, 200);
    assert.equal(h.tls?.authorized, true);
    assert.ok(h.tls?.subjectAltNames.some((n) => n.includes(LAB.domain)));
    assertAllPhases(h, true);
  });

  test('HTTPS without the lab CA: TLS_UNKNOWN_CA pointing at --cacert', async () => {
    const r = await flowtraceInClient<HttpResult>(['http', `https://${LAB.domain}/`, '--json']);
    assert.equal(r.code, EXIT.network);
    assert.equal(r.json!.error?.code, 'TLS_UNKNOWN_CA');
    assert.match(r.stderr, /hint: .*--cacert/);
  });

  test('each ALB node answers 200 when pinned with --resolve', async () => {
    for (const address of [LAB.albA.public, LAB.albB.public]) {
      const r = await flowtraceInClient<HttpResult>(['http', `http://${LAB.domain}/`, '--resolve', `${LAB.domain}:80:${address}`, '--json']);
      assert.equal(r.code, EXIT.ok, r.stderr);
      assert.equal(r.json!.remote?.address, address);
      assert.equal(r.json!.resolvedBy, 'resolve-option');
    }
  });

  test('a dead first address (the client itself: refused) → the next, an ALB node, answers; one request in its access log', async () => {
    const r = await flowtraceInClient<HttpResult>(['http', `http://${LAB.domain}/`, '--resolve', `${LAB.domain}:80:${LAB.client},${LAB.albB.public}`, '--json']);
    assert.equal(r.code, EXIT.ok, r.stderr);
    const h = r.json!;
    assert.deepEqual(h.connectAttempts.map((a) => [a.address, a.outcome]), [[LAB.client, 'refused'], [LAB.albB.public, 'connected']]);
    assert.equal(h.remote?.address, LAB.albB.public);
    assert.equal(h.statusCode, 200);
    const root = h.traceId.slice('Root='.length);
    assert.equal(readAccessLog().filter((l) => l.traceId?.includes(root)).length, 1);
  });

  test('text output: status line, trace id, address used, the phase table', async () => {
    const r = await flowtraceInClient<HttpResult>(['http', `https://${LAB.domain}/`, '--cacert', LAB.caFile]);
    assert.equal(r.code, EXIT.ok, r.stderr);
    assert.match(r.stdout, /^HTTP\/1\.1 200 /m);
    assert.match(r.stdout, /^trace id: Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/m);
    assert.match(r.stdout, /^connected: 10\.10\.1\.2:\d+ → 10\.77\.[12]\.10:443 \(from DNS\)$/m);
    for (const v of ['time_namelookup', 'time_connect', 'time_appconnect', 'time_pretransfer', 'time_starttransfer', 'time_total']) assert.match(r.stdout, new RegExp(`^${v} `, 'm'));
  });

  test('app-down: the ALB answers 502, exit 1', () => withFault('app-down', async () => {
    const r = await flowtraceInClient<HttpResult>(['http', `http://${LAB.domain}/`, '--json']);
    assert.equal(r.code, EXIT.failed, r.stderr);
    assert.equal(r.json!.status, 'ok');
    assert.equal(r.json!.statusCode, 502);
  }));

  test('app-slow: the ALB answers 504 after its target timeout; the wait is in first_byte', () => withFault('app-slow', async () => {
    const r = await flowtraceInClient<HttpResult>(['http', `http://${LAB.domain}/`, '--timeout', '15', '--json']);
    assert.equal(r.code, EXIT.failed, r.stderr);
    const h = r.json!;
    assert.equal(h.statusCode, 504);
    assert.ok(h.phases.waitMs! >= LAB.albTargetTimeoutMs * 0.9, `waited ${h.phases.waitMs} ms for the first byte`);
  }));

  test('route-blackhole: connect timeout; route-reject: unreachable at once', async () => {
    await withFault('route-blackhole', async () => {
      const r = await flowtraceInClient<HttpResult>(['http', `http://${LAB.domain}/`, '--timeout', '1', '--json']);
      assert.equal(r.code, EXIT.network);
      assert.equal(r.json!.error?.code, 'HTTP_TIMEOUT');
      assert.equal(r.json!.error?.phase, 'connect');
    });
    await withFault('route-reject', async () => {
      const r = await flowtraceInClient<HttpResult>(['http', `http://${LAB.domain}/`, '--timeout', '5', '--json']);
      assert.equal(r.code, EXIT.network);
      assert.equal(r.json!.error?.code, 'HTTP_UNREACHABLE');
      assert.equal(r.json!.error?.phase, 'connect');
      assert.ok(r.json!.timings.totalMs < 5000);
    });
  });
});
