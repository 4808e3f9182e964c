/**
 * `flowtrace dns` from the lab's client node against the lab's dnsmasq: both ALB addresses
 * found, and NXDOMAIN (dns-nxdomain), timeout (dns-drop) and unreachable resolver
 * (dns-down) told apart. As root only; the lab is ours for the duration (see lab-session.ts).
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { LAB, injectFault, healFault } from '../../src/lab/index.js';
import { EXIT } from '../../src/errors.js';
import type { DnsResult } from '../../src/dns/index.js';
import { LAB_SKIP, flowtraceInClient, releaseLab, takeLab } from './lab-session.js';

async function withFault(name: string, fn: () => Promise<void>): Promise<void> {
  await injectFault(name);
  try {
    await fn();
  } finally {
    await healFault(name);
  }
}

describe('flowtrace dns in the lab (root)', { skip: LAB_SKIP }, () => {
  before(async () => { await takeLab(); });
  after(async () => { await releaseLab(); });

  test('both ALB addresses, from the resolver in the client\'s resolv.conf', async () => {
    const r = await flowtraceInClient<DnsResult>(['dns', LAB.domain, '--json']);
    assert.equal(r.code, EXIT.ok, r.stderr);
    const d = r.json!;
    assert.equal(d.status, 'ok');
    assert.deepEqual([...d.addresses].sort(), [LAB.albA.public, LAB.albB.public].sort());
    assert.deepEqual(d.server, { address: LAB.dnsServer, port: 53 });
    assert.equal(d.transport, 'udp');
    assert.ok(d.answers.every((a) => a.ttl > 0 && a.ttl <= LAB.dnsTtlSeconds));
    assert.ok(d.notes.some((n) => /2 IPv4 addresses/.test(n)));
  });

  test('the text a dig user reads: answers with TTL, status, server, time', async () => {
    const r = await flowtraceInClient<DnsResult>(['dns', LAB.domain, '--type', 'A']);
    assert.equal(r.code, EXIT.ok, r.stderr);
    assert.match(r.stdout, new RegExp(`^seqas\\.online\\.\\s+\\d+\\s+IN\\s+A\\s+${LAB.albA.public.replace(/\./g, '\\.')}$`, 'm'));
    assert.match(r.stdout, /^status: NOERROR$/m);
    assert.match(r.stdout, new RegExp(`^server: ${LAB.dnsServer.replace(/\./g, '\\.')}#53 \\(udp\\)$`, 'm'));
    assert.match(r.stdout, /^time: [\d.]+ ms$/m);
  });

  test('over TCP too (--tcp)', async () => {
    const r = await flowtraceInClient<DnsResult>(['dns', LAB.domain, '--tcp', '--json']);
    assert.equal(r.code, EXIT.ok, r.stderr);
    assert.equal(r.json!.transport, 'tcp');
    assert.equal(r.json!.addresses.length, 2);
  });

  test('dns-nxdomain: NXDOMAIN from the resolver, blamed on the name', () => withFault('dns-nxdomain', async () => {
    const r = await flowtraceInClient<DnsResult>(['dns', LAB.domain, '--json']);
    assert.equal(r.code, EXIT.network);
    assert.equal(r.json!.status, 'nxdomain');
    assert.equal(r.json!.failureSource, 'target');
    assert.equal(r.json!.rcode, 'NXDOMAIN');
    assert.match(r.stderr, /^error\[DNS_NXDOMAIN\]: seqas\.online: no such domain/);
  }));

  test('dns-drop: a timeout after every try, blamed on the resolver', () => withFault('dns-drop', async () => {
    const r = await flowtraceInClient<DnsResult>(['dns', LAB.domain, '--timeout', '0.4', '--retries', '1', '--json']);
    assert.equal(r.code, EXIT.network);
    assert.equal(r.json!.status, 'timeout');
    assert.equal(r.json!.failureSource, 'resolver');
    assert.equal(r.json!.queries[0].attempts, 2);
    assert.match(r.stderr, /^error\[DNS_TIMEOUT\]: no answer for seqas\.online A from 10\.10\.53\.53#53 \(2 tries/);
  }));

  test('dns-down: unreachable (port unreachable), told apart from the timeout', () => withFault('dns-down', async () => {
    const r = await flowtraceInClient<DnsResult>(['dns', LAB.domain, '--timeout', '5', '--json']);
    assert.equal(r.code, EXIT.network);
    assert.equal(r.json!.status, 'unreachable');
    assert.ok(r.json!.elapsedMs < 5000, `answered by ICMP before the timeout (${r.json!.elapsedMs} ms)`);
    assert.match(r.stderr, /^error\[DNS_UNREACHABLE\]: resolver 10\.10\.53\.53#53 unreachable: ECONNREFUSED/);
  }));
});
