/**
 * explainBreak on hand-written host facts: which fact explains a packet stopped between two
 * points, in the documented order, and which facts must NOT be taken (a rule that counted
 * but cannot have seen the packet: another interface, another port, a negated match). The
 * lab's recorded runs (test/follow/verdict.test.ts) cover the common cases end to end; these
 * cover the rule shapes a lab fault does not make.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { explainBreak, type ConnectionJourney, type JourneyBreak, type PathPoint } from '../../src/journey/index.js';
import { emptyMatch, type HostFacts, type LinkFacts, type NamespaceFacts, type NetfilterFacts, type RouteLookup } from '../../src/host/index.js';

const P = (iface: string, direction: 'in' | 'out', role: PathPoint['role']): PathPoint => ({ interface: iface, direction, role });
const REQUEST_PATH = [P('eth0', 'in', 'uplink'), P('br-1a2b3c', 'out', 'bridge'), P('vethabc', 'out', 'container')];
const REPLY_PATH = [P('vethabc', 'in', 'container'), P('br-1a2b3c', 'in', 'bridge'), P('eth0', 'out', 'uplink')];

const journey: ConnectionJourney = {
  connectionId: 1, client: { address: '10.0.1.10', port: 41000 }, server: { address: '10.0.2.20', port: 80 },
  serverInside: { address: '172.18.0.5', port: 3000 }, firstTs: 0, traceRoots: [], requests: [],
  requestPath: REQUEST_PATH, replyPath: REPLY_PATH, pathFrom: 'host-facts', steps: [], break: null, applicationStatus: null,
};

const brk = (over: Partial<JourneyBreak>): JourneyBreak => ({
  kind: 'stopped', way: 'reply', packet: 'syn-ack', after: REPLY_PATH[1]!, at: REPLY_PATH[2]!, waitedMs: null, transmissions: 3,
  closedBy: null, deviatedTo: null, retransmittedBytes: null, ...over,
});

function rule(text: string, over: Omit<Partial<NetfilterFacts>, 'match'> & { match?: Partial<NetfilterFacts['match']> }): NetfilterFacts {
  return {
    source: 'iptables', family: 'ip', table: 'filter', chain: 'FORWARD', kind: 'rule', text, verdict: 'drop', target: null, hooks: ['forward'],
    packets: 10, bytes: 600, packetsDelta: 3, ...over, match: { ...emptyMatch(), ...over.match },
  };
}

const link = (name: string, over: Partial<LinkFacts> = {}): LinkFacts => ({
  name, ifindex: 1, kind: null, master: null, operstate: 'UP', up: true, mtu: 1500, mac: null, addresses: [], peerIfindex: null, peerNetnsId: null, ...over,
});

function host(over: Partial<NamespaceFacts> = {}): HostFacts {
  const ns: NamespaceFacts = {
    ns: { label: 'host', role: 'host', path: null, veth: null, container: null },
    links: [link('eth0', { addresses: ['10.0.2.20/24'] }), link('br-1a2b3c', { kind: 'bridge', addresses: ['172.18.0.1/16'] }), link('vethabc', { kind: 'veth', master: 'br-1a2b3c' })],
    routes: [], neighbours: [], sysctls: { 'net.ipv4.ip_forward': '1' }, listeners: [], netfilter: [], rulesNotListed: 0, counters: [], conntrack: null,
    dnat: [{ text: '-A DOCKER ! -i br-1a2b3c -p tcp -m tcp --dport 80 -j DNAT --to-destination 172.18.0.5:3000', protocol: 'tcp', ports: '80', toAddress: '172.18.0.5', toPorts: '3000', inInterface: 'br-1a2b3c', inNegated: true }],
    ...over,
  };
  return { startedAt: 0, stoppedAt: 1, namespaces: [ns], problems: [] };
}

const route = (over: Partial<RouteLookup>): RouteLookup => ({ to: '10.0.1.10', from: null, iif: null, result: 'unicast', dev: 'eth0', gateway: null, prefsrc: null, error: null, matchedRoute: null, ...over });

test('a DROP rule that counted and fits the reply (out interface, source port after NAT) is the cause', () => {
  const fits = rule('-A FORWARD -o eth0 -p tcp -m tcp --sport 3000 -j DROP', { match: { outInterface: 'eth0', protocol: 'tcp', sourcePorts: '3000' } });
  const c = explainBreak(journey, brk({}), host({ netfilter: [fits] }));
  assert.equal(c.id, 'dropped-by-rule');
  assert.equal(c.facts[0]!.kind === 'rule' && c.facts[0]!.rule.text, fits.text);
});

test('rules that counted but could not have seen this packet are not the cause', () => {
  const otherOut = rule('-A FORWARD -o eth1 -j DROP', { match: { outInterface: 'eth1' } });
  const otherPort = rule('-A FORWARD -p tcp -m tcp --sport 22 -j DROP', { match: { protocol: 'tcp', sourcePorts: '22' } });
  const negated = rule('-A FORWARD ! -o eth0 -j DROP', { match: { outInterface: 'eth0', outNegated: true } });
  const udp = rule('-A FORWARD -p udp -j DROP', { match: { protocol: 'udp' } });
  const notTcpNegated = rule('-A FORWARD ! -p tcp -j DROP', { match: { protocol: 'tcp', protocolNegated: true } });
  const c = explainBreak(journey, brk({}), host({ netfilter: [otherOut, otherPort, negated, udp, notTcpNegated], routes: [route({})] }));
  // Nothing fits the path: unexplained — the rule on another interface is said, not blamed;
  // the port and protocol mismatches are not even said.
  assert.equal(c.id, 'unexplained');
  assert.deepEqual(c.facts.filter((f) => f.kind === 'rule').map((f) => f.kind === 'rule' && f.rule.text).sort(), [negated.text, otherOut.text].sort());
  const strict = explainBreak(journey, brk({}), host({ netfilter: [otherPort, udp, notTcpNegated], routes: [route({})] }));
  assert.equal(strict.id, 'unexplained');
  assert.ok(strict.facts.some((f) => f.kind === 'checked'), 'says what was checked');
});

test('an nft rule with an interface set, and a wildcard iptables interface, fit', () => {
  const set = rule('oifname { "eth0", "eth1" } tcp sport 3000 counter drop', { source: 'nft', family: 'inet', table: 'fw', chain: 'forward', match: { outInterface: 'eth0,eth1', protocol: 'tcp', sourcePorts: '3000' } });
  assert.equal(explainBreak(journey, brk({}), host({ netfilter: [set] })).id, 'dropped-by-rule');
  const wildcard = rule('-A FORWARD -i br-+ -j DROP', { match: { inInterface: 'br-+' } });
  assert.equal(explainBreak(journey, brk({}), host({ netfilter: [wildcard] })).id, 'dropped-by-rule');
});

test('a REJECT is rejected-by-rule; a DROP policy that counted is dropped-by-policy; a specific rule wins over the policy', () => {
  const reject = rule('-A FORWARD -o eth0 -j REJECT', { verdict: 'reject', match: { outInterface: 'eth0' } });
  assert.equal(explainBreak(journey, brk({}), host({ netfilter: [reject] })).id, 'rejected-by-rule');
  const policy = rule(':FORWARD DROP', { kind: 'policy', packetsDelta: 9 });
  assert.equal(explainBreak(journey, brk({}), host({ netfilter: [policy] })).id, 'dropped-by-policy');
  const drop = rule('-A FORWARD -o eth0 -j DROP', { match: { outInterface: 'eth0' }, packetsDelta: 1 });
  const c = explainBreak(journey, brk({}), host({ netfilter: [policy, drop] }));
  assert.equal(c.id, 'dropped-by-rule');
});

test('a down link on the path comes before the rules it makes count', () => {
  const policy = rule(':FORWARD DROP', { kind: 'policy', packetsDelta: 9 });
  const facts = host({ netfilter: [policy], links: [link('eth0', { addresses: ['10.0.2.20/24'] }), link('br-1a2b3c', { kind: 'bridge', up: false, operstate: 'DOWN' }), link('vethabc', { kind: 'veth', master: 'br-1a2b3c' })] });
  const c = explainBreak(journey, brk({ way: 'request', packet: 'syn', after: REQUEST_PATH[0]!, at: REQUEST_PATH[1]! }), facts);
  assert.equal(c.id, 'link-down');
  assert.ok(c.facts.some((f) => f.kind === 'rule'), 'the policy that counted is kept as further evidence');
});

test('the forwarded reply\'s route lookup: blackhole is no-route; a route out another interface is routed-elsewhere', () => {
  const blackhole = route({ from: '172.18.0.5', iif: 'br-1a2b3c', result: 'blackhole', dev: null, error: 'RTNETLINK answers: Invalid argument', matchedRoute: 'blackhole 10.0.1.10' });
  assert.equal(explainBreak(journey, brk({}), host({ routes: [blackhole] })).id, 'no-route');
  const elsewhere = route({ from: '172.18.0.5', iif: 'br-1a2b3c', dev: 'eth1' });
  const c = explainBreak(journey, brk({}), host({ routes: [elsewhere] }));
  assert.equal(c.id, 'routed-elsewhere');
});

test('rp_filter strict with the route back by another interface explains a SYN dropped on arrival, even without the EXDEV lookup', () => {
  const back = route({ dev: 'eth1' });
  const c = explainBreak(journey, brk({ way: 'request', packet: 'syn', after: REQUEST_PATH[0]!, at: REQUEST_PATH[1]! }), host({ routes: [back], sysctls: { 'net.ipv4.ip_forward': '1', 'net.ipv4.conf.all.rp_filter': '0', 'net.ipv4.conf.eth0.rp_filter': '1' } }));
  assert.equal(c.id, 'reverse-path-filter');
  // Loose mode (2) does not drop: not the cause.
  const loose = explainBreak(journey, brk({ way: 'request', packet: 'syn', after: REQUEST_PATH[0]!, at: REQUEST_PATH[1]! }), host({ routes: [back], sysctls: { 'net.ipv4.ip_forward': '1', 'net.ipv4.conf.all.rp_filter': '2' } }));
  assert.notEqual(loose.id, 'reverse-path-filter');
});

test('a neighbour entry FAILED for the container\'s address, conntrack drops, forwarding off', () => {
  const syn = brk({ way: 'request', packet: 'syn', after: REQUEST_PATH[1]!, at: REQUEST_PATH[2]! });
  assert.equal(explainBreak(journey, syn, host({ neighbours: [{ address: '172.18.0.5', dev: 'br-1a2b3c', lladdr: null, state: ['FAILED'] }] })).id, 'neighbour-failed');
  assert.equal(explainBreak(journey, syn, host({ conntrack: { count: 100, max: 100, stats: { drop: 7 }, delta: { drop: 7 } } })).id, 'conntrack-drop');
  assert.equal(explainBreak(journey, syn, host({ sysctls: { 'net.ipv4.ip_forward': '0' } })).id, 'forwarding-off');
});

test('outside the host: a reply lost beyond it, and full-size segments lost beyond it (MTU)', () => {
  assert.equal(explainBreak(journey, brk({ kind: 'lost-after', after: REPLY_PATH[2]!, at: null }), host()).id, 'lost-after-host');
  const mtu = explainBreak(journey, brk({ kind: 'lost-after', packet: 'response', after: REPLY_PATH[2]!, at: null, retransmittedBytes: 1448 }), host({ links: [link('eth0', { addresses: ['10.0.2.20/24'], mtu: 9001 })] }));
  assert.equal(mtu.id, 'large-packets-lost');
  assert.ok(mtu.facts.some((f) => f.kind === 'large-lost' && f.uplinkMtu === 9001 && f.retransmittedBytes === 1448));
  // Small segments sent again are not an MTU story.
  assert.equal(explainBreak(journey, brk({ kind: 'lost-after', packet: 'response', after: REPLY_PATH[2]!, at: null, retransmittedBytes: 300 }), host()).id, 'lost-after-host');
});

test('without host facts nothing is guessed: unexplained, or what the packets alone say', () => {
  assert.equal(explainBreak(journey, brk({}), null).id, 'unexplained');
  assert.equal(explainBreak(journey, brk({ kind: 'refused', way: 'request', packet: 'rst', after: null, at: REQUEST_PATH[2]! }), null).id, 'not-listening');
  assert.equal(explainBreak(journey, brk({ kind: 'not-arrived', way: 'request', packet: 'syn', after: null, at: null }), null).id, 'not-at-instance');
});
