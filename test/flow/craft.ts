/**
 * Crafting TCP conversations for the flow tests, byte by byte: IPv4 + TCP (RFC 791 / 9293,
 * real checksums) in LINUX_SLL2 frames (https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL2.html)
 * like `tcpdump -i any` writes, or Ethernet; written as classic pcap
 * (https://www.tcpdump.org/manpages/pcap-savefile.5.txt). tcpdump and tshark read the files.
 *
 * A Conversation keeps both sides' sequence numbers and emits every packet at each
 * observation point of its path, with the NAT rewrite of that point — the way an `-i any`
 * capture on a Docker host sees it (ens5 In → docker0 Out → veth Out, back veth In →
 * docker0 In → ens5 Out).
 */
import { writeFileSync } from 'node:fs';

export interface Frame {
  tsUs: number;
  ifindex: number;
  /** SLL2 packet type: 0 to us ("In"), 4 outgoing ("Out"). */
  direction: 'in' | 'out';
  ip: Uint8Array;
}

const SLL2_HEADER = 20;
const ETH_HEADER = 14;

function ipv4(s: string): number {
  const p = s.split('.').map(Number);
  return ((p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]) >>> 0;
}

function checksum(buf: Uint8Array, start: number, end: number, initial = 0): number {
  let sum = initial;
  for (let i = start; i < end; i += 2) sum += (buf[i] << 8) | (i + 1 < end ? buf[i + 1] : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export const FLAGS: Record<string, number> = { F: 0x01, S: 0x02, R: 0x04, P: 0x08, A: 0x10 };

/** `flags` like tcpdump's: 'S', 'SA', 'PA', 'FA', 'R', 'RA', 'A'. */
export function tcpFlags(flags: string): number {
  let v = 0;
  for (const c of flags) v |= FLAGS[c];
  return v;
}

export interface IpPacketSpec {
  src: string; dst: string; srcPort: number; dstPort: number;
  seq: number; ack: number; flags: string; window: number; ipId: number; ttl: number;
  payload: Uint8Array;
  /** TCP options bytes (multiple of 4). */
  options?: Uint8Array;
}

/** 16 bytes of an IPv6 address in text form (with at most one `::`). */
export function ipv6Bytes(s: string): Uint8Array {
  const [head, tail] = s.includes('::') ? s.split('::') : [s, null];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === null ? h : [...h, ...new Array(8 - h.length - t.length).fill('0'), ...t];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => { const v = parseInt(g, 16); out[2 * i] = v >> 8; out[2 * i + 1] = v & 0xff; });
  return out;
}

/** IPv6 (RFC 8200) + TCP, checksum over the IPv6 pseudo-header. */
export function buildIp6Tcp(p: IpPacketSpec): Uint8Array {
  const tcp = buildIpTcp({ ...p, src: '0.0.0.0', dst: '0.0.0.0' }).subarray(20);
  const b = new Uint8Array(40 + tcp.length);
  const v = new DataView(b.buffer);
  v.setUint32(0, 0x60000000 | (p.ipId & 0xfffff)); // version 6, flow label
  v.setUint16(4, tcp.length);
  b[6] = 6;
  b[7] = p.ttl;
  const src = ipv6Bytes(p.src);
  const dst = ipv6Bytes(p.dst);
  b.set(src, 8);
  b.set(dst, 24);
  b.set(tcp, 40);
  v.setUint16(40 + 16, 0);
  let sum = 0;
  for (let i = 0; i < 16; i += 2) sum += ((src[i] << 8) | src[i + 1]) + ((dst[i] << 8) | dst[i + 1]);
  sum += tcp.length + 6;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  v.setUint16(40 + 16, checksum(b, 40, b.length, sum));
  return b;
}

export function buildIpTcp(p: IpPacketSpec): Uint8Array {
  if (p.src.includes(':')) return buildIp6Tcp(p);
  const opt = p.options ?? new Uint8Array(0);
  const tcpLen = 20 + opt.length;
  const total = 20 + tcpLen + p.payload.length;
  const b = new Uint8Array(total);
  const v = new DataView(b.buffer);
  b[0] = 0x45;
  v.setUint16(2, total);
  v.setUint16(4, p.ipId & 0xffff);
  v.setUint16(6, 0x4000); // DF
  b[8] = p.ttl;
  b[9] = 6;
  v.setUint32(12, ipv4(p.src));
  v.setUint32(16, ipv4(p.dst));
  v.setUint16(10, checksum(b, 0, 20));
  const t = 20;
  v.setUint16(t, p.srcPort);
  v.setUint16(t + 2, p.dstPort);
  v.setUint32(t + 4, p.seq >>> 0);
  v.setUint32(t + 8, p.ack >>> 0);
  b[t + 12] = (tcpLen / 4) << 4;
  b[t + 13] = tcpFlags(p.flags);
  v.setUint16(t + 14, p.window);
  b.set(opt, t + 20);
  b.set(p.payload, t + tcpLen);
  // Pseudo-header sum (RFC 9293 §3.1).
  let pseudo = (ipv4(p.src) >>> 16) + (ipv4(p.src) & 0xffff) + (ipv4(p.dst) >>> 16) + (ipv4(p.dst) & 0xffff) + 6 + tcpLen + p.payload.length;
  while (pseudo > 0xffff) pseudo = (pseudo & 0xffff) + (pseudo >>> 16);
  v.setUint16(t + 16, checksum(b, t, total, pseudo));
  return b;
}

/** Writes frames as a pcap file with LINUX_SLL2 (276) or Ethernet (1) link type, cut at `snaplen` bytes like tcpdump -s. */
export function pcapBytes(frames: Frame[], linkType: 'sll2' | 'ethernet' = 'sll2', snaplen = 262144): Uint8Array {
  const parts: Uint8Array[] = [];
  const gh = new Uint8Array(24);
  const g = new DataView(gh.buffer);
  g.setUint32(0, 0xa1b2c3d4, true);
  g.setUint16(4, 2, true);
  g.setUint16(6, 4, true);
  g.setUint32(16, snaplen, true);
  g.setUint32(20, linkType === 'sll2' ? 276 : 1, true);
  parts.push(gh);
  for (const f of frames) {
    const link = linkType === 'sll2' ? SLL2_HEADER : ETH_HEADER;
    const frame = new Uint8Array(link + f.ip.length);
    const fv = new DataView(frame.buffer);
    const etherType = (f.ip[0] >> 4) === 6 ? 0x86dd : 0x0800;
    if (linkType === 'sll2') {
      fv.setUint16(0, etherType);
      fv.setUint32(4, f.ifindex);
      fv.setUint16(8, 1); // ARPHRD_ETHER
      frame[10] = f.direction === 'in' ? 0 : 4;
      frame[11] = 6;
      frame.set([0x02, 0x42, 0xac, 0x11, 0x00, f.ifindex & 0xff], 12);
    } else {
      frame.set([0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2], 0);
      fv.setUint16(12, etherType);
    }
    frame.set(f.ip, link);
    const rh = new Uint8Array(16);
    const r = new DataView(rh.buffer);
    r.setUint32(0, Math.floor(f.tsUs / 1e6), true);
    r.setUint32(4, f.tsUs % 1e6, true);
    const captured = Math.min(frame.length, snaplen);
    r.setUint32(8, captured, true);
    r.setUint32(12, frame.length, true);
    parts.push(rh, frame.subarray(0, captured));
  }
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

export function writePcap(file: string, frames: Frame[], linkType: 'sll2' | 'ethernet' = 'sll2'): void {
  writeFileSync(file, pcapBytes(frames, linkType));
}

/** One observation point of a path: the interface, the direction, and the server endpoint as seen there. */
export interface PathPoint {
  ifindex: number;
  direction: 'in' | 'out';
  /** The server's address:port at this point (DNAT changes it between ens5 and docker0). */
  server: [string, number];
  /** µs after the previous point. */
  delayUs: number;
}

export interface ConversationOptions {
  client: [string, number];
  /** The server as the client addresses it (before any NAT). */
  server: [string, number];
  clientIsn?: number;
  serverIsn?: number;
  startUs?: number;
  /** Points a client → server packet passes, in order; the server → client path is derived reversed. */
  toServer?: PathPoint[];
  toClient?: PathPoint[];
}

export const ENS5 = 2;
export const DOCKER0 = 3;
export const VETH = 4;
/** The ifmap of the crafted Docker host (`ip -o link` form). */
export const CRAFTED_IFMAP = [
  '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00',
  '2: ens5: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 9001 qdisc mq state UP mode DEFAULT group default qlen 1000\\    link/ether 0a:1b:2c:3d:4e:5f brd ff:ff:ff:ff:ff:ff',
  '3: docker0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default \\    link/ether 02:42:ac:11:00:01 brd ff:ff:ff:ff:ff:ff',
  '4: veth3f2a1b9@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master docker0 state UP mode DEFAULT group default \\    link/ether 9a:3c:11:22:33:44 brd ff:ff:ff:ff:ff:ff link-netnsid 0',
  '',
].join('\n');

/** The Docker host path: ens5 In → docker0 Out → veth Out with DNAT 172.31.5.20:80 → 172.17.0.2:8080. */
export function dockerPath(): { toServer: PathPoint[]; toClient: PathPoint[] } {
  return {
    toServer: [
      { ifindex: ENS5, direction: 'in', server: ['172.31.5.20', 80], delayUs: 0 },
      { ifindex: DOCKER0, direction: 'out', server: ['172.17.0.2', 8080], delayUs: 9 },
      { ifindex: VETH, direction: 'out', server: ['172.17.0.2', 8080], delayUs: 2 },
    ],
    toClient: [
      { ifindex: VETH, direction: 'in', server: ['172.17.0.2', 8080], delayUs: 0 },
      { ifindex: DOCKER0, direction: 'in', server: ['172.17.0.2', 8080], delayUs: 20 },
      { ifindex: ENS5, direction: 'out', server: ['172.31.5.20', 80], delayUs: 15 },
    ],
  };
}

export type Who = 'client' | 'server';

export interface EmitOptions {
  /** Override the sequence number (retransmissions, out-of-order). */
  seq?: number;
  window?: number;
  /** Do not advance the sender's next sequence number. */
  noAdvance?: boolean;
  /** Emit only at these path indexes (e.g. [0] for "seen on ens5 only"). */
  onlyPoints?: number[];
}

const te = new TextEncoder();

export class Conversation {
  readonly frames: Frame[] = [];
  nowUs: number;
  private next: Record<Who, number>;
  private ipId: Record<Who, number> = { client: 30000, server: 100 };
  private readonly toServer: PathPoint[];
  private readonly toClient: PathPoint[];

  constructor(readonly o: ConversationOptions) {
    this.nowUs = o.startUs ?? 1_764_000_000_000_000;
    this.next = { client: o.clientIsn ?? 1_000_000, server: o.serverIsn ?? 2_000_000_000 };
    this.toServer = o.toServer ?? [{ ifindex: ENS5, direction: 'in', server: o.server, delayUs: 0 }];
    this.toClient = o.toClient ?? [{ ifindex: ENS5, direction: 'out', server: o.server, delayUs: 0 }];
  }

  wait(us: number): this { this.nowUs += us; return this; }

  /** Next sequence number of a side. */
  seqOf(who: Who): number { return this.next[who]; }

  emit(who: Who, flags: string, payload: string | Uint8Array = '', opt: EmitOptions = {}): this {
    const bytes = typeof payload === 'string' ? te.encode(payload) : payload;
    const seq = opt.seq ?? this.next[who];
    const other: Who = who === 'client' ? 'server' : 'client';
    const ack = flags.includes('A') ? this.next[other] : 0;
    const id = this.ipId[who]++;
    const path = who === 'client' ? this.toServer : this.toClient;
    let t = this.nowUs;
    path.forEach((pt, i) => {
      t += pt.delayUs;
      if (opt.onlyPoints && !opt.onlyPoints.includes(i)) return;
      const [sAddr, sPort] = pt.server;
      const [cAddr, cPort] = this.o.client;
      this.frames.push({
        tsUs: t, ifindex: pt.ifindex, direction: pt.direction,
        ip: buildIpTcp({
          src: who === 'client' ? cAddr : sAddr, dst: who === 'client' ? sAddr : cAddr,
          srcPort: who === 'client' ? cPort : sPort, dstPort: who === 'client' ? sPort : cPort,
          seq, ack, flags, window: opt.window ?? 502, ipId: id, ttl: 64 - i, payload: bytes,
        }),
      });
    });
    if (!opt.noAdvance && opt.seq === undefined) {
      this.next[who] = (this.next[who] + bytes.length + (flags.includes('S') ? 1 : 0) + (flags.includes('F') ? 1 : 0)) >>> 0;
    }
    this.nowUs += 50;
    return this;
  }

  handshake(): this {
    return this.emit('client', 'S').wait(200).emit('server', 'SA').wait(40).emit('client', 'A');
  }

  /** Data from one side, split into segments of the given sizes (the rest in a last segment). */
  send(who: Who, data: string, splits: number[] = [], flags = 'PA'): this {
    const bytes = te.encode(data);
    let o = 0;
    for (const n of [...splits, bytes.length]) {
      if (o >= bytes.length) break;
      const end = Math.min(bytes.length, o + n);
      this.emit(who, flags, bytes.subarray(o, end));
      o = end;
    }
    return this;
  }

  close(first: Who = 'client'): this {
    const second: Who = first === 'client' ? 'server' : 'client';
    return this.emit(first, 'FA').wait(100).emit(second, 'FA').wait(40).emit(first, 'A');
  }
}

/** Merges several conversations' frames in time order. */
export function merge(...convs: Conversation[]): Frame[] {
  return convs.flatMap((c) => c.frames).sort((a, b) => a.tsUs - b.tsUs);
}
