/**
 * Hostile inputs, generated (never committed: some are tens of MB), and the helpers the
 * hostile-input tests share: a temp dir, a median timer, the CLI as a child process.
 *
 * Layouts: pcapng (https://datatracker.ietf.org/doc/draft-ietf-opsawg-pcapng/) SHB 28 bytes,
 * IDB 20 bytes (+ options), EPB 32 bytes + data; pcap (pcap-savefile(5)) 24 + 16 per record.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readlinkSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { selfCliArgv } from '../../src/self.js';
import { buildIpTcp, pcapBytes, type Frame } from '../flow/craft.js';

export const LINKTYPE_ETHERNET = 1;

/** A temp dir removed by the returned function. */
export function tempDir(): { dir: string; file(name: string): string; remove(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ft-hostile-'));
  return { dir, file: (name) => path.join(dir, name), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

function shb(): Buffer {
  const b = Buffer.alloc(28);
  b.writeUInt32LE(0x0a0d0d0a, 0);
  b.writeUInt32LE(28, 4);
  b.writeUInt32LE(0x1a2b3c4d, 8);
  b.writeUInt16LE(1, 12);
  b.writeInt32LE(-1, 16); // section length unknown
  b.writeInt32LE(-1, 20);
  b.writeUInt32LE(28, 24);
  return b;
}

/** An IDB, optionally with if_name (option 2). */
function idb(linkType: number, name: string | null): Buffer {
  const nameBytes = name === null ? null : Buffer.from(name, 'utf8');
  const optBytes = nameBytes === null ? 0 : 4 + ((nameBytes.length + 3) & ~3) + 4;
  const len = 20 + optBytes;
  const b = Buffer.alloc(len);
  b.writeUInt32LE(1, 0);
  b.writeUInt32LE(len, 4);
  b.writeUInt16LE(linkType, 8);
  b.writeUInt32LE(65535, 12);
  if (nameBytes !== null) {
    b.writeUInt16LE(2, 16);
    b.writeUInt16LE(nameBytes.length, 18);
    nameBytes.copy(b, 20);
    // opt_endofopt: 4 zero bytes already there
  }
  b.writeUInt32LE(len, len - 4);
  return b;
}

function epb(interfaceId: number, tsUs: number, data: Uint8Array): Buffer {
  const padded = (data.length + 3) & ~3;
  const len = 32 + padded;
  const b = Buffer.alloc(len);
  b.writeUInt32LE(6, 0);
  b.writeUInt32LE(len, 4);
  b.writeUInt32LE(interfaceId, 8);
  b.writeUInt32LE(Math.floor(tsUs / 2 ** 32), 12);
  b.writeUInt32LE(tsUs % 2 ** 32, 16);
  b.writeUInt32LE(data.length, 20);
  b.writeUInt32LE(data.length, 24);
  Buffer.from(data).copy(b, 28);
  b.writeUInt32LE(len, len - 4);
  return b;
}

/** The reproduction: a section header and `count` nameless Ethernet IDBs, nothing else. */
export function interfaceBlocksOnly(count: number): Buffer {
  const one = idb(LINKTYPE_ETHERNET, null);
  const out = Buffer.alloc(28 + one.length * count);
  shb().copy(out, 0);
  for (let i = 0; i < count; i++) one.copy(out, 28 + i * one.length);
  return out;
}

/** An Ethernet frame with an IPv4 TCP SYN from 10.x.y.z:port to 172.31.5.20:80, distinct per i. */
export function synFrame(i: number): Uint8Array {
  return ethernet(buildIpTcp({
    src: `10.${(i >> 16) & 0xff}.${(i >> 8) & 0xff}.${i & 0xff}`, dst: '172.31.5.20', srcPort: 1024 + (i % 60000), dstPort: 80,
    seq: i * 7919, ack: 0, flags: 'S', window: 64240, ipId: i & 0xffff, ttl: 64, payload: new Uint8Array(0),
  }));
}

/**
 * An IPv4 UDP datagram (RFC 768, checksum 0 = none) 10.0.0.1:5353 → 10.0.0.2:53 with 4
 * payload bytes: a packet every layer reads, that opens no TCP connection — so a test of the
 * interface table measures the table, not the connection tracking.
 */
export function udpPacket(i: number): Uint8Array {
  const b = Buffer.alloc(32);
  b[0] = 0x45;
  b.writeUInt16BE(32, 2);
  b.writeUInt16BE(i & 0xffff, 4);
  b[8] = 64;
  b[9] = 17;
  b.set([10, 0, 0, 1, 10, 0, 0, 2], 12);
  b.writeUInt16BE(5353, 20);
  b.writeUInt16BE(53, 22);
  b.writeUInt16BE(12, 24);
  b.writeUInt32BE(i, 28);
  return b;
}

/** `count` named IDBs (eth0…), then one packet per interface (`packet(i)`: Ethernet frame bytes; null: none). */
export function onePacketPerInterface(count: number, packet: ((i: number) => Uint8Array) | null = (i) => ethernet(udpPacket(i))): Buffer {
  const parts: Buffer[] = [shb()];
  for (let i = 0; i < count; i++) parts.push(idb(LINKTYPE_ETHERNET, `eth${i}`));
  if (packet !== null) for (let i = 0; i < count; i++) parts.push(epb(i, 1_700_000_000_000_000 + i * 1000, packet(i)));
  return Buffer.concat(parts);
}

export function ethernet(ip: Uint8Array): Uint8Array {
  const frame = new Uint8Array(14 + ip.length);
  frame.set([0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00], 0);
  frame.set(ip, 14);
  return frame;
}

/** A `tcpdump -i any` (SLL2) pcap whose every packet carries an interface index of its own. */
export function distinctIfindexPerPacket(count: number): Buffer {
  const frames: Frame[] = [];
  for (let i = 0; i < count; i++) frames.push({ tsUs: 1_700_000_000_000_000 + i * 1000, ifindex: 10 + i, direction: 'in', ip: udpPacket(i) });
  return Buffer.from(pcapBytes(frames, 'sll2'));
}

/** pcap record header (16) + SLL2 (20) + IPv4 (20) + TCP (20). */
const SYN_RECORD_BYTES = 76;

/**
 * A SYN flood as `tcpdump -i any` writes it (LINUX_SLL2 pcap): `count` SYNs from distinct
 * sources 10.x.y.z, 10 µs apart, made from one template (checksums are not recomputed:
 * nothing in flowtrace checks them), so millions take a moment to make. `start` shifts the
 * sources and times (a second part of the same flood).
 */
export function synFlood(count: number, start = 0, withFileHeader = true): Buffer {
  const template = Buffer.from(pcapBytes([{ tsUs: 0, ifindex: 2, direction: 'in', ip: synFrame(0).subarray(14) }], 'sll2'));
  const header = template.subarray(0, 24);
  const record = template.subarray(24);
  if (record.length !== SYN_RECORD_BYTES) throw new Error(`SYN record is ${record.length} bytes`);
  const out = Buffer.alloc((withFileHeader ? 24 : 0) + count * SYN_RECORD_BYTES);
  let o = 0;
  if (withFileHeader) o += header.copy(out, 0);
  const base = 1_700_000_000;
  for (let k = 0; k < count; k++, o += SYN_RECORD_BYTES) {
    const i = start + k;
    record.copy(out, o);
    const us = i * 10;
    out.writeUInt32LE(base + Math.floor(us / 1e6), o);
    out.writeUInt32LE(us % 1e6, o + 4);
    const ip = o + 16 + 20;
    out.writeUInt32BE((0x0a000000 | (i & 0xffffff)) >>> 0, ip + 12); // source 10.x.y.z
    out.writeUInt16BE(1024 + (i % 60000), ip + 20); // source port
    out.writeUInt32BE((i * 7919) >>> 0, ip + 24); // sequence number
  }
  return out;
}

export function writeInput(file: string, bytes: Uint8Array): string {
  writeFileSync(file, bytes);
  return file;
}

/** Median wall time (ms) of `runs` calls of `fn`, after one warm-up call. */
export async function medianMs(fn: () => Promise<unknown> | unknown, runs: number): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/**
 * The "10× more items take ≤ 12× the time" rule, measured robustly: both sizes are warmed up
 * first (the JIT must not make the small one look slow), then runs alternate small/large (a
 * slow moment of the machine hits both), and the medians are compared. The caller picks a
 * small size well above timer noise (several ms).
 */
export async function growthRatio(run: (n: number) => Promise<unknown> | unknown, small: number, runs = 7): Promise<{ smallMs: number; largeMs: number; ratio: number }> {
  const large = small * 10;
  for (let i = 0; i < 2; i++) { await run(small); await run(large); }
  const smallTimes: number[] = [];
  const largeTimes: number[] = [];
  for (let i = 0; i < runs; i++) {
    for (const [n, times] of [[small, smallTimes], [large, largeTimes]] as const) {
      const t0 = performance.now();
      await run(n);
      times.push(performance.now() - t0);
    }
  }
  const smallMs = median(smallTimes);
  const largeMs = median(largeTimes);
  return { smallMs, largeMs, ratio: largeMs / smallMs };
}

export interface CliRun {
  child: ChildProcess;
  stdout: string;
  stderr: string;
  /** Resolves with the exit code (or the signal's name) and when it came (performance.now()). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

/** Runs the CLI (built or through tsx, as selfCliArgv says) with its output collected. */
export function runCli(args: string[], options: { stdout?: 'pipe' | 'ignore' } = {}): CliRun {
  const [node, ...rest] = selfCliArgv();
  const child = spawn(node, [...rest, ...args], { stdio: ['ignore', options.stdout ?? 'pipe', 'pipe'] });
  const run: CliRun = {
    child, stdout: '', stderr: '',
    exited: new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, at: performance.now() }))),
  };
  child.stdout?.setEncoding('utf8').on('data', (t: string) => { run.stdout += t; });
  child.stderr!.setEncoding('utf8').on('data', (t: string) => { run.stderr += t; });
  return run;
}

/**
 * Resolves once process `pid` holds `file` open (Linux: /proc/PID/fd): the command has got as
 * far as reading its input, so its stop handlers are in place. Rejects after `timeoutMs`.
 */
export async function untilOpened(pid: number, file: string, timeoutMs = 30_000): Promise<void> {
  const target = realpathSync(file);
  const giveUpAt = performance.now() + timeoutMs;
  for (;;) {
    let fds: string[] = [];
    try { fds = readdirSync(`/proc/${pid}/fd`); } catch { /* not started yet, or gone */ }
    for (const fd of fds) {
      try { if (readlinkSync(`/proc/${pid}/fd/${fd}`) === target) return; } catch { /* closed meanwhile */ }
    }
    if (performance.now() > giveUpAt) throw new Error(`process ${pid} did not open ${file} within ${timeoutMs} ms`);
    await sleep(10);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `count` sections, each a section header, one named interface block and one packet on it. */
export function manySections(count: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < count; i++) parts.push(shb(), idb(LINKTYPE_ETHERNET, `eth${i & 7}`), epb(0, 1_700_000_000_000_000 + i * 1000, ethernet(udpPacket(i))));
  return Buffer.concat(parts);
}

/** A pcapng: `good` packets on interface 0, then one on interface 7 the section does not describe, then more. */
export function packetOnUndescribedInterface(good: number): Buffer {
  const parts: Buffer[] = [shb(), idb(LINKTYPE_ETHERNET, 'eth0')];
  for (let i = 0; i < good; i++) parts.push(epb(0, 1_700_000_000_000_000 + i * 1000, synFrame(i)));
  parts.push(epb(7, 1_700_000_000_100_000, synFrame(good)), epb(0, 1_700_000_000_200_000, synFrame(good + 1)));
  return Buffer.concat(parts);
}

/**
 * A pcap written fast, record by record, for inputs of millions of packets: LINUX_SLL2 (the
 * interface index and direction of each packet given) + IPv4 + TCP, no checksums (nothing in
 * flowtrace checks them). Addresses are numbers.
 */
export class FastPcap {
  private buf = Buffer.alloc(1 << 20);
  private used = 0;

  constructor() {
    // pcap file header (pcap-savefile(5)): magic, 2.4, snaplen 262144, LINKTYPE_LINUX_SLL2.
    this.ensure(24);
    this.buf.writeUInt32LE(0xa1b2c3d4, 0);
    this.buf.writeUInt16LE(2, 4);
    this.buf.writeUInt16LE(4, 6);
    this.buf.writeUInt32LE(262144, 16);
    this.buf.writeUInt32LE(276, 20);
    this.used = 24;
  }

  private ensure(n: number): void {
    if (this.used + n <= this.buf.length) return;
    const grown = Buffer.alloc(Math.max(this.buf.length * 2, this.used + n));
    this.buf.copy(grown, 0, 0, this.used);
    this.buf = grown;
  }

  tcp(p: { tsUs: number; ifindex?: number; out?: boolean; src: number; dst: number; srcPort: number; dstPort: number; seq: number; ack: number; flags: number; ipId?: number; window?: number; payload?: Uint8Array }): this {
    const payload = p.payload ?? EMPTY_BYTES;
    const len = 20 + 20 + 20 + payload.length;
    this.ensure(16 + len);
    const b = this.buf;
    let o = this.used;
    b.writeUInt32LE(Math.floor(p.tsUs / 1e6), o);
    b.writeUInt32LE(p.tsUs % 1e6, o + 4);
    b.writeUInt32LE(len, o + 8);
    b.writeUInt32LE(len, o + 12);
    o += 16;
    // SLL2: protocol, reserved, ifindex, ARPHRD_ETHER, packet type (0 to us / 4 outgoing), address length 6.
    b.fill(0, o, o + 20);
    b.writeUInt16BE(0x0800, o);
    b.writeUInt32BE(p.ifindex ?? 2, o + 4);
    b.writeUInt16BE(1, o + 8);
    b[o + 10] = p.out === true ? 4 : 0;
    b[o + 11] = 6;
    o += 20;
    b.fill(0, o, o + 40);
    b[o] = 0x45;
    b.writeUInt16BE(40 + payload.length, o + 2);
    b.writeUInt16BE((p.ipId ?? 0) & 0xffff, o + 4);
    b[o + 8] = 64;
    b[o + 9] = 6;
    b.writeUInt32BE(p.src >>> 0, o + 12);
    b.writeUInt32BE(p.dst >>> 0, o + 16);
    o += 20;
    b.writeUInt16BE(p.srcPort, o);
    b.writeUInt16BE(p.dstPort, o + 2);
    b.writeUInt32BE(p.seq >>> 0, o + 4);
    b.writeUInt32BE(p.ack >>> 0, o + 8);
    b[o + 12] = 5 << 4;
    b[o + 13] = p.flags;
    b.writeUInt16BE(p.window ?? 502, o + 14);
    o += 20;
    b.set(payload, o);
    this.used = o + payload.length;
    return this;
  }

  bytes(): Buffer {
    return this.buf.subarray(0, this.used);
  }
}

const EMPTY_BYTES = new Uint8Array(0);
export const TCP_SYN = 0x02;
export const TCP_ACK = 0x10;
export const TCP_PSH_ACK = 0x18;
export const TCP_FIN_ACK = 0x11;

/** 10.x.y.z for i (distinct for i < 2^24). */
export function sourceAddress(i: number): number {
  return (0x0a000000 | (i & 0xffffff)) >>> 0;
}

/** `count` lone ACKs from distinct sources to 172.31.5.20:80: each a connection whose start was not captured (established, midstream). */
export function ackFlood(count: number): Buffer {
  const w = new FastPcap();
  for (let i = 0; i < count; i++) w.tcp({ tsUs: 1_700_000_000_000_000 + i * 10, src: sourceAddress(i), dst: 0xac1f0514, srcPort: 1024 + (i % 60000), dstPort: 80, seq: i * 7919, ack: 1, flags: TCP_ACK });
  return w.bytes();
}

/** `count` distinct packets of one connection all at one instant (`-i any`: stitched): the stitch window holds them all. */
export function oneInstant(count: number): Buffer {
  const w = new FastPcap();
  for (let i = 0; i < count; i++) w.tcp({ tsUs: 1_700_000_000_000_000, src: 0x0a000001, dst: 0xac1f0514, srcPort: 40000, dstPort: 80, seq: 1000 + i, ack: 1, flags: TCP_ACK, ipId: i });
  return w.bytes();
}

/**
 * One keep-alive connection (never closed) carrying `exchanges` GET → 200 exchanges, each
 * request and response followed by the other side's ACK.
 */
export function keepAlive(exchanges: number): Buffer {
  const w = new FastPcap();
  const client = 0x0a000001;
  const server = 0xac1f0514;
  const te = new TextEncoder();
  const req = te.encode('GET /k HTTP/1.1\r\nHost: h\r\n\r\n');
  const res = te.encode('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
  let cseq = 1000;
  let sseq = 500_000;
  let t = 1_700_000_000_000_000;
  const c = { src: client, dst: server, srcPort: 40000, dstPort: 80 };
  const s = { src: server, dst: client, srcPort: 80, dstPort: 40000, out: true };
  w.tcp({ ...c, tsUs: t, seq: cseq++, ack: 0, flags: TCP_SYN });
  w.tcp({ ...s, tsUs: t += 100, seq: sseq++, ack: cseq, flags: 0x12 });
  w.tcp({ ...c, tsUs: t += 100, seq: cseq, ack: sseq, flags: TCP_ACK });
  for (let i = 0; i < exchanges; i++) {
    w.tcp({ ...c, tsUs: t += 100, seq: cseq, ack: sseq, flags: TCP_PSH_ACK, payload: req });
    cseq += req.length;
    w.tcp({ ...s, tsUs: t += 100, seq: sseq, ack: cseq, flags: TCP_PSH_ACK, payload: res });
    sseq += res.length;
    w.tcp({ ...c, tsUs: t += 100, seq: cseq, ack: sseq, flags: TCP_ACK });
  }
  return w.bytes();
}
