/**
 * The resolver and `flowtrace dns` over real sockets on loopback: a scriptable server made
 * with dns-packet (drops, spoofed IDs, truncation), a closed port, and a real dnsmasq.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from '../../src/dns/index.js';
import { main } from '../../src/cli/main.js';
import { memoryIO } from '../../src/cli/io.js';
import { EXIT } from '../../src/errors.js';
import { startDnsmasq, startTinyServer } from './servers.js';
import type { Dnsmasq, TinyServer } from './servers.js';

let tiny: TinyServer;
let dnsmasq: Dnsmasq;

before(async () => {
  tiny = await startTinyServer((q) => {
    const name = q.questions![0].name;
    const a = (data: string) => ({ type: 'A' as const, name, ttl: 30, data });
    if (name === 'slow.test') return { kind: 'drop' };
    if (name === 'spoofed.test') return { kind: 'spoof-then-answer', answers: [a('10.1.1.1')] };
    if (name === 'big.test') return { kind: 'truncate-udp', answers: [a('10.2.2.2'), a('10.2.2.3')] };
    if (q.questions![0].type !== 'A') return { kind: 'answer', answers: [] };
    return { kind: 'answer', answers: [a('10.0.0.7')] };
  });
  dnsmasq = await startDnsmasq([
    '--host-record=app.test,10.20.1.10', '--host-record=app.test,10.20.2.10', '--host-record=app.test,fd00::10',
    '--cname=seqas.test,web-alb-42.eu-central-1.elb.amazonaws.com',
    '--host-record=web-alb-42.eu-central-1.elb.amazonaws.com,10.20.1.10',
    '--host-record=web-alb-42.eu-central-1.elb.amazonaws.com,10.20.2.10',
    '--txt-record=app.test,v=spf1 -all', '--mx-host=app.test,mail.app.test,10',
  ]);
});

after(async () => {
  await tiny?.stop();
  await dnsmasq?.stop();
});

test('udp answer from the scriptable server, with the server and a monotonic time', async () => {
  const r = await resolve('ok.test', { server: `127.0.0.1:${tiny.port}`, types: ['A'] });
  assert.equal(r.status, 'ok');
  assert.deepEqual(r.addresses, ['10.0.0.7']);
  assert.deepEqual(r.server, { address: '127.0.0.1', port: tiny.port });
  assert.equal(r.answers[0].ttl, 30);
  assert.ok(r.elapsedMs > 0);
});

test('a spoofed answer with another ID is ignored; the real one is used', async () => {
  const r = await resolve('spoofed.test', { server: `127.0.0.1:${tiny.port}`, types: ['A'] });
  assert.equal(r.status, 'ok');
  assert.deepEqual(r.addresses, ['10.1.1.1']);
});

test('TC=1 over UDP: the same query goes over TCP and the full answer is used', async () => {
  const before = tiny.tcpQueries;
  const r = await resolve('big.test', { server: `127.0.0.1:${tiny.port}`, types: ['A'] });
  assert.equal(r.status, 'ok');
  assert.equal(r.transport, 'tcp');
  assert.deepEqual(r.addresses, ['10.2.2.2', '10.2.2.3']);
  assert.equal(tiny.tcpQueries, before + 1);
});

test('a server that never answers: timeout after the retries', async () => {
  const before = tiny.udpQueries;
  const r = await resolve('slow.test', { server: `127.0.0.1:${tiny.port}`, types: ['A'], timeoutMs: 150, retries: 1 });
  assert.equal(r.status, 'timeout');
  assert.equal(tiny.udpQueries - before, 2);
});

test('a closed port: unreachable (ICMP port unreachable → ECONNREFUSED), not a timeout', async () => {
  const r = await resolve('ok.test', { server: '127.0.0.1:1', types: ['A'], timeoutMs: 2000 });
  assert.equal(r.status, 'unreachable');
  assert.ok(r.elapsedMs < 2000, 'told apart before the timeout');
  assert.match(r.error!.message, /ECONNREFUSED/);
});

test('dnsmasq: A and AAAA, several addresses, ULA classified private', async () => {
  const r = await resolve('app.test', { server: dnsmasq.server });
  assert.equal(r.status, 'ok');
  assert.deepEqual(r.addresses, ['10.20.1.10', '10.20.2.10', 'fd00::10']);
  assert.equal(r.classification.find((c) => c.address === 'fd00::10')?.kind, 'private');
  assert.equal(r.flags?.aa, true);
});

test('dnsmasq: CNAME to an ELB name over TCP', async () => {
  const r = await resolve('seqas.test', { server: dnsmasq.server, types: ['A'], tcp: true });
  assert.equal(r.status, 'ok');
  assert.equal(r.transport, 'tcp');
  assert.deepEqual(r.cnameChain, ['seqas.test', 'web-alb-42.eu-central-1.elb.amazonaws.com']);
  assert.equal(r.loadBalancer?.region, 'eu-central-1');
});

test('flowtrace dns: dig-like text, exit 0', async () => {
  const io = memoryIO();
  const code = await main(['dns', 'seqas.test', '--server', dnsmasq.server], io);
  const out = io.out.join('');
  assert.equal(code, EXIT.ok, io.err.join(''));
  assert.match(out, /^seqas\.test\.\s+\d+\s+IN\s+CNAME\s+web-alb-42\.eu-central-1\.elb\.amazonaws\.com\.$/m);
  assert.match(out, /^web-alb-42\.eu-central-1\.elb\.amazonaws\.com\.\s+\d+\s+IN\s+A\s+10\.20\.1\.10$/m);
  assert.match(out, new RegExp(`^server: ${dnsmasq.server.replace(':', '#').replace(/\./g, '\\.')} \\(udp\\)$`, 'm'));
  assert.match(out, /^time: [\d.]+ ms/m);
  assert.match(out, /^cname chain: seqas\.test → web-alb-42/m);
  assert.match(out, /10\.20\.1\.10\s+private\s+10\.0\.0\.0\/8/);
  assert.match(out, /several load-balancer nodes/);
});

test('flowtrace dns --type MX,TXT', async () => {
  const io = memoryIO();
  assert.equal(await main(['dns', 'app.test', '--server', dnsmasq.server, '--type', 'MX,TXT'], io), EXIT.ok);
  const out = io.out.join('');
  assert.match(out, /IN\s+MX\s+10 mail\.app\.test\.$/m);
  assert.match(out, /IN\s+TXT\s+"v=spf1 -all"$/m);
});

test('flowtrace dns: NXDOMAIN → exit 6, one-line error with hint, status in the text', async () => {
  const io = memoryIO();
  const code = await main(['dns', 'nope.test', '--server', dnsmasq.server], io);
  assert.equal(code, EXIT.network);
  assert.match(io.out.join(''), /^status: NXDOMAIN/m);
  assert.match(io.err.join(''), /^error\[DNS_NXDOMAIN\]: nope\.test: no such domain .*\nhint: .+\n$/);
});

test('flowtrace dns --json: the result object, status refused for a name dnsmasq does not serve', async () => {
  const io = memoryIO();
  const code = await main(['dns', 'other.example', '--server', dnsmasq.server, '--json'], io);
  assert.equal(code, EXIT.network);
  const r = JSON.parse(io.out.join(''));
  assert.equal(r.status, 'refused');
  assert.equal(r.failureSource, 'resolver');
  assert.match(io.err.join(''), /^error\[DNS_REFUSED\]/);
});

test('flowtrace dns: bad input is a usage error, never a stack trace', async () => {
  for (const args of [['dns'], ['dns', 'a.test', '--type', 'BOGUS'], ['dns', 'a.test', '--server', 'dns.google'], ['dns', 'a.test', '--timeout', '-1'], ['dns', 'a.test', '--frob']]) {
    const io = memoryIO();
    assert.equal(await main(args, io), EXIT.usage, args.join(' '));
    assert.match(io.err.join(''), /^error\[USAGE\]: .+\nhint: .+\n$/, args.join(' '));
  }
});

test('an address without --type is looked up in reverse (PTR), like dig -x', async () => {
  const r = await resolve('10.20.1.10', { server: dnsmasq.server });
  assert.equal(r.name, '10.1.20.10.in-addr.arpa');
  assert.deepEqual(r.types, ['PTR']);
  assert.equal(r.status, 'ok');
  assert.ok(r.answers.some((a) => a.type === 'PTR' && /app\.test|web-alb-42/.test(a.data)), JSON.stringify(r.answers));
});

test('an IPv6 resolver address ([::1]:port) over UDP', async () => {
  const dgram = await import('node:dgram');
  const dnsPacket = (await import('dns-packet')).default;
  const sock = dgram.createSocket('udp6');
  sock.on('message', (msg, rinfo) => {
    const q = dnsPacket.decode(msg);
    sock.send(dnsPacket.encode({ type: 'response', id: q.id, flags: dnsPacket.RECURSION_DESIRED, questions: q.questions, answers: [{ type: 'AAAA', name: q.questions![0].name, ttl: 5, data: 'fd00::5' }] }), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => sock.bind(0, '::1', r));
  try {
    const r = await resolve('v6.test', { server: `[::1]:${sock.address().port}`, types: ['AAAA'] });
    assert.equal(r.status, 'ok');
    assert.deepEqual(r.addresses, ['fd00::5']);
    assert.equal(r.server?.address, '::1');
  } finally {
    sock.close();
  }
});
