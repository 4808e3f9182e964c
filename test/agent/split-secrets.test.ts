/**
 * Privacy regression: an HTTP head split across TCP segments must not leak a secret header
 * value into the agent's pcapng. Before the per-direction masking, a header line cut between
 * two segments was masked only from where its name was seen, and a name cut in two was not
 * recognised at all.
 *
 * 1. Crafted captures go through the agent for real (runAgent, its protocol, buildResult,
 *    the pcapng writer); only the capture is scripted (the startCapture seam), with packets
 *    built below: LINUX_SLL2 (20 bytes: protocol 0x0800, ifindex, ARPHRD_ETHER, pkttype,
 *    a 6-byte address) + IPv4 (20 bytes, checksummed) + TCP (20 bytes, checksummed) + the
 *    payload. Each case is one request whose head is cut at a chosen place.
 * 2. A live capture on lo: a client writes a head in pieces, waiting until the server has
 *    read each one, so each piece is its own segment; the agent captures it with tcpdump.
 *
 * The pcapng the agent returns is read back with tshark: the HTTP fields (reassembled by
 * tshark across segments) hold only `*`, every direction's payload bytes put together equal
 * the original stream with the secret values starred, and frame lengths, captured lengths,
 * TCP sequence numbers and TCP lengths are those of the unmasked capture.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { PassThrough } from 'node:stream';
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { runAgent, SecretHeaderScanner, type ResultMessage, type AgentMessage } from '../../src/agent/index.js';
import { livePcapngBytes, KEPT_PACKET_OVERHEAD_BYTES, type LiveCapture, type LiveCaptureResult, type LivePacket } from '../../src/capture/live/index.js';
import { LINKTYPE } from '../../src/capture/types.js';

const isRoot = process.getuid?.() === 0;
const haveTshark = !spawnSync('tshark', ['--version']).error;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fttagent-split-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

// ---- crafted packets -------------------------------------------------------------------

const CLIENT = [10, 0, 0, 1];
const SERVER = [10, 0, 0, 2];
const CLIENT_PORT = 40000;
const SERVER_PORT = 80;
const ISN = 0xfffffff0; // near the wrap: sequence arithmetic must be modulo 2^32

function checksum16(bytes: Uint8Array, initial = 0): number {
  let sum = initial;
  for (let i = 0; i + 1 < bytes.length; i += 2) sum += (bytes[i] << 8) | bytes[i + 1];
  if (bytes.length % 2 === 1) sum += bytes[bytes.length - 1] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return (~sum) & 0xffff;
}

/** One SLL2/IPv4/TCP packet. `pkttype` 0: incoming, 4: outgoing. */
function tcpPacket(o: { ifindex: number; pkttype: number; src: number[]; dst: number[]; sport: number; dport: number; seq: number; flags: number; payload: Buffer }): Uint8Array {
  const sll2 = Buffer.alloc(20);
  sll2.writeUInt16BE(0x0800, 0);
  sll2.writeUInt32BE(o.ifindex, 4);
  sll2.writeUInt16BE(1, 8); // ARPHRD_ETHER
  sll2[10] = o.pkttype;
  sll2[11] = 6;
  Buffer.from([2, 0, 0, 0, 0, o.src[3]]).copy(sll2, 12);
  const tcp = Buffer.alloc(20);
  tcp.writeUInt16BE(o.sport, 0);
  tcp.writeUInt16BE(o.dport, 2);
  tcp.writeUInt32BE(o.seq >>> 0, 4);
  tcp.writeUInt32BE(o.flags & 0x10 ? 1 : 0, 8);
  tcp[12] = 5 << 4;
  tcp[13] = o.flags;
  tcp.writeUInt16BE(65535, 14);
  const segment = Buffer.concat([tcp, o.payload]);
  const pseudo = Buffer.concat([Buffer.from(o.src), Buffer.from(o.dst), Buffer.from([0, 6, segment.length >> 8, segment.length & 0xff])]);
  segment.writeUInt16BE(checksum16(Buffer.concat([pseudo, segment])), 16);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + segment.length, 2);
  ip[8] = 64;
  ip[9] = 6;
  Buffer.from(o.src).copy(ip, 12);
  Buffer.from(o.dst).copy(ip, 16);
  ip.writeUInt16BE(checksum16(ip), 10);
  return Uint8Array.from(Buffer.concat([sll2, ip, segment]));
}

const SYN = 0x02;
const PSH_ACK = 0x18;

interface Case {
  name: string;
  /** The request stream, cut into segments. */
  segments: string[];
  /** Secret values (exactly as in the stream, after `: `). */
  secrets: string[];
  /** Order in which the segments are captured (indexes into `segments`; repeats are retransmissions). */
  order?: number[];
  /** Interfaces the packets are seen on (`-i any` sees a forwarded segment on each). */
  ifindexes?: number[];
  /** Header values (default: one per secret; an obs-fold line is part of its header's value). */
  headerValues?: number;
  /** Names added to the redaction policy in `start.redact`. */
  redact?: string[];
}

const CASES: Case[] = [
  { name: 'name split: "Autho" | "rization: …"', segments: ['GET /a HTTP/1.1\r\nHost: h\r\nAutho', 'rization: Bearer SECRET-A-0123456789\r\nAccept: */*\r\n\r\n'], secrets: ['Bearer SECRET-A-0123456789'] },
  { name: 'value split: "Authorization: Bearer SEC" | "RET…"', segments: ['GET /b HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer SEC', 'RET-B-abcdefghij\r\nAccept: */*\r\n\r\n'], secrets: ['Bearer SECRET-B-abcdefghij'] },
  { name: 'three segments: "Cook" | "ie: sid=SECRET-C-" | "0001; theme=dark…"', segments: ['GET /c HTTP/1.1\r\nHost: h\r\nCook', 'ie: sid=SECRET-C-', '0001; theme=dark\r\nAccept: */*\r\n\r\n'], secrets: ['sid=SECRET-C-0001; theme=dark'] },
  { name: 'cut at the line start: "…\\r\\n" | "Cookie: …"', segments: ['GET /d HTTP/1.1\r\nHost: h\r\n', 'Cookie: sid=SECRET-D-42\r\n\r\n'], secrets: ['sid=SECRET-D-42'] },
  { name: 'cut right before the colon and in the value: "Proxy-Authorization" | ":  Basic S" | "ECRET-E"', segments: ['GET /e HTTP/1.1\r\nProxy-Authorization', ':  Basic S', 'ECRET-E\r\nHost: h\r\n\r\n'], secrets: ['Basic SECRET-E'] },
  { name: 'obs-fold continuation in the next segment', segments: ['GET /f HTTP/1.1\r\nCookie: a=SECRET-F1\r\n', ' b=SECRET-F2\r\nHost: h\r\n\r\n'], secrets: ['a=SECRET-F1', 'b=SECRET-F2'], headerValues: 1 },
  // The rest of the policy's list (src/redaction.ts): X-Api-Key stayed in clear before it.
  { name: 'X-Api-Key, name split: "X-Api" | "-Key: …"', segments: ['GET /h HTTP/1.1\r\nHost: h\r\nX-Api', '-Key: SECRET-H-apikey-0042\r\n\r\n'], secrets: ['SECRET-H-apikey-0042'] },
  { name: 'X-Amz-Security-Token, value split over three segments', segments: ['GET /i HTTP/1.1\r\nX-Amz-Security-Token: FwoG', 'ZXIvYXdzEXAMPLE-SECRET-I', '-sts0001\r\nHost: h\r\n\r\n'], secrets: ['FwoGZXIvYXdzEXAMPLE-SECRET-I-sts0001'] },
  { name: 'every name of the list in one head, cut every 7 bytes', segments: chunks('GET /j HTTP/1.1\r\nAuthorization: Basic SECRET-J1\r\nProxy-Authorization: Basic SECRET-J2\r\nCookie: sid=SECRET-J3\r\nSet-Cookie: sid=SECRET-J4\r\nX-Api-Key: SECRET-J5\r\nX-Amz-Security-Token: SECRET-J6\r\nHost: h\r\n\r\n', 7), secrets: ['Basic SECRET-J1', 'Basic SECRET-J2', 'sid=SECRET-J3', 'sid=SECRET-J4', 'SECRET-J5', 'SECRET-J6'] },
  { name: 'a name added with start.redact (X-Session-Token), split in its name', segments: ['GET /k HTTP/1.1\r\nX-Sess', 'ion-Token: SECRET-K-added\r\nX-Other: not-secret\r\n\r\n'], secrets: ['SECRET-K-added'], redact: ['X-Session-Token'] },
  { name: 'out of order, with a retransmission, seen on two interfaces', segments: ['GET /g HTTP/1.1\r\nAuthori', 'zation: Bearer SECR', 'ET-G-xyz\r\nHost: h\r\n\r\n'], secrets: ['Bearer SECRET-G-xyz'], order: [0, 2, 1, 1], ifindexes: [2, 3] },
];

/** `text` cut every `n` bytes. */
function chunks(text: string, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += n) out.push(text.slice(i, i + n));
  return out;
}

function casePackets(c: Case, tsBase: number): LivePacket[] {
  const packets: LivePacket[] = [];
  const ifindexes = c.ifindexes ?? [2];
  const push = (data: Uint8Array, ifindex: number, pkttype: number): void => {
    packets.push({ index: packets.length + 1, tsSec: tsBase, tsNsec: packets.length * 1000, linkType: LINKTYPE.LINUX_SLL2, originalLength: data.length, data, ifindex, interfaceName: `if${ifindex}`, direction: pkttype === 4 ? 'out' : 'in' });
  };
  const offsets: number[] = [];
  let at = 0;
  for (const s of c.segments) { offsets.push(at); at += Buffer.byteLength(s, 'latin1'); }
  const copies = (build: (ifindex: number, pkttype: number) => Uint8Array): void => {
    ifindexes.forEach((ifindex, k) => push(build(ifindex, k === 0 ? 0 : 4), ifindex, k === 0 ? 0 : 4));
  };
  copies((ifindex, pkttype) => tcpPacket({ ifindex, pkttype, src: CLIENT, dst: SERVER, sport: CLIENT_PORT, dport: SERVER_PORT, seq: ISN, flags: SYN, payload: Buffer.alloc(0) }));
  for (const i of c.order ?? c.segments.map((_, k) => k)) {
    copies((ifindex, pkttype) => tcpPacket({ ifindex, pkttype, src: CLIENT, dst: SERVER, sport: CLIENT_PORT, dport: SERVER_PORT, seq: (ISN + 1 + offsets[i]) % 2 ** 32, flags: PSH_ACK, payload: Buffer.from(c.segments[i], 'latin1') }));
  }
  return packets;
}

/** A LiveCapture that has already captured `packets` (the agent's startCapture seam). */
function replayedCapture(packets: LivePacket[], ifmap: Map<number, string>): LiveCapture {
  const result: LiveCaptureResult = {
    packets, packetCount: packets.length, capturedBytes: packets.reduce((n, p) => n + p.data.length, 0),
    keptCostBytes: packets.reduce((n, p) => n + p.data.length + KEPT_PACKET_OVERHEAD_BYTES, 0), keptTruncated: false,
    stoppedBy: 'stop', kernel: null, summary: null, warnings: [], durationMs: 1,
  };
  const done = Promise.resolve(result);
  return {
    pid: null, argv: ['replayed'], requestedFilter: 'port 80', effectiveFilter: 'port 80', natTranslations: [], notes: [],
    links: [], ifmap, veths: [], state: { kind: 'listening', sinceMs: 0 }, stop: () => done, done,
  };
}

/** Runs the agent over `lines` and returns its messages. */
async function agentSession(lines: string[], startCapture?: () => Promise<LiveCapture>): Promise<AgentMessage[]> {
  const input = new PassThrough();
  const out: string[] = [];
  const running = runAgent({
    input,
    output: (t) => out.push(t),
    ...(startCapture ? { startCapture, readLinks: async () => [] } : {}),
  });
  for (const l of lines) input.write(l + '\n');
  input.end();
  assert.equal(await running, 0);
  return out.join('').trim().split('\n').map((l) => JSON.parse(l) as AgentMessage);
}

// ---- reading back with tshark ----------------------------------------------------------

function tshark(file: string, args: string[]): string[][] {
  const r = spawnSync('tshark', ['-r', file, ...args], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter((l) => l !== '').map((l) => l.split('\t'));
}

/** Every direction's TCP payload, put together in sequence order (retransmissions once). */
function streamsOf(file: string): Map<string, string> {
  const rows = tshark(file, ['-o', 'tcp.analyze_sequence_numbers:FALSE', '-T', 'fields', '-e', 'frame.interface_name', '-e', 'frame.packet_flags_direction', '-e', 'tcp.srcport', '-e', 'tcp.dstport', '-e', 'tcp.seq_raw', '-e', 'tcp.payload', '-Y', 'tcp.len > 0']);
  const pieces = new Map<string, Map<number, Buffer>>();
  for (const [iface, dir, sport, dport, seq, payload] of rows) {
    const key = `${iface} ${dir} ${sport}>${dport}`;
    if (!pieces.has(key)) pieces.set(key, new Map());
    pieces.get(key)!.set(Number(seq), Buffer.from(payload.replace(/:/g, ''), 'hex'));
  }
  const out = new Map<string, string>();
  for (const [key, bySeq] of pieces) {
    const seqs = [...bySeq.keys()];
    const first = seqs.reduce((a, b) => (((b - a) | 0) < 0 ? b : a));
    const sorted = seqs.sort((a, b) => ((a - first) >>> 0) - ((b - first) >>> 0));
    let text = '';
    for (const s of sorted) {
      const rel = (s - first) >>> 0;
      const data = bySeq.get(s)!.toString('latin1');
      if (rel + data.length > text.length) text = text.slice(0, rel) + data;
    }
    out.set(key, text);
  }
  return out;
}

/** What tshark says of every frame: lengths and TCP sequence numbers (must not change). */
function frameShapes(file: string): string[] {
  return tshark(file, ['-T', 'fields', '-e', 'frame.len', '-e', 'frame.cap_len', '-e', 'tcp.seq_raw', '-e', 'tcp.len']).map((r) => r.join(' '));
}

function starred(text: string, secrets: string[]): string {
  let out = text;
  for (const s of secrets) {
    assert.ok(out.includes(s), `the case's stream holds ${s}`);
    out = out.replace(s, '*'.repeat(s.length));
  }
  return out;
}

/** No run of 4 bytes of a secret is in the file, unless the rest of the (starred) stream has it too. */
function assertNoSecretByte(file: string, secrets: string[], starredStream: string): void {
  const bytes = fs.readFileSync(file).toString('latin1');
  for (const s of secrets) {
    for (let i = 0; i + 4 <= s.length; i++) {
      const gram = s.slice(i, i + 4);
      if (starredStream.includes(gram)) continue; // e.g. "Bear" is not secret if another line has it
      assert.ok(!bytes.includes(gram), `'${gram}' of the secret '${s}' is in the pcapng`);
    }
  }
}

// ---- the tests -------------------------------------------------------------------------

test('the scanner finds the same value ranges however the stream is cut (property)', () => {
  const line = fc.oneof(
    fc.constantFrom('Host: h', 'Accept: */*', 'X-Cookie: no', 'Cookie2: no', 'Authorizations: no', 'Authorization:', 'Cookie:  '),
    fc.tuple(fc.constantFrom('Authorization', 'proxy-authorization', 'COOKIE', 'Set-Cookie', 'x-api-key', 'X-Amz-Security-Token'), fc.constantFrom(':', ': ', ' :\t', ':   '), fc.stringMatching(/^[!-~][ -~]{0,20}$/))
      .map(([n, sep, v]) => `${n}${sep}${v}`),
    fc.stringMatching(/^[ \t][!-~]{1,10}$/), // obs-fold
  );
  fc.assert(fc.property(fc.array(line, { maxLength: 8 }), fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 10 }), (lines, cuts) => {
    const bytes = Buffer.from(`GET / HTTP/1.1\r\n${lines.map((l) => l + '\r\n').join('')}\r\n`, 'latin1');
    const whole = new SecretHeaderScanner();
    whole.feed(bytes, 0, bytes.length, 0);
    whole.finish();
    const cut = new SecretHeaderScanner();
    let at = 0;
    for (let i = 0; at < bytes.length; i++) {
      const n = Math.min(cuts[i % cuts.length], bytes.length - at);
      cut.feed(bytes, at, at + n, at);
      at += n;
    }
    cut.finish();
    assert.deepEqual(cut.ranges, whole.ranges);
    assert.equal(cut.values, whole.values);
    // Every range is a value of a secret header, ending at CR.
    for (let r = 0; r < whole.ranges.length; r += 2) assert.equal(bytes[whole.ranges[r + 1]], 0x0d);
  }), { numRuns: 300 });
});

for (const [k, c] of CASES.entries()) {
  test(`crafted capture, ${c.name}: the agent's pcapng holds no byte of the secret, lengths and sequence numbers unchanged`, { skip: haveTshark ? false : 'needs tshark to read the pcapng back' }, async () => {
    const packets = casePackets(c, 1_700_000_000 + k);
    const ifmap = new Map((c.ifindexes ?? [2]).map((i) => [i, `if${i}`]));
    const start = { type: 'start', id: 's', ports: [80], pcapng: true, ...(c.redact ? { redact: c.redact } : {}) };
    const messages = await agentSession([JSON.stringify(start), '{"type":"stop","id":"s"}'], async () => replayedCapture(packets, ifmap));
    const result = messages.find((m): m is ResultMessage => m.type === 'result');
    assert.ok(result && result.pcapng, JSON.stringify(messages));
    const masked = path.join(tmp, `case${k}.pcapng`);
    fs.writeFileSync(masked, Buffer.from(result.pcapng, 'base64'));
    const original = path.join(tmp, `case${k}-original.pcapng`);
    fs.writeFileSync(original, livePcapngBytes(packets, ifmap, new Map(), { maskSecrets: false }).bytes);

    // Nor in the text and JSON of the result (packet lines, exchange, paths, warnings).
    const text = JSON.stringify({ ...result, pcapng: null });
    for (const secret of c.secrets) assert.ok(!text.includes(secret), `'${secret}' is in the result`);
    const expected = starred(c.segments.join(''), c.secrets);
    assertNoSecretByte(masked, c.secrets, expected);
    const streams = streamsOf(masked);
    assert.equal(streams.size, (c.ifindexes ?? [2]).length);
    for (const [key, text] of streams) assert.equal(text, expected, key);
    assert.equal(result.redactions, (c.headerValues ?? c.secrets.length) * (c.ifindexes ?? [2]).length);
    assert.deepEqual(frameShapes(masked), frameShapes(original));
    // tshark's own HTTP dissector, reassembling the head across the segments, sees only stars.
    if (!c.order) {
      const fields = tshark(masked, ['-Y', 'http.request', '-T', 'fields', '-E', 'aggregator=|', '-e', 'http.request.line']);
      assert.equal(fields.length, 1, 'tshark sees one request');
      const names = ['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key', 'x-amz-security-token', ...(c.redact ?? []).map((n) => n.toLowerCase())];
      const lines = fields[0][0].split('|').filter((l) => names.includes(l.slice(0, l.indexOf(':')).toLowerCase()));
      assert.ok(lines.length >= 1, `tshark shows the header: ${fields[0][0]}`);
      for (const l of lines) assert.match(l.slice(l.indexOf(':') + 1), /^[* ]+(\\r\\n|\r\n)?$/, `tshark shows '${l}'`);
    }
  });
}

test('live capture on lo: a head written in pieces (Authorization cut in the name, Cookie over 3 segments, Set-Cookie cut in the value) is masked in the agent\'s pcapng', { skip: !isRoot || !haveTshark ? 'needs root to capture and tshark to read back' : false }, async () => {
  const request = ['GET /split HTTP/1.1\r\nHost: 127.0.0.1\r\nAutho', 'rization: Bearer LIVE-SECRET-abcdef0123\r\nCook', 'ie: sid=LIVE-SEC', 'RET-cookie-987; x=1\r\n\r\n'];
  const response = ['HTTP/1.1 200 OK\r\nContent-Length: 0\r\nSet-Cookie: sid=LIVE-SE', 'CRET-server-555; HttpOnly\r\n\r\n'];
  const secrets = ['Bearer LIVE-SECRET-abcdef0123', 'sid=LIVE-SECRET-cookie-987; x=1', 'sid=LIVE-SECRET-server-555; HttpOnly'];
  let serverSocket: net.Socket | null = null;
  let serverGot = 0;
  const serverWaiters: Array<() => void> = [];
  const server = net.createServer((s) => {
    serverSocket = s;
    s.setNoDelay(true);
    s.on('data', (d: Buffer) => { serverGot += d.length; serverWaiters.splice(0).forEach((w) => w()); });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;

  const input = new PassThrough();
  const out: string[] = [];
  let lineWaiter: (() => void) | null = null;
  const running = runAgent({ input, output: (t) => { out.push(t); lineWaiter?.(); } });
  const nextOf = async (type: string): Promise<AgentMessage> => {
    for (;;) {
      const found = out.join('').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as AgentMessage).find((m) => m.type === type || m.type === 'error');
      if (found) return found;
      await new Promise<void>((r) => { lineWaiter = r; });
    }
  };
  try {
    input.write(JSON.stringify({ type: 'start', id: 'live', interfaces: ['lo'], ports: [port], pcapng: true, maxDurationMs: 60_000 }) + '\n');
    const started = await nextOf('started');
    assert.equal(started.type, 'started', JSON.stringify(started));

    const client = net.connect(port, '127.0.0.1');
    client.setNoDelay(true);
    await new Promise<void>((r) => client.once('connect', () => r()));
    let clientGot = '';
    const clientWaiters: Array<() => void> = [];
    client.on('data', (d: Buffer) => { clientGot += d.toString('latin1'); clientWaiters.splice(0).forEach((w) => w()); });
    // Each piece is sent once the other side has read everything before it: its own segment.
    let sent = 0;
    for (const piece of request) {
      client.write(piece);
      sent += piece.length;
      while (serverGot < sent) await new Promise<void>((r) => serverWaiters.push(r));
    }
    let answered = 0;
    for (const piece of response) {
      serverSocket!.write(piece);
      answered += piece.length;
      while (clientGot.length < answered) await new Promise<void>((r) => clientWaiters.push(r));
    }
    client.end();
    await new Promise<void>((r) => client.once('close', () => r()));

    input.write('{"type":"stop","id":"live"}\n');
    const result = await nextOf('result') as ResultMessage;
    assert.equal(result.type, 'result', JSON.stringify(result));
    assert.ok(result.pcapng);
    const file = path.join(tmp, 'live.pcapng');
    fs.writeFileSync(file, Buffer.from(result.pcapng, 'base64'));

    assertNoSecretByte(file, secrets, starred(request.join(''), secrets.slice(0, 2)) + starred(response.join(''), secrets.slice(2)));
    const streams = streamsOf(file);
    const toServer = [...streams].filter(([k]) => k.endsWith(`>${port}`));
    const toClient = [...streams].filter(([k]) => k.includes(` ${port}>`));
    assert.ok(toServer.length >= 1 && toClient.length >= 1, [...streams.keys()].join(', '));
    for (const [key, text] of toServer) assert.equal(text, starred(request.join(''), secrets.slice(0, 2)), key);
    for (const [key, text] of toClient) assert.equal(text, starred(response.join(''), secrets.slice(2)), key);
    // Each piece went as its own segment (else the test would not test splitting).
    const lens = tshark(file, ['-Y', `tcp.len > 0 and tcp.dstport == ${port}`, '-T', 'fields', '-e', 'tcp.len']).map((r) => Number(r[0]));
    assert.deepEqual([...new Set(lens)].sort((a, b) => a - b), [...new Set(request.map((p) => p.length))].sort((a, b) => a - b));
    const fields = tshark(file, ['-Y', 'http', '-T', 'fields', '-e', 'http.authorization', '-e', 'http.cookie', '-e', 'http.set_cookie']);
    const values = fields.flat().filter((v) => v !== '');
    assert.ok(values.length >= 3, `tshark shows the headers: ${JSON.stringify(fields)}`);
    for (const v of values) assert.match(v, /^[*]+$/, `tshark shows '${v}'`);
  } finally {
    input.end();
    await running;
    server.close();
  }
});
