import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { classifyAddress, findLoadBalancer, parseResolvConf, parseServerSpec, normaliseName, reverseName } from '../../src/dns/index.js';
import { UsageError } from '../../src/errors.js';

test('resolv.conf: nameservers in order, options timeout/attempts with caps, junk ignored', () => {
  const c = parseResolvConf([
    '# generated', 'search example.com', 'nameserver 10.0.0.2', 'nameserver fe80::1%eth0', 'nameserver not-an-ip',
    'nameserver ::1 ; comment', 'options ndots:2 timeout:3 attempts:9 rotate',
  ].join('\n'));
  assert.deepEqual(c.servers, [{ address: '10.0.0.2', port: 53 }, { address: 'fe80::1', port: 53 }, { address: '::1', port: 53 }]);
  assert.equal(c.timeoutMs, 3000);
  assert.equal(c.attempts, 5);
  const d = parseResolvConf('nameserver 1.2.3.4\n');
  assert.equal(d.timeoutMs, 5000);
  assert.equal(d.attempts, 2);
});

test('server specs: address, address:port, dig #port, bracketed IPv6', () => {
  assert.deepEqual(parseServerSpec('10.0.0.2'), { address: '10.0.0.2', port: 53 });
  assert.deepEqual(parseServerSpec('10.0.0.2:5353'), { address: '10.0.0.2', port: 5353 });
  assert.deepEqual(parseServerSpec('10.0.0.2#5353'), { address: '10.0.0.2', port: 5353 });
  assert.deepEqual(parseServerSpec('::1'), { address: '::1', port: 53 });
  assert.deepEqual(parseServerSpec('[::1]:5353'), { address: '::1', port: 5353 });
  assert.deepEqual(parseServerSpec('2001:db8::53'), { address: '2001:db8::53', port: 53 });
  for (const bad of ['dns.google', '10.0.0.2:0', '10.0.0.2:70000', '10.0.0.2:x', '', '[::1]:']) {
    assert.throws(() => parseServerSpec(bad), UsageError, bad);
  }
});

test('names: trailing dot dropped; URLs, empty labels and long labels refused', () => {
  assert.equal(normaliseName('Example.COM.'), 'Example.COM');
  assert.equal(normaliseName('bücher.example'), 'xn--bcher-kva.example');
  for (const bad of ['', 'https://x.com/', 'a..b', `${'a'.repeat(64)}.com`, 'a b.com']) assert.throws(() => normaliseName(bad), UsageError, bad);
});

test('address classification: the special ranges and public', () => {
  const kinds = (a: string): string => classifyAddress(a).kind;
  assert.equal(kinds('10.1.2.3'), 'private');
  assert.equal(kinds('172.16.0.1'), 'private');
  assert.equal(kinds('172.32.0.1'), 'public');
  assert.equal(kinds('192.168.1.1'), 'private');
  assert.equal(kinds('100.64.0.1'), 'private');
  assert.match(classifyAddress('100.127.255.255').range!, /6598/);
  assert.equal(kinds('100.128.0.1'), 'public');
  assert.equal(kinds('127.0.0.53'), 'loopback');
  assert.equal(kinds('169.254.169.254'), 'link-local');
  assert.equal(kinds('8.8.8.8'), 'public');
  assert.equal(classifyAddress('8.8.8.8').range, null);
  assert.equal(kinds('203.0.113.7'), 'documentation');
  assert.equal(kinds('224.0.0.251'), 'multicast');
  assert.equal(kinds('::1'), 'loopback');
  assert.equal(kinds('fe80::1'), 'link-local');
  assert.equal(kinds('fd12:3456::1'), 'private');
  assert.equal(kinds('2a00:1450::1'), 'public');
  assert.equal(kinds('2001:db8::1'), 'documentation');
  assert.equal(kinds('::ffff:10.0.0.1'), 'private');
  assert.equal(kinds('::'), 'unspecified');
});

test('property: an IPv4-mapped IPv6 address is classified like its IPv4 address', () => {
  fc.assert(fc.property(fc.ipV4(), (v4) => {
    assert.equal(classifyAddress(`::ffff:${v4}`).kind, classifyAddress(v4).kind);
  }));
});

test('property: every IPv4 and IPv6 address gets a kind, without throwing', () => {
  fc.assert(fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (a) => {
    const c = classifyAddress(a);
    assert.ok(['private', 'loopback', 'link-local', 'public', 'documentation', 'multicast', 'reserved', 'unspecified'].includes(c.kind));
    assert.equal(c.kind === 'public', c.range === null || c.range.startsWith('::ffff'));
  }));
});

test('load-balancer names: ALB, NLB, CloudFront and friends; ordinary names are not', () => {
  assert.deepEqual(findLoadBalancer(['seqas.online', 'dualstack.my-alb-123.eu-west-1.elb.amazonaws.com.']), {
    name: 'dualstack.my-alb-123.eu-west-1.elb.amazonaws.com', provider: 'AWS', product: 'Elastic Load Balancing (Application/Classic Load Balancer)', region: 'eu-west-1',
  });
  assert.match(findLoadBalancer(['x', 'net-lb-0123456789abcdef.elb.us-east-2.amazonaws.com'])!.product, /Network/);
  assert.equal(findLoadBalancer(['d111111abcdef8.cloudfront.net'])?.product, 'CloudFront (CDN edge)');
  assert.equal(findLoadBalancer(['a.trafficmanager.net'])?.provider, 'Azure');
  assert.equal(findLoadBalancer(['example.com', 'www.example.com']), null);
  assert.equal(findLoadBalancer(['elb.amazonaws.com.evil.example']), null);
});

test('reverse names: in-addr.arpa and nibble ip6.arpa', () => {
  assert.equal(reverseName('10.77.1.10'), '10.1.77.10.in-addr.arpa');
  assert.equal(reverseName('2001:db8::567:89ab'), 'b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa');
});
