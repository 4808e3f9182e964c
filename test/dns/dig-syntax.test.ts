/**
 * `flowtrace dns` typed as dig: `@SERVER`, `+short`, `+tcp`, `+time=`/`+tries=`, `-t`, `-x`,
 * a record type after the name — against a real dnsmasq on loopback. Every query goes to that
 * dnsmasq (the @SERVER is always given), never to the machine's resolver.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../../src/cli/main.js';
import { memoryIO } from '../../src/cli/io.js';
import { EXIT } from '../../src/errors.js';
import { digSyntax } from '../../src/cli/commands/dns.js';
import type { DnsResult } from '../../src/dns/index.js';
import { startDnsmasq, type Dnsmasq } from './servers.js';

let dnsmasq: Dnsmasq;
before(async () => {
  dnsmasq = await startDnsmasq([
    '--cname=www.test,alb-7.eu-west-1.elb.amazonaws.com',
    '--host-record=alb-7.eu-west-1.elb.amazonaws.com,10.20.1.10',
    '--host-record=app.test,10.20.3.30', '--mx-host=app.test,mail.app.test,10', '--txt-record=app.test,v=spf1 -all',
    '--ptr-record=30.3.20.10.in-addr.arpa,app.test',
  ], '127.0.0.78');
});
after(async () => { await dnsmasq?.stop(); });

async function dns(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIO();
  const code = await main(['dns', ...args], io);
  return { code, out: io.out.join(''), err: io.err.join('') };
}

test('dig @SERVER NAME +short: the answer data, one per line, CNAME first', async () => {
  const r = await dns([`@${dnsmasq.server}`, 'www.test', '+short']);
  assert.equal(r.code, EXIT.ok, r.err);
  assert.equal(r.out, 'alb-7.eu-west-1.elb.amazonaws.com.\n10.20.1.10\n');
  assert.equal(r.err, '');
});

test('a record type after the name (any case), and -t TYPE', async () => {
  for (const args of [['app.test', 'MX'], ['app.test', 'mx'], ['mx', 'app.test'], ['-t', 'MX', 'app.test']]) {
    const r = await dns([`@${dnsmasq.server}`, ...args, '+short']);
    assert.equal(r.code, EXIT.ok, `${args.join(' ')}: ${r.err}`);
    assert.equal(r.out, '10 mail.app.test.\n', args.join(' '));
  }
  const two = await dns(['app.test', 'MX', 'TXT', `@${dnsmasq.server}`, '--json']);
  assert.deepEqual((JSON.parse(two.out) as DnsResult).types, ['MX', 'TXT']);
});

test('+tcp / +vc query over TCP; +time= and +tries= set the timeout and retries', async () => {
  for (const flag of ['+tcp', '+vc']) {
    const r = await dns([`@${dnsmasq.server}`, 'app.test', 'A', flag, '+time=2', '+tries=1', '--json']);
    assert.equal(r.code, EXIT.ok, r.err);
    const result = JSON.parse(r.out) as DnsResult;
    assert.equal(result.transport, 'tcp');
    assert.deepEqual(result.addresses, ['10.20.3.30']);
  }
  assert.deepEqual(digSyntax(['x.test', '+time=0.5', '+tries=3']), { names: ['x.test'], types: [], tcp: false, short: false, time: '0.5', retries: '2' });
  assert.equal(digSyntax(['x.test', '+retry=0']).retries, '0');
  assert.equal(digSyntax(['x.test', '+tcp', '+notcp']).tcp, false);
});

test('-x ADDR: the PTR record', async () => {
  const r = await dns(['-x', '10.20.3.30', `@${dnsmasq.server}`, '+short']);
  assert.equal(r.code, EXIT.ok, r.err);
  assert.equal(r.out, 'app.test.\n');
});

test('+short on a failure prints nothing on stdout; the error line and exit code stay', async () => {
  const r = await dns([`@${dnsmasq.server}`, 'nope.test', '+short']);
  assert.equal(r.code, EXIT.network);
  assert.equal(r.out, '');
  assert.match(r.err, /^error\[DNS_NXDOMAIN\]: .*\nhint: .+\n$/);
});

test('dig syntax mistakes are one-line usage errors', async () => {
  const cases: Array<[string[], RegExp]> = [
    [[`@${dnsmasq.server}`, 'app.test', '+noall', '+answer'], /^error\[USAGE\]: dig option '\+noall' is not supported\nhint: supported: \+short/],
    [['@127.0.0.1', '@127.0.0.2', 'app.test'], /^error\[USAGE\]: two servers: @127\.0\.0\.1 and @127\.0\.0\.2/],
    [['@127.0.0.1', '--server', '127.0.0.1', 'app.test'], /^error\[USAGE\]: @127\.0\.0\.1 and --server together/],
    [['@', 'app.test'], /^error\[USAGE\]: '@' without a server/],
    [['-x', 'app.test', '@127.0.0.1'], /^error\[USAGE\]: -x needs an address, got 'app\.test'/],
    [['-x', '10.0.0.1', 'MX', '@127.0.0.1'], /^error\[USAGE\]: -x with --type MX/],
    [['app.test', 'other.test', '@127.0.0.1'], /^error\[USAGE\]: dns takes one NAME, got 2 \(app\.test other\.test\)/],
    [['app.test', '+tries=0', '@127.0.0.1'], /^error\[USAGE\]: bad \+tries=0/],
    [['@127.0.0.1', '-p', '5353', 'app.test'], /^error\[USAGE\]: unknown option '-p'\nhint: give the port with the server, as dig's @SERVER -p PORT: @10\.0\.0\.2:5353/],
  ];
  for (const [args, message] of cases) {
    const r = await dns(args);
    assert.equal(r.code, EXIT.usage, args.join(' '));
    assert.match(r.err, message, args.join(' '));
    assert.match(r.err, /^error\[USAGE\]: [^\n]+\nhint: [^\n]+\n$/);
    assert.equal(r.out, '');
  }
});
