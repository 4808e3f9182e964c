/**
 * Writes synthetic captures of N HTTP/1.1 exchanges for the benchmarks, as a server-side
 * capture on an EC2 instance would see them: per exchange a TCP handshake, `GET` with Host
 * and X-Amzn-Trace-Id, the server's ACK, `200 OK` with a JSON body of a few hundred bytes,
 * the client's ACK, FIN both ways and the last ACK — 10 packets. Exchanges start at a steady
 * rate with random (seeded) RTTs and server times, so many connections are interleaved; every
 * exchange has its own client address/port, so 1 M packets are 100 k connections.
 *
 * Formats: pcap, microseconds. `ethernet` (link type 1) as on ens5, or `sll2-3if` (link type
 * 276, what `tcpdump -i any` writes): each packet three times, as it crosses the host —
 * requests on ens5 In (dst instance:80), docker0 Out and veth Out (DNAT'ed to
 * 172.17.0.2:8080); responses on veth In, docker0 In (from 172.17.0.2:8080) and ens5 Out
 * (from instance:80) — plus an ifmap file (`INDEX NAME` lines) next to the capture.
 *
 * Headers: Ethernet II, IPv4 (RFC 791, checksum computed), TCP (RFC 9293, checksum
 * computed, options as Linux sends them: MSS/SACK-permitted/timestamps/window scale on SYNs,
 * timestamps on the rest), LINUX_SLL2 (https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL2.html).
 *
 * CLI: node dist/bench/gen-http-capture.js --exchanges N --out FILE [--format ethernet|sll2-3if] [--seed S] [--rate PER_SECOND]
 */
import { openSync, writeSync, closeSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';

export type GeneratedFormat = 'ethernet' | 'sll2-3if';

export interface GenerateOptions {
  exchanges: number;
  out: string;
  format?: GeneratedFormat;
  seed?: number;
  /** Exchanges started per second (default 5000). */
  ratePerSecond?: number;
  /** First timestamp, seconds since the epoch (default 2026-01-01T00:00:00Z). */
  startSec?: number;
}

export interface GenerateResult {
  file: string;
  ifmapFile: string | null;
  packets: number;
  connections: number;
  bytes: number;
}

/** Bumped whenever the bytes written change, so cached benchmark inputs are regenerated. */
export const GENERATOR_VERSION = 1;
export const PACKETS_PER_EXCHANGE = 10;
const INSTANCE_IP = ip4(10, 0, 1, 10);
const INSTANCE_PORT = 80;
const CONTAINER_IP = ip4(172, 17, 0, 2);
const CONTAINER_PORT = 8080;
const CLIENT_BASE_IP = ip4(10, 1, 0, 0); // the clients (ALB nodes and their source ports), away from the instance's 10.0.1.0/24
const IF_ENS5 = 2;
const IF_DOCKER0 = 3;
const IF_VETH = 5;
const IFMAP_TEXT = `1 lo\n${IF_ENS5} ens5\n${IF_DOCKER0} docker0\n${IF_VETH} veth1a2b3c4\n`;
const MAC_GATEWAY = [0x02, 0x1a, 0x2b, 0x3c, 0x4d, 0x01];
const MAC_ENS5 = [0x02, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e];
const MAC_DOCKER0 = [0x02, 0x42, 0x7a, 0x11, 0x00, 0x01];
const MAC_CONTAINER = [0x02, 0x42, 0xac, 0x11, 0x00, 0x02];
const SLL2_HEADER_BYTES = 20;
const ETH_HEADER_BYTES = 14;
const PCAP_RECORD_HEADER_BYTES = 16;
const LINKTYPE_ETHERNET = 1;
const LINKTYPE_LINUX_SLL2 = 276;
const SLL2_PKTTYPE_HOST = 0;
const SLL2_PKTTYPE_OUTGOING = 4;
const FLAG_FIN = 0x01;
const FLAG_SYN = 0x02;
const FLAG_PSH = 0x08;
const FLAG_ACK = 0x10;
const OUT_BUFFER_BYTES = 4 << 20;

function ip4(a: number, b: number, c: number, d: number): number {
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

/** mulberry32: a small seeded PRNG, so a benchmark capture is the same every run. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One packet of an exchange, as seen at the host's ens5 (before/after NAT is applied per copy). */
interface Step {
  timeUs: number;
  fromClient: boolean;
  flags: number;
  seq: number;
  ack: number;
  payload: Uint8Array | null;
  ipId: number;
}

interface Exchange {
  clientIp: number;
  clientPort: number;
  steps: Step[];
  next: number;
  /** Copy (0..2) of steps[next] to write next in sll2-3if. */
  copy: number;
}

const encoder = new TextEncoder();

function buildExchange(i: number, startUs: number, random: () => number): Exchange {
  const clientIp = (CLIENT_BASE_IP + 2 + (i % 60000) + Math.floor((i % 60000) / 250) * 6) >>> 0; // skip .0/.1 of each /24 roughly
  const clientPort = 1024 + ((Math.floor(i / 60000) * 7919 + i) % 64000);
  const rttUs = 200 + Math.floor(random() * 2800);
  const serverUs = 1000 + Math.floor(random() * 19000);
  const cIsn = Math.floor(random() * 0xffffffff) >>> 0;
  const sIsn = Math.floor(random() * 0xffffffff) >>> 0;
  const traceEpoch = Math.floor(startUs / 1e6).toString(16).padStart(8, '0');
  const traceRand = Array.from({ length: 3 }, () => Math.floor(random() * 0xffffffff).toString(16).padStart(8, '0')).join('');
  const request = encoder.encode(
    `GET /api/items/${i} HTTP/1.1\r\nHost: app.seqas.online\r\nUser-Agent: curl/8.4.0\r\nAccept: */*\r\n` +
    `X-Forwarded-For: 203.0.113.${(i % 250) + 1}\r\nX-Amzn-Trace-Id: Root=1-${traceEpoch}-${traceRand}\r\n\r\n`,
  );
  const bodyLength = 200 + Math.floor(random() * 300);
  const body = `{"id":${i},"name":"item-${i}","data":"${'x'.repeat(bodyLength)}"}`;
  const response = encoder.encode(
    `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
  );
  const cIpId = Math.floor(random() * 0xffff);
  const sIpId = Math.floor(random() * 0xffff);
  let c = cIsn;
  let s = sIsn;
  const steps: Step[] = [];
  const step = (timeUs: number, fromClient: boolean, flags: number, payload: Uint8Array | null, advance: number): void => {
    const seq = fromClient ? c : s;
    const ack = flags & FLAG_ACK ? (fromClient ? s : c) : 0;
    steps.push({ timeUs, fromClient, flags, seq, ack, payload, ipId: (fromClient ? cIpId : sIpId) + steps.length });
    if (fromClient) c = (c + advance) >>> 0; else s = (s + advance) >>> 0;
  };
  const t = startUs;
  step(t, true, FLAG_SYN, null, 1);
  step(t + 40, false, FLAG_SYN | FLAG_ACK, null, 1);
  step(t + rttUs, true, FLAG_ACK, null, 0);
  step(t + rttUs + 20, true, FLAG_PSH | FLAG_ACK, request, request.length);
  step(t + rttUs + 90, false, FLAG_ACK, null, 0);
  step(t + rttUs + serverUs, false, FLAG_PSH | FLAG_ACK, response, response.length);
  step(t + 2 * rttUs + serverUs, true, FLAG_ACK, null, 0);
  step(t + 2 * rttUs + serverUs + 50, true, FLAG_FIN | FLAG_ACK, null, 1);
  step(t + 2 * rttUs + serverUs + 120, false, FLAG_FIN | FLAG_ACK, null, 1);
  step(t + 3 * rttUs + serverUs + 120, true, FLAG_ACK, null, 0);
  return { clientIp, clientPort, steps, next: 0, copy: 0 };
}

/** Min-heap of active exchanges by the time of their next packet. */
class ExchangeHeap {
  private items: Exchange[] = [];
  private readonly timeOf: (e: Exchange) => number;
  constructor(timeOf: (e: Exchange) => number) { this.timeOf = timeOf; }
  get size(): number { return this.items.length; }
  peek(): Exchange { return this.items[0]; }
  push(e: Exchange): void {
    const a = this.items;
    a.push(e);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.timeOf(a[p]) <= this.timeOf(a[i])) break;
      [a[p], a[i]] = [a[i], a[p]];
      i = p;
    }
  }
  /** Re-sorts the top after its time changed (or removes it when `remove`). */
  fixTop(remove: boolean): void {
    const a = this.items;
    const last = a.pop()!;
    if (a.length === 0) { if (!remove) a.push(last); return; }
    if (remove) a[0] = last; else { a.push(last); }
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < a.length && this.timeOf(a[l]) < this.timeOf(a[m])) m = l;
      if (r < a.length && this.timeOf(a[r]) < this.timeOf(a[m])) m = r;
      if (m === i) break;
      [a[m], a[i]] = [a[i], a[m]];
      i = m;
    }
  }
}

/** Per-copy view of a step in the sll2-3if format: interface, direction, NAT, time offset. */
const COPY_OFFSET_US = [0, 12, 19];

function ones16(buf: Buffer, off: number, len: number, sum: number): number {
  let i = 0;
  for (; i + 1 < len; i += 2) sum += (buf[off + i] << 8) | buf[off + i + 1];
  if (i < len) sum += buf[off + i] << 8;
  return sum;
}

function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 65536);
  return ~sum & 0xffff;
}

class PcapOut {
  private readonly fd: number;
  private buf = Buffer.alloc(OUT_BUFFER_BYTES);
  private used = 0;
  bytes = 0;
  packets = 0;

  constructor(file: string, linkType: number) {
    this.fd = openSync(file, 'w');
    const h = Buffer.alloc(24);
    h.writeUInt32LE(0xa1b2c3d4, 0);
    h.writeUInt16LE(2, 4);
    h.writeUInt16LE(4, 6);
    h.writeUInt32LE(262144, 16);
    h.writeUInt32LE(linkType, 20);
    writeSync(this.fd, h);
    this.bytes = 24;
  }

  /** Reserves room for one record; returns its offset in `buffer`. */
  reserve(bytes: number): number {
    if (this.used + bytes > this.buf.length) this.flush();
    const off = this.used;
    this.used += bytes;
    this.bytes += bytes;
    this.packets++;
    return off;
  }

  get buffer(): Buffer { return this.buf; }

  flush(): void {
    if (this.used > 0) writeSync(this.fd, this.buf, 0, this.used);
    this.used = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

function writeMac(b: Buffer, off: number, mac: number[]): void {
  for (let i = 0; i < 6; i++) b[off + i] = mac[i];
}

/** Writes IPv4 + TCP for one step at `off`; returns the IP packet length. */
function writeIpTcp(b: Buffer, off: number, st: Step, src: number, dst: number, sport: number, dport: number, ttl: number, tsVal: number): number {
  const syn = (st.flags & FLAG_SYN) !== 0;
  const optionBytes = syn ? 20 : 12;
  const tcpLen = 20 + optionBytes;
  const payloadLen = st.payload ? st.payload.length : 0;
  const ipLen = 20 + tcpLen + payloadLen;
  // IPv4
  b[off] = 0x45; b[off + 1] = 0;
  b.writeUInt16BE(ipLen, off + 2);
  b.writeUInt16BE(st.ipId & 0xffff, off + 4);
  b.writeUInt16BE(0x4000, off + 6); // DF
  b[off + 8] = ttl; b[off + 9] = 6;
  b.writeUInt16BE(0, off + 10);
  b.writeUInt32BE(src, off + 12);
  b.writeUInt32BE(dst, off + 16);
  b.writeUInt16BE(fold(ones16(b, off, 20, 0)), off + 10);
  // TCP
  const t = off + 20;
  b.writeUInt16BE(sport, t);
  b.writeUInt16BE(dport, t + 2);
  b.writeUInt32BE(st.seq, t + 4);
  b.writeUInt32BE(st.ack, t + 8);
  b[t + 12] = (tcpLen / 4) << 4;
  b[t + 13] = st.flags;
  b.writeUInt16BE(syn ? 64240 : 502, t + 14);
  b.writeUInt16BE(0, t + 16);
  b.writeUInt16BE(0, t + 18);
  let o = t + 20;
  if (syn) {
    b[o++] = 2; b[o++] = 4; b.writeUInt16BE(1460, o); o += 2; // MSS
    b[o++] = 4; b[o++] = 2; // SACK permitted
    b[o++] = 8; b[o++] = 10; b.writeUInt32BE(tsVal >>> 0, o); b.writeUInt32BE(st.ack ? (tsVal - 7) >>> 0 : 0, o + 4); o += 8;
    b[o++] = 1; b[o++] = 3; b[o++] = 3; b[o++] = 7; // NOP, window scale 7
  } else {
    b[o++] = 1; b[o++] = 1;
    b[o++] = 8; b[o++] = 10; b.writeUInt32BE(tsVal >>> 0, o); b.writeUInt32BE((tsVal - 7) >>> 0, o + 4); o += 8;
  }
  if (st.payload) b.set(st.payload, o);
  // Pseudo-header + segment.
  let sum = ones16(b, off + 12, 8, 0) + 6 + tcpLen + payloadLen;
  sum = ones16(b, t, tcpLen + payloadLen, sum);
  b.writeUInt16BE(fold(sum), t + 16);
  return ipLen;
}

function writeRecordHeader(b: Buffer, off: number, timeUs: number, len: number): void {
  const sec = Math.floor(timeUs / 1e6);
  b.writeUInt32LE(sec, off);
  b.writeUInt32LE(timeUs - sec * 1e6, off + 4);
  b.writeUInt32LE(len, off + 8);
  b.writeUInt32LE(len, off + 12);
}

/** Writes the capture (synchronously; it is a benchmark fixture). */
export function generateHttpCapture(options: GenerateOptions): GenerateResult {
  if (!Number.isInteger(options.exchanges) || options.exchanges <= 0) throw new RangeError(`exchanges must be a positive integer, not ${options.exchanges}`);
  if (options.ratePerSecond !== undefined && !(options.ratePerSecond > 0 && Number.isFinite(options.ratePerSecond))) throw new RangeError(`ratePerSecond must be > 0, not ${options.ratePerSecond}`);
  const format = options.format ?? 'ethernet';
  const copies = format === 'sll2-3if' ? 3 : 1;
  const random = prng(options.seed ?? 20260101);
  const rate = options.ratePerSecond ?? 5000;
  const startUs = (options.startSec ?? 1767225600) * 1e6;
  const intervalUs = 1e6 / rate;
  const out = new PcapOut(options.out, format === 'ethernet' ? LINKTYPE_ETHERNET : LINKTYPE_LINUX_SLL2);
  const timeOf = (e: Exchange): number => e.steps[e.next].timeUs + COPY_OFFSET_US[e.copy];
  const heap = new ExchangeHeap(timeOf);
  let started = 0;
  const scratch = Buffer.alloc(4096);

  const emit = (ex: Exchange): void => {
    const st = ex.steps[ex.next];
    const timeUs = timeOf(ex);
    const tsVal = Math.floor(timeUs / 1000) + (ex.clientPort << 8);
    let linkLen: number;
    let ipLen: number;
    const ipOff = format === 'ethernet' ? ETH_HEADER_BYTES : SLL2_HEADER_BYTES;
    // Addresses for this copy: requests are DNAT'ed after ens5, responses un-NAT'ed at ens5.
    const atEns5 = format === 'ethernet' || (st.fromClient ? ex.copy === 0 : ex.copy === 2);
    const serverIp = atEns5 ? INSTANCE_IP : CONTAINER_IP;
    const serverPort = atEns5 ? INSTANCE_PORT : CONTAINER_PORT;
    const routed = st.fromClient ? ex.copy > 0 : ex.copy === 2; // crossed the host's routing: TTL - 1
    const ttl = 64 - (routed ? 1 : 0);
    if (st.fromClient) ipLen = writeIpTcp(scratch, ipOff, st, ex.clientIp, serverIp, ex.clientPort, serverPort, ttl, tsVal);
    else ipLen = writeIpTcp(scratch, ipOff, st, serverIp, ex.clientIp, serverPort, ex.clientPort, ttl, tsVal);
    if (format === 'ethernet') {
      writeMac(scratch, 0, st.fromClient ? MAC_ENS5 : MAC_GATEWAY);
      writeMac(scratch, 6, st.fromClient ? MAC_GATEWAY : MAC_ENS5);
      scratch.writeUInt16BE(0x0800, 12);
      linkLen = ETH_HEADER_BYTES;
    } else {
      // SLL2: protocol, reserved, ifindex, ARPHRD_ETHER, packet type, address length, address (8).
      const ifindex = st.fromClient ? [IF_ENS5, IF_DOCKER0, IF_VETH][ex.copy] : [IF_VETH, IF_DOCKER0, IF_ENS5][ex.copy];
      const outgoing = st.fromClient ? ex.copy > 0 : ex.copy === 2;
      const mac = st.fromClient ? (ex.copy === 0 ? MAC_GATEWAY : MAC_DOCKER0) : (ex.copy === 2 ? MAC_ENS5 : MAC_CONTAINER);
      scratch.writeUInt16BE(0x0800, 0);
      scratch.writeUInt16BE(0, 2);
      scratch.writeUInt32BE(ifindex, 4);
      scratch.writeUInt16BE(1, 8);
      scratch[10] = outgoing ? SLL2_PKTTYPE_OUTGOING : SLL2_PKTTYPE_HOST;
      scratch[11] = 6;
      writeMac(scratch, 12, mac);
      scratch[18] = 0; scratch[19] = 0;
      linkLen = SLL2_HEADER_BYTES;
    }
    const len = linkLen + ipLen;
    const off = out.reserve(PCAP_RECORD_HEADER_BYTES + len);
    writeRecordHeader(out.buffer, off, timeUs, len);
    scratch.copy(out.buffer, off + PCAP_RECORD_HEADER_BYTES, 0, len);
  };

  while (started < options.exchanges || heap.size > 0) {
    const nextStartUs = startUs + started * intervalUs;
    if (started < options.exchanges && (heap.size === 0 || nextStartUs <= timeOf(heap.peek()))) {
      heap.push(buildExchange(started, Math.round(nextStartUs), random));
      started++;
      continue;
    }
    const ex = heap.peek();
    emit(ex);
    ex.copy++;
    if (ex.copy === copies) { ex.copy = 0; ex.next++; }
    heap.fixTop(ex.next === ex.steps.length);
  }
  out.close();
  let ifmapFile: string | null = null;
  if (format === 'sll2-3if') {
    ifmapFile = `${options.out}.ifmap`;
    writeFileSync(ifmapFile, IFMAP_TEXT);
  }
  return { file: options.out, ifmapFile, packets: out.packets, connections: options.exchanges, bytes: out.bytes };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      exchanges: { type: 'string', short: 'n' },
      out: { type: 'string', short: 'o' },
      format: { type: 'string', default: 'ethernet' },
      seed: { type: 'string' },
      rate: { type: 'string' },
    },
  });
  const exchanges = Number(values.exchanges);
  const seed = values.seed === undefined ? undefined : Number(values.seed);
  const rate = values.rate === undefined ? undefined : Number(values.rate);
  const bad = !Number.isInteger(exchanges) || exchanges <= 0 || !values.out || (values.format !== 'ethernet' && values.format !== 'sll2-3if') ||
    (seed !== undefined && !Number.isInteger(seed)) || (rate !== undefined && !(rate > 0 && Number.isFinite(rate)));
  if (bad || values.out === undefined) {
    process.stderr.write('usage: gen-http-capture --exchanges N --out FILE [--format ethernet|sll2-3if] [--seed S] [--rate PER_SECOND]\n');
    process.exitCode = 2;
    return;
  }
  const result = generateHttpCapture({
    exchanges, out: values.out, format: values.format as GeneratedFormat,
    seed, ratePerSecond: rate,
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
