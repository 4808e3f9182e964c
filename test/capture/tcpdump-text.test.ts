/**
 * tcpdump text as a capture (issue 16, item 2): the real tcpdump prints the recorded captures
 * of test/data/flow (made in the lab's namespaces, and crafted ones) at test time, in the
 * forms users paste — default, -e, -v, -vv, -A, -X, -tttt, -tt, -S — and the text is read
 * back:
 *  - the flow analysis of the text is the pcap's own: the same connections with their
 *    milestones at the same points, the same NAT, exchanges, anomalies and journeys — except
 *    what text cannot carry, asserted as such (pipelined requests after the first in one
 *    segment, and a head split over segments, are not in default text: -A and -X carry them);
 *  - `flowtrace read` of the text prints the text again, line for line;
 *  - what the text could not carry is said (notes); text that is no tcpdump output is an error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseIfmap, readCapture } from '../../src/capture/index.js';
import { analyzeCapture, type FlowAnalysis } from '../../src/flow/index.js';
import { connectionJourneys } from '../../src/journey/index.js';
import { CaptureFormatError } from '../../src/errors.js';
import { readFileSync } from 'node:fs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const FLOW_DATA = path.join(ROOT, 'test', 'data', 'flow');
const CLI = path.join(ROOT, 'bin', 'flowtrace.js');
const FIXTURES = readdirSync(FLOW_DATA).filter((f) => f.endsWith('.pcap')).map((f) => f.slice(0, -'.pcap'.length)).sort();

function tcpdumpText(pcap: string, flags: string[]): string {
  return execFileSync('tcpdump', ['-nn', ...flags, '-r', pcap], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
}

/** What the analysis says, in a form two readings of the same packets must share. */
function reading(a: FlowAnalysis): unknown {
  return {
    connections: a.connections.map((c) => ({
      client: c.client, server: c.server, inside: c.serverInside, state: c.state, closedBy: c.closedBy, handshakeSeen: c.handshakeSeen,
      milestones: c.milestones.map((m) => `${m.kind}/${m.from}×${m.transmissions}@${m.hops.map((h) => `${h.interface}:${h.direction}`).join(',')}`),
      toServer: [c.toServer.packets, c.toServer.payloadBytes, c.toServer.retransmissions], toClient: [c.toClient.packets, c.toClient.payloadBytes, c.toClient.retransmissions],
      legs: c.legs,
    })),
    exchanges: a.exchanges.map((e) => `${e.request?.method} ${e.request?.target} → ${e.response?.status ?? '-'} ${e.status} @${e.request?.hops.map((h) => h.interface).join(',') ?? ''}`),
    nat: a.natMappings,
    anomalies: a.anomalies.map((x) => `${x.kind}: ${x.message}`),
    journeys: connectionJourneys(a).map((j) => ({ path: j.requestPath.map((p) => `${p.interface}:${p.direction}`), break: j.break && `${j.break.kind} ${j.break.way} ${j.break.packet} at ${j.break.at?.interface ?? '-'}` })),
  };
}

async function analyse(input: string | Buffer, ifmap?: Map<number, string>): Promise<FlowAnalysis> {
  const source = typeof input === 'string' ? input : Readable.from([input]);
  return (await analyzeCapture(source, ifmap ? { ifmap } : {})).analysis;
}

/** Fixtures whose text, in these forms, cannot carry everything: what is expected instead. */
const FIRST_LINES_ONLY = ['', '-e', '-tttt', '-tt', '-S'];
const NOT_IN_TEXT: Record<string, Array<{ flags: string[]; why: string; sameConnections: boolean }>> = {
  'crafted-pipelining': [{ flags: FIRST_LINES_ONLY, why: 'three requests in one segment: tcpdump prints the first line of the first', sameConnections: true }],
  'crafted-split-heads': [{ flags: [...FIRST_LINES_ONLY, '-v', '-vv'], why: 'a head over three segments: tcpdump prints its first 7 bytes (-v only prints segments that start a message)', sameConnections: true }],
  // With -S every number is absolute — but a pure ACK prints no seq (only -vv does), and this
  // connection's first packet in the text is one: its sequence number is not known.
  'crafted-keepalive-midstream': [{ flags: ['-S'], why: 'the first packet is a pure ACK: no seq printed', sameConnections: false }],
};

test('the flow analysis of tcpdump text is the pcap\'s own (every recorded capture, every form of text)', async () => {
  const forms = [[], ['-e'], ['-v'], ['-vv'], ['-A'], ['-X'], ['-tttt'], ['-tt'], ['-S']];
  let compared = 0;
  for (const name of FIXTURES) {
    const pcap = path.join(FLOW_DATA, `${name}.pcap`);
    const ifmapFile = path.join(FLOW_DATA, `${name}.ifmap`);
    // tcpdump -r names SLL2 interfaces by THIS machine's indexes: with an ifmap, -e prints the
    // index and the map names it (as for the pcap); without one the capture has one interface.
    const ifmap = existsSync(ifmapFile) ? parseIfmap(readFileSync(ifmapFile, 'utf8')) : undefined;
    const fromPcap = reading(await analyse(pcap, ifmap));
    for (const form of forms) {
      const flags = ifmap ? [...new Set(['-e', ...form])] : form;
      const fromText = reading(await analyse(Buffer.from(tcpdumpText(pcap, flags)), ifmap));
      const exception = NOT_IN_TEXT[name]?.find((e) => e.flags.includes(form.join(' ')));
      if (exception) {
        assert.notDeepEqual(fromText, fromPcap, `${name} ${form.join(' ')}: ${exception.why} — if this now reads the same, remove the exception`);
        // The connection itself (handshake, points, NAT, close) is still read the same.
        if (exception.sameConnections) assert.deepEqual((fromText as { connections: unknown }).connections, (fromPcap as { connections: unknown }).connections, `${name} ${form.join(' ')}: connections`);
        continue;
      }
      assert.deepEqual(fromText, fromPcap, `${name} with tcpdump -nn ${flags.join(' ')}`);
      compared++;
    }
  }
  assert.ok(compared >= FIXTURES.length * 8, `${compared} comparisons`);
});

test('flowtrace read prints tcpdump\'s text of a capture again, line for line (default; -e, -tttt on four)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ftt-text-'));
  try {
    // Every capture in the default form; -e and -tttt on a few (each is one CLI run).
    for (const name of FIXTURES) {
      for (const flags of [[], ...(['lab-faults', 'seed-keepalive', 'crafted-chunked', 'app-down'].includes(name) ? [['-e'], ['-tttt']] : [])]) {
        const text = tcpdumpText(path.join(FLOW_DATA, `${name}.pcap`), flags);
        const file = path.join(dir, `${name}.txt`);
        writeFileSync(file, text);
        const r = spawnSync(process.execPath, [CLI, 'read', ...flags, file], { encoding: 'utf8' });
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout, text, `${name} ${flags.join(' ')}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('what text cannot carry is said: first lines only, relative sequence numbers, times of day, other protocols, lines not understood', async () => {
  const text = [
    'tcpdump: verbose output suppressed, use -v[v]... for full protocol decode',
    'listening on any, link-type LINUX_SLL2 (Linux cooked v2), snapshot length 262144 bytes',
    '23:34:08.541587 ens5  In  IP 172.31.0.10.57644 > 172.31.5.20.80: Flags [S], seq 2882121446, win 62727, options [mss 8961,sackOK,TS val 2328914085 ecr 0,nop,wscale 10], length 0',
    '23:34:08.541696 ens5  Out IP 172.31.5.20.80 > 172.31.0.10.57644: Flags [S.], seq 1917470803, ack 2882121447, win 65160, options [mss 1460,sackOK,TS val 4092219004 ecr 2328914085,nop,wscale 10], length 0',
    '23:34:08.541724 ens5  In  IP 172.31.0.10.57644 > 172.31.5.20.80: Flags [.], ack 1, win 62, options [nop,nop,TS val 2328914086 ecr 4092219004], length 0',
    '23:34:08.546522 ens5  In  IP 172.31.0.10.57644 > 172.31.5.20.80: Flags [P.], seq 1:235, ack 1, win 62, options [nop,nop,TS val 2328914090 ecr 4092219004], length 234: HTTP: GET / HTTP/1.1',
    '23:34:08.548832 ens5  Out IP 172.31.5.20.80 > 172.31.0.10.57644: Flags [P.], seq 1:469, ack 235, win 64, options [nop,nop,TS val 4092219011 ecr 2328914090], length 468: HTTP: HTTP/1.1 200 OK',
    '23:34:09.275665 ens5  Out IP 172.31.5.20 > 172.31.0.10: ICMP host 172.31.5.20 unreachable, length 68',
    '23:34:09.275666 docker0 Out ARP, Request who-has 172.17.0.2 tell 172.17.0.1, length 28',
    'this line is not tcpdump output',
    '',
    '6 packets captured',
    '6 packets received by filter',
    '0 packets dropped by kernel',
  ].join('\n') + '\n';
  const warnings: string[] = [];
  const summary = await readCapture(Readable.from([Buffer.from(text)]), { onPacket() {}, onWarning: (w) => warnings.push(w) });
  assert.equal(summary.format, 'tcpdump-text');
  assert.equal(summary.packets, 5);
  const s = summary.text!;
  assert.equal(s.tcpPackets, 5);
  assert.deepEqual(s.otherPackets, { icmp: 1, arp: 1 });
  assert.equal(s.sequenceNumbers, 'relative');
  assert.equal(s.timestamps, 'time-of-day');
  assert.deepEqual(s.payload, { exact: 0, text: 0, firstLine: 2, none: 0 });
  assert.equal(s.captured, 6);
  assert.deepEqual(s.notRead, [{ line: 10, text: 'this line is not tcpdump output' }]);
  assert.deepEqual(summary.interfaces.map((i) => i.name), ['ens5']);
  const said = warnings.join('\n');
  assert.match(said, /2 with only the first line of an HTTP message — payload beyond what the text shows is not known/);
  assert.match(said, /sequence numbers were printed relative .* made absolute again/);
  assert.match(said, /times of day without a date .* 1970-01-01 UTC/);
  assert.match(said, /1 ICMP, 1 ARP not turned into packets/);
  assert.match(said, /1 line not understood as tcpdump output \(first, line 10: "this line is not tcpdump output"\)/);
  // The response's head is known by its first line only: its exchange is there, with 0 body bytes said as the text's.
  const a = await analyse(Buffer.from(text));
  assert.deepEqual(a.exchanges.map((e) => [e.request?.method, e.request?.target, e.response?.status, e.response?.bodyBytes]), [['GET', '/', 200, 0]]);
});

test('text that is no tcpdump output is a CAPTURE_FORMAT error naming its first line; an empty capture is none', async () => {
  await assert.rejects(readCapture(Readable.from([Buffer.from('hello, this is not a capture\nnor this\n')]), { onPacket() {} }),
    (e: unknown) => e instanceof CaptureFormatError && e.message === 'not a pcap or pcapng file (magic 0x68656c6c), nor tcpdump text (line 1: "hello, this is not a capture")' && /tcpdump -nn/.test(e.hint));
  // tcpdump's output when nothing matched (the security group drops everything): no packets, no error.
  const empty = 'tcpdump: data link type LINUX_SLL2\nlistening on any, link-type LINUX_SLL2 (Linux cooked v2), snapshot length 262144 bytes\n0 packets captured\n0 packets received by filter\n0 packets dropped by kernel\n';
  const summary = await readCapture(Readable.from([Buffer.from(empty)]), { onPacket() {} });
  assert.equal(summary.packets, 0);
  assert.equal(summary.text!.captured, 0);
});
