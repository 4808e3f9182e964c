/**
 * What the analysis must find in each capture — asserted field by field (the goldens freeze
 * the whole output; these say what matters). Crafted captures are rebuilt in memory from
 * make-crafted.ts and must also equal the committed files byte for byte.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseIfmap } from '../../src/capture/index.js';
import { analyzeCapture, findExchange, renderAnalysis, selectRequest, type FlowAnalysis } from '../../src/flow/index.js';
import { pcapBytes } from './craft.js';
import { craftedCaptures } from './make-crafted.js';

const DATA = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'data', 'flow');
const crafted = craftedCaptures();

async function analyzeCrafted(name: string): Promise<FlowAnalysis> {
  const c = crafted[name];
  const bytes = pcapBytes(c.frames, c.linkType);
  const { analysis } = await analyzeCapture(Readable.from([Buffer.from(bytes)]), c.ifmap ? { ifmap: parseIfmap(c.ifmap) } : {});
  return analysis;
}

async function analyzeFile(name: string): Promise<FlowAnalysis> {
  const ifmap = parseIfmap(readFileSync(path.join(DATA, `${name}.ifmap`), 'utf8'));
  return (await analyzeCapture(path.join(DATA, `${name}.pcap`), { ifmap })).analysis;
}

const hopNames = (hops: Array<{ interface: string; direction: string }>): string[] => hops.map((h) => `${h.interface} ${h.direction}`);

test('crafted captures in test/data/flow are what make-crafted.ts builds', () => {
  for (const [name, c] of Object.entries(crafted)) {
    const onDisk = readFileSync(path.join(DATA, `${name}.pcap`));
    assert.ok(Buffer.from(pcapBytes(c.frames, c.linkType)).equals(onDisk), `${name}.pcap is stale: run node --import tsx test/flow/make-crafted.ts`);
  }
});

test('real seed capture: two keep-alive exchanges through ens5 → docker0 → veth with DNAT', async () => {
  const a = await analyzeFile('seed-keepalive');
  assert.equal(a.connections.length, 1);
  const conn = a.connections[0];
  assert.deepEqual(conn.client.address, '172.31.0.10');
  assert.deepEqual(conn.server, { address: '172.31.5.20', port: 80 });
  assert.deepEqual(conn.serverInside, { address: '172.17.0.2', port: 8080 });
  assert.equal(conn.rolesFrom, 'syn');
  assert.equal(conn.state, 'closed');
  assert.ok(conn.handshakeSeen && conn.handshake && conn.handshake.synToSynAckMs! > 0 && conn.handshake.synAckToAckMs! > 0);
  assert.equal(conn.handshake.measuredAt, 'ens5');
  assert.equal(conn.observations, 3 * conn.packets, 'every packet seen 3 times');
  assert.equal(a.duplicates.maxCopies, 3);
  assert.match(a.duplicates.explanation ?? '', /^seen 3×: -i any captures each packet on every interface it crosses/);
  assert.deepEqual(a.natMappings.map((m) => [m.kind, m.from, m.to, m.beforeInterface, m.afterInterface]),
    [['dnat', '172.31.5.20:80', '172.17.0.2:8080', 'ens5', 'docker0']]);
  assert.equal(a.exchanges.length, 2);
  const [first, second] = a.exchanges;
  assert.equal(first.request?.method, 'GET');
  assert.equal(first.request?.target, '/');
  assert.equal(first.request?.traceId?.root, '1-6741f0a0-0123456789abcdef01234567');
  assert.equal(first.request?.xForwardedFor, '203.0.113.7');
  assert.equal(first.response?.status, 200);
  assert.equal(first.response?.bodyFraming, 'content-length');
  assert.equal(first.response?.bodyBytes, 5); // "ok /\n"
  assert.equal(second.request?.target, '/chunked');
  assert.equal(second.request?.traceId?.self, '1-6741f0a1-00000000000000000000aaaa');
  assert.equal(second.response?.bodyFraming, 'chunked');
  assert.equal(second.response?.bodyBytes, 'first chunk\nsecond chunk\nlast\n'.length);
  for (const ex of a.exchanges) {
    assert.deepEqual(hopNames(ex.request!.hops), ['ens5 in', 'docker0 out', 'veth3f2a1b9 out']);
    assert.deepEqual(hopNames(ex.response!.hops), ['veth3f2a1b9 in', 'docker0 in', 'ens5 out']);
    assert.ok(ex.request!.hops[1].offsetUs > 0 && ex.request!.hops[2].offsetUs >= ex.request!.hops[1].offsetUs);
    assert.deepEqual(ex.timings.map((t) => t.interface), ['ens5', 'docker0', 'veth3f2a1b9']);
    // The app's time (at the veth) is inside the host's time (at ens5).
    assert.ok(ex.timings[2].ms <= ex.timings[0].ms && ex.timings[2].ms > 0);
    assert.equal(ex.timeToFirstByteMs, ex.timings[0].ms);
  }
  assert.deepEqual(a.anomalies, []);
  const text = renderAnalysis(a);
  assert.match(text, /ALB node 172\.31\.0\.10 → ens5 → docker0 → veth3f2a1b9 → container 172\.17\.0\.2:8080 → HTTP 200 \(\d/);
  assert.match(text, /container 172\.17\.0\.2:8080 → veth3f2a1b9 → docker0 → ens5 → ALB node 172\.31\.0\.10/);
  assert.match(text, /DNAT 172\.31\.5\.20:80 → 172\.17\.0\.2:8080 \(between ens5 and docker0\)/);
});

test('--request finds one exchange by trace Root, X-Forwarded-For address or path', async () => {
  const a = await analyzeFile('seed-keepalive');
  assert.deepEqual(selectRequest(a, '1-6741f0a1-89abcdef0123456789abcdef').exchanges.map((e) => e.request?.target), ['/chunked']);
  assert.deepEqual(selectRequest(a, 'Root=1-6741f0a0-0123456789abcdef01234567').exchanges.map((e) => e.request?.target), ['/']);
  const byXff = selectRequest(a, '203.0.113.7');
  assert.equal(byXff.by, 'clientAddress');
  assert.deepEqual(byXff.exchanges.map((e) => e.request?.target), ['/']);
  assert.deepEqual(selectRequest(a, '/chunked').exchanges.map((e) => e.id), [2]);
  assert.deepEqual(selectRequest(a, '1-00000000-000000000000000000000000').exchanges, []);
  assert.deepEqual(findExchange(a, { path: '/', clientAddress: '198.51.100.23' }), []);
  const only = renderAnalysis(a, { exchanges: selectRequest(a, '/chunked').exchanges });
  assert.match(only, /GET \/chunked/);
  assert.doesNotMatch(only, /GET \/ →/);
});

test('real capture, container app down: SYN ens5 → docker0 → veth, RST from the container', async () => {
  const a = await analyzeFile('app-down');
  assert.equal(a.anomalies.length, 1);
  const [an] = a.anomalies;
  assert.equal(an.kind, 'rst-from-server');
  assert.match(an.message, /container/);
  assert.match(an.message, /172\.17\.0\.2:8080/);
  assert.deepEqual(hopNames(an.hops), ['veth3f2a1b9 in', 'docker0 in', 'ens5 out']);
  assert.deepEqual(a.connections[0].pathToServer, ['ens5 In', 'docker0 Out', 'veth3f2a1b9 Out']);
});

test('real capture, DNAT rule missing: SYN on ens5 only, the host answers RST', async () => {
  const a = await analyzeFile('dnat-missing');
  assert.deepEqual(a.anomalies.map((x) => x.kind), ['syn-not-forwarded']);
  assert.match(a.anomalies[0].message, /DNAT/);
  assert.deepEqual(hopNames(a.anomalies[0].hops), ['ens5 in']);
  assert.deepEqual(a.natMappings, []);
});

test('crafted: retransmitted request and response are counted, not doubled into exchanges', async () => {
  const a = await analyzeCrafted('crafted-retransmission');
  const c = a.connections[0];
  assert.equal(c.toServer.retransmissions, 1);
  assert.equal(c.toClient.retransmissions, 1);
  assert.equal(a.exchanges.length, 1);
  assert.equal(a.exchanges[0].response?.status, 200);
  assert.deepEqual(a.anomalies.map((x) => x.kind), ['retransmissions']);
  // The copies of each packet on docker0 and the veth are not retransmissions.
  assert.equal(c.observations, 3 * c.packets);
});

test('crafted: RST from the container ends the pending exchange', async () => {
  const a = await analyzeCrafted('crafted-rst');
  assert.equal(a.exchanges[0].status, 'reset');
  assert.equal(a.exchanges[0].response, null);
  assert.deepEqual(a.connections[0].closedBy, { how: 'rst', from: 'server' });
  const an = a.anomalies.find((x) => x.kind === 'rst-from-server');
  assert.ok(an);
  assert.equal(an.hops[0].interface, 'veth3f2a1b9');
  assert.match(an.message, /reset by the container \(172\.17\.0\.2:8080/);
});

test('crafted: pipelined HEAD + GETs are paired in order; the HEAD response has no body', async () => {
  const a = await analyzeCrafted('crafted-pipelining');
  assert.deepEqual(a.exchanges.map((e) => [e.request?.method, e.request?.target, e.response?.status, e.pipelined]),
    [['HEAD', '/a', 200, false], ['GET', '/b', 200, true], ['GET', '/c', 200, true]]);
  assert.equal(a.exchanges[0].response?.bodyFraming, 'none');
  assert.equal(a.exchanges[1].response?.bodyBytes, 5);
  assert.equal(a.exchanges[2].response?.bodyBytes, 7);
  assert.equal(a.exchanges[2].request?.traceId?.root, '1-6741f0b1-bbbbbbbbbbbbbbbbbbbbbbbb');
});

test('crafted: heads split across segments (even inside CRLFCRLF) are reassembled', async () => {
  const a = await analyzeCrafted('crafted-split-heads');
  const ex = a.exchanges[0];
  assert.equal(a.exchanges.length, 1);
  assert.equal(ex.request?.headSegments, 4);
  assert.equal(ex.request?.host, 'app.seqas.online');
  assert.equal(ex.request?.xForwardedFor, '192.0.2.44');
  assert.equal(ex.response?.headSegments, 3);
  assert.equal(ex.response?.bodyBytes, 17);
  assert.equal(ex.status, 'complete');
});

test('crafted: keep-alive connection without handshake: roles from HTTP, endpoints outside the NAT', async () => {
  const a = await analyzeCrafted('crafted-keepalive-midstream');
  const c = a.connections[0];
  assert.equal(c.handshakeSeen, false);
  assert.equal(c.handshake, null);
  assert.equal(c.rolesFrom, 'http');
  assert.deepEqual(c.client, { address: '172.31.16.10', port: 40005 });
  assert.deepEqual(c.server, { address: '172.31.5.20', port: 80 });
  assert.deepEqual(c.serverInside, { address: '172.17.0.2', port: 8080 });
  assert.deepEqual(a.exchanges.map((e) => e.request?.target), ['/one', '/two']);
  assert.match(renderAnalysis(a), /not in the capture: the connection was already open/);
});

test('crafted: a chunked body (extensions, trailer) is skipped exactly and the next head found', async () => {
  const a = await analyzeCrafted('crafted-chunked');
  assert.equal(a.exchanges.length, 2);
  assert.equal(a.exchanges[0].response?.bodyFraming, 'chunked');
  assert.equal(a.exchanges[0].response?.bodyBytes, 5 + 26);
  assert.equal(a.exchanges[1].request?.target, '/after');
  assert.equal(a.exchanges[1].response?.bodyBytes, 6);
});

test('crafted: SYN seen on ens5 only, never answered → syn-not-forwarded', async () => {
  const a = await analyzeCrafted('crafted-dnat-missing');
  assert.deepEqual(a.anomalies.map((x) => x.kind), ['syn-not-forwarded']);
  assert.equal(a.connections[0].handshake?.synRetransmissions, 2);
  assert.equal(a.connections[0].state, 'syn-sent');
  assert.match(a.anomalies[0].message, /never on the bridge/);
});

test('crafted: reordering, a lost segment and a zero window on a plain Ethernet capture', async () => {
  const a = await analyzeCrafted('crafted-loss-window');
  const c = a.connections[0];
  assert.equal(c.toServer.outOfOrder, 1);
  assert.equal(c.toServer.lostSegments, 1);
  assert.equal(c.toServer.retransmissions, 0);
  assert.equal(c.toClient.zeroWindows, 1);
  assert.deepEqual(c.closedBy, { how: 'rst', from: 'client' });
  // 2000 bytes captured + the 1000 never captured, skipped by the known Content-Length.
  assert.equal(a.exchanges[0].request?.bodyBytes, 3000);
  assert.equal(a.exchanges[0].response?.status, 413);
  assert.deepEqual(a.anomalies.map((x) => x.kind).sort(), ['lost-segments', 'out-of-order', 'rst-from-client', 'zero-window']);
  assert.equal(a.duplicates.explanation, null);
});

test('crafted: unanswered SYNs without a bridge → syn-unanswered; HTTP/1.0 body until close', async () => {
  const a = await analyzeCrafted('crafted-syn-unanswered');
  assert.deepEqual(a.anomalies.map((x) => [x.kind, x.connectionId]), [['syn-unanswered', 1]]);
  assert.equal(a.exchanges.length, 1);
  assert.equal(a.exchanges[0].response?.bodyFraming, 'close');
  assert.equal(a.exchanges[0].response?.bodyBytes, 5);
});

test('IPv6: a keep-alive connection stitched across two interfaces, addresses in RFC 5952 form', async () => {
  const { Conversation, pcapBytes: bytesOf } = await import('./craft.js');
  const c = new Conversation({
    client: ['2001:db8:0:1::10', 41000], server: ['2001:db8:0:2::20', 8080],
    toServer: [{ ifindex: 2, direction: 'in', server: ['2001:db8:0:2::20', 8080], delayUs: 0 }, { ifindex: 3, direction: 'out', server: ['2001:db8:0:2::20', 8080], delayUs: 7 }],
    toClient: [{ ifindex: 3, direction: 'in', server: ['2001:db8:0:2::20', 8080], delayUs: 0 }, { ifindex: 2, direction: 'out', server: ['2001:db8:0:2::20', 8080], delayUs: 6 }],
  });
  c.handshake().send('client', 'GET /v6 HTTP/1.1\r\nHost: [2001:db8:0:2::20]\r\n\r\n', [10]).wait(400)
    .send('server', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n').wait(100).emit('client', 'A').close();
  const ifmap = parseIfmap('2 ens5\n3 docker0\n');
  const { analysis: a } = await analyzeCapture(Readable.from([Buffer.from(bytesOf(c.frames, 'sll2'))]), { ifmap });
  assert.equal(a.connections.length, 1);
  assert.deepEqual(a.connections[0].client, { address: '2001:db8:0:1::10', port: 41000 });
  assert.deepEqual(a.connections[0].server, { address: '2001:db8:0:2::20', port: 8080 });
  assert.equal(a.duplicates.maxCopies, 2);
  assert.equal(a.exchanges.length, 1);
  assert.equal(a.exchanges[0].request?.headSegments, 2);
  assert.deepEqual(a.exchanges[0].request?.hops.map((h) => h.interface), ['ens5', 'docker0']);
  assert.equal(a.exchanges[0].response?.bodyBytes, 3);
  assert.match(renderAnalysis(a), /\[2001:db8:0:1::10\]:41000 → \[2001:db8:0:2::20\]:8080/);
});

test('a SYN that reaches docker0 but no veth names the container side', async () => {
  const { Conversation, dockerPath, pcapBytes: bytesOf, CRAFTED_IFMAP: map } = await import('./craft.js');
  const c = new Conversation({ client: ['172.31.0.10', 40100], server: ['172.31.5.20', 80], ...dockerPath() });
  c.emit('client', 'S', '', { onlyPoints: [0, 1], noAdvance: true }).wait(1_000_000).emit('client', 'S', '', { onlyPoints: [0, 1], noAdvance: true });
  const { analysis: a } = await analyzeCapture(Readable.from([Buffer.from(bytesOf(c.frames, 'sll2'))]), { ifmap: parseIfmap(map) });
  assert.deepEqual(a.anomalies.map((x) => x.kind), ['syn-unanswered']);
  assert.match(a.anomalies[0].message, /reached docker0 but no container veth/);
  assert.deepEqual(a.natMappings.map((m) => m.to), ['172.17.0.2:8080']);
});

test('a small snaplen (tcpdump -s 200): bodies cut short are skipped by their length, the next head is found', async () => {
  const { Conversation, pcapBytes: bytesOf } = await import('./craft.js');
  const c = new Conversation({ client: ['10.0.0.1', 44000], server: ['10.0.0.2', 80] });
  const body = 'z'.repeat(1200);
  c.handshake();
  for (const p of ['/one', '/two', '/three']) {
    c.send('client', `GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`).wait(300).send('server', `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`, [700]).wait(100).emit('client', 'A');
  }
  c.close();
  const { analysis: a } = await analyzeCapture(Readable.from([Buffer.from(bytesOf(c.frames, 'ethernet', 200))]));
  assert.deepEqual(a.exchanges.map((e) => [e.request?.target, e.response?.status, e.response?.bodyBytes]), [['/one', 200, 1200], ['/two', 200, 1200], ['/three', 200, 1200]]);
  assert.equal(a.connections[0].toClient.lostSegments, 0);
  assert.deepEqual(a.anomalies, []);
});

test('real lab capture taken during fault injection: every fault named, every good request traced', async () => {
  const a = await analyzeFile('lab-faults');
  const kinds = a.anomalies.map((x) => x.kind).sort();
  assert.deepEqual(kinds, ['rst-from-server', 'rst-from-server', 'syn-not-forwarded', 'syn-not-forwarded', 'syn-not-forwarded', 'syn-not-forwarded']);
  // Host firewall: SYN retransmitted on ens5, dropped; DNAT missing: the host's own RST.
  assert.ok(a.anomalies.some((x) => x.kind === 'syn-not-forwarded' && /dropped on the host/.test(x.message)));
  assert.ok(a.anomalies.some((x) => x.kind === 'syn-not-forwarded' && /DNAT rule/.test(x.message) && /host itself answered RST/.test(x.message)));
  // App down: the container's RST.
  assert.ok(a.anomalies.filter((x) => x.kind === 'rst-from-server').every((x) => x.hops[0].interface === 'veth3f2a1b9'));
  const done = a.exchanges.filter((e) => e.status === 'complete');
  assert.ok(done.length >= 4);
  for (const ex of done) {
    assert.equal(ex.response?.status, 200);
    assert.equal(ex.request?.xForwardedFor, '10.10.1.2');
    assert.match(ex.request?.traceId?.root ?? '', /^1-[0-9a-f]{8}-[0-9a-f]{24}$/);
    assert.deepEqual(ex.request?.hops.map((h) => h.interface), ['ens5', 'docker0', 'veth3f2a1b9']);
    assert.ok(['172.31.0.10', '172.31.16.10'].includes(ex.client.address), 'from one of the two ALB nodes');
  }
  assert.deepEqual(a.natMappings.map((m) => `${m.from} → ${m.to}`), ['172.31.5.20:80 → 172.17.0.2:8080']);
  assert.ok(a.connections.filter((c) => c.serverInside !== null).every((c) => c.nat.length === 1));
});

test('pcapng with one named interface block per interface (flowtrace capture -w): names and directions from the file', async () => {
  const { writePcapng } = await import('../../src/capture/index.js');
  const c = crafted['crafted-pipelining'];
  const idOf: Record<number, number> = { 2: 0, 3: 1, 4: 2 };
  const packets = c.frames.map((f) => {
    const eth = new Uint8Array(14 + f.ip.length);
    eth.set([0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2], 0);
    eth[12] = 0x08;
    eth.set(f.ip, 14);
    return { interfaceId: idOf[f.ifindex], tsSec: Math.floor(f.tsUs / 1e6), tsNsec: (f.tsUs % 1e6) * 1000, data: eth, epbDirection: f.direction === 'in' ? 1 : 2 };
  });
  const bytes = writePcapng(['ens5', 'docker0', 'veth3f2a1b9'].map((name) => ({ name, linkType: 1 })), packets);
  const { analysis: a } = await analyzeCapture(Readable.from([Buffer.from(bytes)]));
  assert.deepEqual(a.capture.interfaces.map((i) => i.interface), ['ens5', 'docker0', 'veth3f2a1b9']);
  assert.equal(a.duplicates.maxCopies, 3);
  assert.equal(a.exchanges.length, 3);
  assert.deepEqual(hopNames(a.exchanges[0].request!.hops), ['ens5 in', 'docker0 out', 'veth3f2a1b9 out']);
  assert.deepEqual(hopNames(a.exchanges[0].response!.hops), ['veth3f2a1b9 in', 'docker0 in', 'ens5 out']);
  assert.deepEqual(a.natMappings.map((m) => `${m.from} → ${m.to}`), ['172.31.5.20:80 → 172.17.0.2:8080']);
});

test('pcapng of SLL2 packets: a block named after one interface names it (flowtrace capture -w); a block named any does not', async () => {
  const { writePcapng, readCapture } = await import('../../src/capture/index.js');
  const c = crafted['crafted-pipelining'];
  // The SLL2 packets as tcpdump -i any captures them, then one block per interface (as capture -w writes), or one `any` block.
  const records: Array<{ ifindex: number; tsSec: number; tsNsec: number; data: Uint8Array }> = [];
  await readCapture(Readable.from([Buffer.from(pcapBytes(c.frames, 'sll2'))]), {
    onPacket: (r) => { records.push({ ifindex: (r.data[4] << 24) | (r.data[5] << 16) | (r.data[6] << 8) | r.data[7], tsSec: r.tsSec, tsNsec: r.tsNsec, data: r.data.slice() }); },
  });
  const idOf: Record<number, number> = { 2: 0, 3: 1, 4: 2 };
  const perInterface = writePcapng(['ens5', 'docker0', 'veth3f2a1b9'].map((name) => ({ name, linkType: 276 })), records.map((r) => ({ ...r, interfaceId: idOf[r.ifindex] })));
  const { analysis: a } = await analyzeCapture(Readable.from([Buffer.from(perInterface)]));
  assert.deepEqual(a.capture.interfaces.map((i) => i.interface), ['ens5', 'docker0', 'veth3f2a1b9']);
  assert.deepEqual(a.capture.unmappedIfindexes, []);
  assert.deepEqual(hopNames(a.exchanges[0].request!.hops), ['ens5 in', 'docker0 out', 'veth3f2a1b9 out']);
  const any = writePcapng([{ name: 'any', linkType: 276 }], records.map((r) => ({ ...r, interfaceId: 0 })));
  const { analysis: b } = await analyzeCapture(Readable.from([Buffer.from(any)]));
  assert.deepEqual(b.capture.interfaces.map((i) => i.interface), ['ifindex2', 'ifindex3', 'ifindex4']);
  assert.deepEqual(b.capture.unmappedIfindexes, [2, 3, 4]);
  // --ifmap still names them, and wins over block names.
  const { analysis: m } = await analyzeCapture(Readable.from([Buffer.from(perInterface)]), { ifmap: new Map([[2, 'eth0'], [3, 'br0'], [4, 'vethx']]) });
  assert.deepEqual(m.capture.interfaces.map((i) => i.interface), ['eth0', 'br0', 'vethx']);
});

test('TCP keep-alive probes (empty, one below the next sequence number) are counted, not retransmissions', async () => {
  const { Conversation, pcapBytes: bytesOf } = await import('./craft.js');
  const c = new Conversation({ client: ['10.0.0.1', 45000], server: ['10.0.0.2', 80] });
  c.handshake().send('client', 'GET / HTTP/1.1\r\nHost: x\r\n\r\n').wait(300).send('server', 'HTTP/1.1 204 No Content\r\n\r\n').emit('client', 'A');
  for (let i = 0; i < 3; i++) c.wait(75_000_000).emit('client', 'A', '', { seq: c.seqOf('client') - 1 }).wait(200).emit('server', 'A');
  const { analysis: a } = await analyzeCapture(Readable.from([Buffer.from(bytesOf(c.frames, 'ethernet'))]));
  assert.equal(a.connections[0].toServer.keepAlives, 3);
  assert.equal(a.connections[0].toServer.retransmissions, 0);
  assert.deepEqual(a.anomalies, []);
  assert.equal(a.exchanges[0].response?.status, 204);
});
