/**
 * parseRouteGet / parseRouteTable on real `ip -j route get` answers and `ip -j route show
 * table all` (test/data/host/scratch.route-get.json: one lookup per outcome, recorded with
 * their exit codes and stderr in the scratch namespace of ./record-fixtures.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRouteGet, parseRouteTable, coveringRoute, formatRoute, type RouteEntry, type RouteQuery } from '../../src/host/index.js';
import { fixture } from './fixtures.js';

interface Recorded { args: string[]; code: number | null; stdout: string; stderr: string }
const recorded = JSON.parse(fixture('scratch.route-get.json')) as Recorded[];
const table = parseRouteTable(fixture('scratch.route-table.json'));

function queryOf(args: string[]): RouteQuery {
  const at = (k: string) => (args.indexOf(k) >= 0 ? args[args.indexOf(k) + 1] : null);
  return { namespace: 'host', to: args[0], from: at('from'), iif: at('iif') };
}
/** The i-th recorded lookup (forwarding on), or the last one (forwarding off on d1). */
function lookup(args: string, routes: RouteEntry[] | null = table, last = false) {
  const list = recorded.filter((r) => r.args.join(' ') === args);
  const r = last ? list[list.length - 1] : list[0];
  assert.ok(r, `not recorded: ${args}`);
  return parseRouteGet(r.stdout, r.stderr, r.code, queryOf(r.args), routes);
}

test('found routes: unicast on a link, via a gateway, local, broadcast, forwarded', () => {
  assert.deepEqual(lookup('10.1.0.5'), { to: '10.1.0.5', from: null, iif: null, result: 'unicast', dev: 'd0', gateway: null, prefsrc: '10.1.0.1', error: null, matchedRoute: null });
  assert.deepEqual([lookup('10.6.1.1').result, lookup('10.6.1.1').gateway], ['unicast', '10.1.0.254']);
  assert.deepEqual([lookup('10.1.0.1').result, lookup('10.1.0.1').dev], ['local', 'lo']);
  assert.equal(lookup('10.1.0.255').result, 'broadcast');
  const fwd = lookup('10.1.0.5 from 10.2.0.9 iif d1');
  assert.deepEqual([fwd.result, fwd.from, fwd.iif, fwd.dev], ['unicast', '10.2.0.9', 'd1', 'd0']);
});

test('failures: the kernel\'s errno and the route that covers the destination', () => {
  const bh = lookup('10.9.1.1');
  assert.deepEqual([bh.result, bh.error, bh.matchedRoute], ['blackhole', 'RTNETLINK answers: Invalid argument', 'blackhole 10.9.0.0/16']);
  assert.deepEqual(((r) => [r.result, r.matchedRoute])(lookup('10.8.1.1')), ['unreachable', 'unreachable 10.8.0.0/16']);
  assert.deepEqual(((r) => [r.result, r.matchedRoute])(lookup('10.7.0.5')), ['prohibit', 'prohibit 10.7.0.5']);
  assert.deepEqual(((r) => [r.result, r.error, r.matchedRoute])(lookup('192.0.2.1')), ['no-route', 'RTNETLINK answers: Network is unreachable', null]);
  assert.deepEqual(((r) => [r.result, r.matchedRoute])(lookup('10.9.0.5 from 10.2.0.9 iif d1')), ['blackhole', 'blackhole 10.9.0.0/16']);
  assert.equal(lookup('10.7.0.5 from 10.2.0.9 iif d1').result, 'prohibit');
});

test('EINVAL of a forwarded lookup whose destination is not a blackhole: the reverse-path check', () => {
  const rpf = lookup('10.1.0.5 from 10.3.0.9 iif d1');
  assert.deepEqual([rpf.result, rpf.error, rpf.matchedRoute], ['rp-filter', 'RTNETLINK answers: Invalid argument', '10.1.0.0/24 dev d0']);
  // Without the routing tables EINVAL cannot be told apart: an error, not a guess.
  assert.equal(lookup('10.1.0.5 from 10.3.0.9 iif d1', null).result, 'error');
  assert.equal(parseRouteGet('', 'RTNETLINK answers: Invalid argument\n', 2, { to: '10.9.1.1' }, null).result, 'blackhole');
  assert.equal(parseRouteGet('', 'RTNETLINK answers: Invalid cross-device link\n', 2, { to: '10.1.0.5', from: '10.3.0.9', iif: 'd1' }).result, 'rp-filter');
});

test('forwarding off on the input interface: No route to host while the table has a route', () => {
  const off = lookup('10.1.0.5 from 10.2.0.9 iif d1', table, true);
  assert.deepEqual([off.result, off.matchedRoute], ['unreachable', '10.1.0.0/24 dev d0']);
});

test('other failures: an unknown interface, a timeout, output that is not JSON', () => {
  const dev = lookup('10.1.0.5 from 10.2.0.9 iif nosuch');
  assert.deepEqual([dev.result, dev.error], ['error', 'Cannot find device "nosuch"']);
  assert.deepEqual(((r) => [r.result, r.error])(parseRouteGet('', '', null, { to: '10.1.0.5' })), ['error', 'no answer']);
  assert.deepEqual(((r) => [r.result, r.error])(parseRouteGet('[{"dst"', '', 0, { to: '10.1.0.5' })), ['error', 'ip route get: output not understood']);
  assert.deepEqual(((r) => [r.result, r.error])(parseRouteGet('{}', '', 0, { to: '10.1.0.5' })), ['error', 'ip route get: output not understood']);
});

test('the routing tables: most specific route, other tables, default routes, IPv6, formatting', () => {
  assert.equal(formatRoute(coveringRoute(table, '10.9.3.7')!), 'blackhole 10.9.3.0/24 table 100');
  assert.equal(formatRoute(coveringRoute(table, '10.6.200.1')!), '10.6.0.0/16 via 10.1.0.254 dev d0');
  assert.equal(coveringRoute(table, '192.0.2.1'), null);
  assert.equal(coveringRoute(table, 'not-an-address'), null);
  const withDefault = parseRouteTable('[{"dst":"default","gateway":"172.31.0.1","dev":"ens5","flags":[]},{"type":"unreachable","dst":"10.77.0.0/16","flags":[]}]');
  assert.equal(formatRoute(coveringRoute(withDefault, '10.77.1.10')!), 'unreachable 10.77.0.0/16');
  assert.equal(formatRoute(coveringRoute(withDefault, '8.8.8.8')!), 'default via 172.31.0.1 dev ens5');
  assert.equal(coveringRoute(withDefault, '2001:db8::1'), null); // an IPv4 default does not cover IPv6
  const v6 = parseRouteTable('[{"type":"blackhole","dst":"2001:db8:1::/48","flags":[]},{"dst":"::ffff:0:0/96","dev":"x","flags":[]}]');
  assert.equal(formatRoute(coveringRoute(v6, '2001:db8:1:2::5')!), 'blackhole 2001:db8:1::/48');
  assert.equal(coveringRoute(v6, '2001:db8:2::5'), null);
  assert.equal(formatRoute(coveringRoute(v6, '::ffff:10.1.2.3')!), '::ffff:0:0/96 dev x');
  assert.deepEqual(parseRouteTable(''), []);
  assert.deepEqual(parseRouteTable('[{"dst":"10.0.0.0/99"},{"dst":"nonsense"},null,7]'), []);
});
