/**
 * The resolver against answers recorded from a real dnsmasq (test/data/dns, made by
 * test/data/dns/record.ts), replayed through the DnsTransport seam: no sockets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import dnsPacket from 'dns-packet';
import fc from 'fast-check';
import { resolve, TransportFailure } from '../../src/dns/index.js';
import type { DnsServer, DnsTransport } from '../../src/dns/index.js';

const dataDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'data', 'dns');
const server = '10.10.53.53';

type Script = Record<string, string | TransportFailure>;
interface Call { proto: 'udp' | 'tcp'; server: DnsServer; name: string; type: string }

/** Replays recorded answers keyed `<name>-<type>-<proto>`, with the query's ID put in. */
function scripted(script: Script): DnsTransport & { calls: Call[] } {
  const calls: Call[] = [];
  const exchange = (proto: 'udp' | 'tcp') => async (s: DnsServer, query: Uint8Array, _timeoutMs: number, accept: (m: Uint8Array) => boolean): Promise<Uint8Array> => {
    const q = dnsPacket.decode(Buffer.from(query));
    const question = q.questions![0];
    calls.push({ proto, server: s, name: question.name, type: question.type });
    const entry = script[`${question.name}-${question.type}-${proto}`];
    if (entry === undefined) throw new TransportFailure('timeout', `no script for ${question.name} ${question.type} ${proto}`);
    if (entry instanceof TransportFailure) throw entry;
    const bytes = Buffer.from(readFileSync(path.join(dataDir, entry)));
    bytes.writeUInt16BE(q.id!, 0);
    assert.ok(accept(bytes), 'a recorded answer to this question must be accepted');
    return bytes;
  };
  return { calls, udp: exchange('udp'), tcp: exchange('tcp') };
}

test('two A records, AAAA empty: ok, both addresses, private, AAAA noted as NODATA', async () => {
  const transport = scripted({ 'app.test-A-udp': 'app.test-A-udp.bin', 'app.test-AAAA-udp': 'app.test-AAAA-udp.bin' });
  const r = await resolve('app.test', { server, transport });
  assert.equal(r.status, 'ok');
  assert.equal(r.failureSource, null);
  assert.equal(r.rcode, 'NOERROR');
  assert.deepEqual(r.addresses, ['10.20.1.10', '10.20.2.10']);
  assert.deepEqual(r.classification.map((c) => c.kind), ['private', 'private']);
  assert.equal(r.queries.find((q) => q.type === 'AAAA')?.status, 'nodata');
  assert.equal(r.flags?.aa, true);
  assert.deepEqual(r.server, { address: server, port: 53 });
  assert.equal(r.transport, 'udp');
  assert.ok(r.notes.some((n) => /2 IPv4 addresses/.test(n)));
  assert.ok(r.elapsedMs >= 0);
});

test('CNAME chain to an ELB name: the chain, the load balancer and its region, several nodes', async () => {
  const transport = scripted({ 'www.test-A-udp': 'www.test-A-udp.bin', 'www.test-AAAA-udp': 'www.test-AAAA-udp.bin' });
  const r = await resolve('www.test', { server, transport });
  assert.equal(r.status, 'ok');
  assert.deepEqual(r.cnameChain, ['www.test', 'my-alb-1234567890.us-east-1.elb.amazonaws.com']);
  assert.equal(r.loadBalancer?.provider, 'AWS');
  assert.equal(r.loadBalancer?.region, 'us-east-1');
  assert.match(r.loadBalancer!.product, /Application/);
  assert.equal(r.addresses.length, 2);
  assert.ok(r.notes.some((n) => /several load-balancer nodes/.test(n)), r.notes.join('\n'));
  // the CNAME appears once although both queries returned it
  assert.equal(r.answers.filter((a) => a.type === 'CNAME').length, 1);
});

test('NXDOMAIN: status nxdomain, blamed on the target, with a hint', async () => {
  const transport = scripted({ 'nope.test-A-udp': 'nope.test-A-udp.bin', 'nope.test-AAAA-udp': 'nope.test-AAAA-udp.bin' });
  const r = await resolve('nope.test', { server, transport });
  assert.equal(r.status, 'nxdomain');
  assert.equal(r.failureSource, 'target');
  assert.equal(r.rcode, 'NXDOMAIN');
  assert.equal(r.error?.code, 'DNS_NXDOMAIN');
  assert.match(r.error!.message, /no such domain/);
  assert.match(r.error!.hint, /spelling/);
  assert.deepEqual(r.addresses, []);
});

test('NODATA: the name exists without records of the asked type', async () => {
  const transport = scripted({ 'app.test-AAAA-udp': 'app.test-AAAA-udp.bin' });
  const r = await resolve('app.test', { server, transport, types: ['AAAA'] });
  assert.equal(r.status, 'nodata');
  assert.equal(r.failureSource, 'target');
  assert.equal(r.rcode, 'NOERROR');
  assert.equal(r.error?.code, 'DNS_NODATA');
});

test('NODATA through a CNAME: names the end of the chain', async () => {
  const transport = scripted({ 'www.test-AAAA-udp': 'www.test-AAAA-udp.bin' });
  const r = await resolve('www.test', { server, transport, types: ['AAAA'] });
  assert.equal(r.status, 'nodata');
  assert.match(r.error!.message, /www\.test → my-alb-1234567890\.us-east-1\.elb\.amazonaws\.com: no AAAA record/);
});

test('SERVFAIL relayed by dnsmasq: blamed on the resolver', async () => {
  const transport = scripted({ 'www.fail.example-A-udp': 'www.fail.example-A-udp.bin' });
  const r = await resolve('www.fail.example', { server, transport, types: ['A'] });
  assert.equal(r.status, 'servfail');
  assert.equal(r.failureSource, 'resolver');
  assert.equal(r.error?.code, 'DNS_SERVFAIL');
});

test('REFUSED: blamed on the resolver, with its own hint', async () => {
  const transport = scripted({ 'other.example-A-udp': 'other.example-A-udp.bin' });
  const r = await resolve('other.example', { server, transport, types: ['A'] });
  assert.equal(r.status, 'refused');
  assert.equal(r.failureSource, 'resolver');
  assert.match(r.error!.hint, /refuses/);
});

test('truncated UDP answer (TC=1) is repeated over TCP to the same server', async () => {
  const transport = scripted({ 'big.test-A-udp': 'big.test-A-udp.bin', 'big.test-A-tcp': 'big.test-A-tcp.bin' });
  const r = await resolve('big.test', { server, transport, types: ['A'] });
  assert.equal(r.status, 'ok');
  assert.equal(r.addresses.length, 60);
  assert.equal(r.transport, 'tcp');
  assert.equal(r.queries[0].retriedOverTcp, true);
  assert.deepEqual(transport.calls.map((c) => c.proto), ['udp', 'tcp']);
  assert.ok(r.notes.some((n) => /truncated/.test(n)));
});

test('truncated answer and a failing TCP retry: the partial UDP answer is kept and said', async () => {
  const transport = scripted({ 'big.test-A-udp': 'big.test-A-udp.bin', 'big.test-A-tcp': new TransportFailure('unreachable', 'tcp refused', 'ECONNREFUSED') });
  const r = await resolve('big.test', { server, transport, types: ['A'] });
  assert.equal(r.status, 'ok');
  assert.equal(r.addresses.length, 30);
  assert.equal(r.transport, 'udp');
  assert.ok(r.notes.some((n) => /TCP retry failed/.test(n)), r.notes.join('\n'));
});

test('--tcp sends over TCP from the start', async () => {
  const transport = scripted({ 'big.test-A-tcp': 'big.test-A-tcp.bin' });
  const r = await resolve('big.test', { server, transport, types: ['A'], tcp: true });
  assert.equal(r.status, 'ok');
  assert.deepEqual(transport.calls.map((c) => c.proto), ['tcp']);
});

test('timeout: every attempt tried, then status timeout with the count', async () => {
  const transport = scripted({});
  const r = await resolve('app.test', { server, transport, types: ['A'], retries: 2, timeoutMs: 50 });
  assert.equal(r.status, 'timeout');
  assert.equal(r.failureSource, 'resolver');
  assert.equal(r.queries[0].attempts, 3);
  assert.equal(transport.calls.length, 3);
  assert.match(r.error!.message, /3 tries/);
});

test('unreachable resolver (ECONNREFUSED): not retried, told apart from a timeout', async () => {
  const transport = scripted({ 'app.test-A-udp': new TransportFailure('unreachable', 'refused', 'ECONNREFUSED') });
  const r = await resolve('app.test', { server, transport, types: ['A'], retries: 3 });
  assert.equal(r.status, 'unreachable');
  assert.equal(r.failureSource, 'resolver');
  assert.equal(transport.calls.length, 1);
  assert.match(r.error!.message, /ICMP port unreachable/);
});

test('the second nameserver answers when the first is unreachable (resolv.conf order)', async () => {
  const calls: string[] = [];
  const inner = scripted({ 'app.test-A-udp': 'app.test-A-udp.bin' });
  const transport: DnsTransport = {
    udp: async (s, q, t, a) => {
      calls.push(s.address);
      if (s.address === '10.0.0.1') throw new TransportFailure('unreachable', 'refused', 'ECONNREFUSED');
      return inner.udp(s, q, t, a);
    },
    tcp: inner.tcp,
  };
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(path.join(tmpdir(), 'fttdns-'));
  try {
    const conf = path.join(dir, 'resolv.conf');
    writeFileSync(conf, 'nameserver 10.0.0.1\nnameserver 10.0.0.2\noptions timeout:1 attempts:3\n');
    const r = await resolve('app.test', { transport, types: ['A'], resolvConfPath: conf });
    assert.equal(r.status, 'ok');
    assert.deepEqual(r.server, { address: '10.0.0.2', port: 53 });
    assert.deepEqual(calls, ['10.0.0.1', '10.0.0.2']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an answer with another ID or question is ignored by accept()', async () => {
  const bytes = Buffer.from(readFileSync(path.join(dataDir, 'app.test-A-udp.bin')));
  let accepted: boolean[] = [];
  const transport: DnsTransport = {
    udp: async (_s, query, _t, accept) => {
      const id = (query[0] << 8) | query[1];
      const wrongId = Buffer.from(bytes); wrongId.writeUInt16BE((id + 1) & 0xffff, 0);
      const right = Buffer.from(bytes); right.writeUInt16BE(id, 0);
      accepted = [accept(wrongId), accept(right)];
      return right;
    },
    tcp: async () => { throw new TransportFailure('timeout', 'unused'); },
  };
  const r = await resolve('app.test', { server, transport, types: ['A'] });
  assert.deepEqual(accepted, [false, true]);
  assert.equal(r.status, 'ok');
  // a question for another name is not ours either
  const r2 = await resolve('other.test', { server, transport, types: ['A'] });
  assert.deepEqual(accepted, [false, false]);
  assert.equal(r2.status, 'ok'); // the scripted transport returned it anyway; the real one keeps waiting
});

test('a malformed answer with our ID: status error, not a hang', async () => {
  const transport: DnsTransport = {
    udp: async (_s, query, _t, accept) => {
      const junk = Buffer.from([query[0], query[1], 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 0xc0]);
      assert.ok(accept(junk));
      return junk;
    },
    tcp: async () => { throw new TransportFailure('timeout', 'unused'); },
  };
  const r = await resolve('app.test', { server, transport, types: ['A'] });
  assert.equal(r.status, 'error');
  assert.equal(r.failureSource, 'resolver');
  assert.match(r.error!.message, /malformed/);
});

test('property: hostile answers (random bytes after our ID) never throw and never hang', async () => {
  await fc.assert(fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 300 }), async (tail) => {
    const transport: DnsTransport = {
      udp: async (_s, query, _t, accept) => {
        const bytes = new Uint8Array(2 + tail.length);
        bytes[0] = query[0]; bytes[1] = query[1];
        bytes.set(tail, 2);
        if (!accept(bytes)) throw new TransportFailure('timeout', 'not ours');
        return bytes;
      },
      tcp: async () => { throw new TransportFailure('timeout', 'no tcp'); },
    };
    const r = await resolve('app.test', { server, transport, types: ['A'], retries: 0 });
    assert.ok(['ok', 'nxdomain', 'nodata', 'servfail', 'refused', 'timeout', 'error'].includes(r.status), r.status);
    assert.equal(typeof JSON.stringify(r), 'string');
  }), { numRuns: 300 });
});

test('property: answers built with dns-packet for any A records come back as those addresses', async () => {
  await fc.assert(fc.asyncProperty(fc.uniqueArray(fc.ipV4(), { minLength: 1, maxLength: 20 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }), async (addresses, ttl) => {
    const transport: DnsTransport = {
      udp: async (_s, query) => {
        const q = dnsPacket.decode(Buffer.from(query));
        return dnsPacket.encode({ type: 'response', id: q.id, flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE, questions: q.questions,
          answers: addresses.map((data) => ({ type: 'A' as const, name: 'app.test', ttl, data })) });
      },
      tcp: async () => { throw new TransportFailure('timeout', 'no tcp'); },
    };
    const r = await resolve('app.test', { server, transport, types: ['A'] });
    assert.equal(r.status, 'ok');
    assert.deepEqual(r.addresses, addresses);
    assert.ok(r.answers.every((a) => a.ttl === ttl));
  }), { numRuns: 100 });
});

test('one server unreachable, the other silent: timeout (not unreachable), both named', async () => {
  const transport: DnsTransport = {
    udp: async (s) => {
      if (s.address === '10.0.0.1') throw new TransportFailure('unreachable', 'refused', 'ECONNREFUSED');
      throw new TransportFailure('timeout', 'silent');
    },
    tcp: async () => { throw new TransportFailure('timeout', 'unused'); },
  };
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(path.join(tmpdir(), 'fttdns-'));
  try {
    const conf = path.join(dir, 'resolv.conf');
    writeFileSync(conf, 'nameserver 10.0.0.1\nnameserver 10.0.0.2\noptions timeout:1 attempts:2\n');
    const r = await resolve('app.test', { transport, types: ['A'], resolvConfPath: conf });
    assert.equal(r.status, 'timeout');
    assert.equal(r.queries[0].attempts, 3, 'the unreachable server is not asked again in round 2');
    assert.match(r.error!.message, /10\.0\.0\.1#53, 10\.0\.0\.2#53/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
