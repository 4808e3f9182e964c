/**
 * The `--json` form of a packet: one plain object per packet (fields documented in
 * docs/read.md). Missing layers are explicit nulls.
 */
import type { PacketRecord } from '../capture/types.js';
import { formatIPv4, formatIPv6, formatMac } from './addr.js';
import { decodeDns } from './dns.js';
import type { PacketPrinter } from './print.js';
import { TCP_FLAG, type DecodedPacket } from './types.js';

export interface PacketJson {
  index: number;
  time: string;
  tsSec: number;
  tsNsec: number;
  capturedLength: number;
  originalLength: number;
  interface: string | null;
  link: { type: string; linkType: number; src: string | null; dst: string | null; etherType: number | null; vlan: number[]; ifindex: number | null; direction: string | null };
  network: null | { version: 4 | 6; src: string; dst: string; ttl: number; protocol: number; length: number; id: number | null; dontFragment: boolean | null; fragmentOffset: number; moreFragments: boolean; flowLabel: number | null };
  transport: null | { protocol: 'tcp' | 'udp'; srcPort: number; dstPort: number; flags: string[] | null; seq: number | null; ack: number | null; window: number | null; options: { mss: number | null; windowScale: number | null; sackPermitted: boolean; tsVal: number | null; tsEcr: number | null } | null; payloadLength: number } | { protocol: 'icmp' | 'icmp6'; type: number; code: number; echoId: number | null; echoSeq: number | null; mtu: number | null; quotedLength: number };
  http: null | { kind: 'request' | 'response'; method: string | null; target: string | null; version: string; status: number | null; reason: string | null; headers: Array<[string, string]>; complete: boolean };
  /** DNS over UDP/TCP port 53 or 5353, decoded by dns-packet; `error` when it could not be. */
  dns: null | { id: number | null; response: boolean | null; opcode: string | null; rcode: string | null; flags: string[]; questions: Array<{ name: string; type: string; class: string }>; answers: Array<{ name: string; type: string; ttl: number | null; data: unknown }>; authorities: number; additionals: number; error: string | null };
  truncated: boolean;
  malformed: string | null;
  /** The tcpdump-style line without the timestamp. */
  summary: string;
}

const FLAG_NAMES: Array<[number, string]> = [
  [TCP_FLAG.FIN, 'FIN'], [TCP_FLAG.SYN, 'SYN'], [TCP_FLAG.RST, 'RST'], [TCP_FLAG.PSH, 'PSH'], [TCP_FLAG.ACK, 'ACK'],
  [TCP_FLAG.URG, 'URG'], [TCP_FLAG.ECE, 'ECE'], [TCP_FLAG.CWR, 'CWR'], [TCP_FLAG.AE, 'AE'],
];

export function packetToJson(
  record: PacketRecord,
  p: DecodedPacket,
  printer: PacketPrinter,
  interfaceName: string | null,
  ifindexName?: (ifindex: number) => string | null,
): PacketJson {
  const d = p.data;
  const l = p.link;
  const summary = printer.formatWithoutTime(record, p);
  const time = new Date(record.tsSec * 1000).toISOString().replace(/\.000Z$/, `.${String(record.tsNsec).padStart(9, '0')}Z`);
  const sll2Name = l.kind === 'linux_sll2' && ifindexName ? ifindexName(l.ifindex) : null;
  let network: PacketJson['network'] = null;
  if (p.ipVersion === 4 && p.ipv4.headerLength >= 20 && p.ipv4.version === 4 && !(p.ipv4.truncated && p.ipv4.payloadOffset < 0)) {
    const v4 = p.ipv4;
    network = { version: 4, src: formatIPv4(v4.src), dst: formatIPv4(v4.dst), ttl: v4.ttl, protocol: v4.protocol, length: v4.totalLength, id: v4.id, dontFragment: v4.dontFragment, fragmentOffset: v4.fragmentOffsetBytes, moreFragments: v4.moreFragments, flowLabel: null };
  } else if (p.ipVersion === 6 && p.ipv6.srcOffset >= 0) {
    const v6 = p.ipv6;
    network = { version: 6, src: formatIPv6(d, v6.srcOffset), dst: formatIPv6(d, v6.dstOffset), ttl: v6.hopLimit, protocol: v6.upperProtocol, length: v6.payloadLength + 40, id: v6.fragment ? v6.fragmentId : null, dontFragment: null, fragmentOffset: v6.fragmentOffsetBytes, moreFragments: v6.moreFragments, flowLabel: v6.flowLabel };
  }
  let transport: PacketJson['transport'] = null;
  if (p.transport === 'tcp' && p.tcp.headerLength >= 20) {
    const t = p.tcp;
    transport = {
      protocol: 'tcp', srcPort: t.srcPort, dstPort: t.dstPort, flags: FLAG_NAMES.filter(([b]) => t.flags & b).map(([, n]) => n),
      seq: t.seq, ack: t.flags & TCP_FLAG.ACK ? t.ack : null, window: t.window,
      options: { mss: t.mss >= 0 ? t.mss : null, windowScale: t.windowScale >= 0 ? t.windowScale : null, sackPermitted: t.sackPermitted, tsVal: t.hasTimestamps ? t.tsVal : null, tsEcr: t.hasTimestamps ? t.tsEcr : null },
      payloadLength: Math.max(0, t.payloadLength),
    };
  } else if (p.transport === 'udp' && p.udp.length >= 8) {
    transport = { protocol: 'udp', srcPort: p.udp.srcPort, dstPort: p.udp.dstPort, flags: null, seq: null, ack: null, window: null, options: null, payloadLength: p.udp.payloadLength };
  } else if (p.transport === 'icmp' && p.icmp.type >= 0) {
    const i = p.icmp;
    transport = { protocol: i.version === 6 ? 'icmp6' : 'icmp', type: i.type, code: i.code, echoId: i.echoId >= 0 ? i.echoId : null, echoSeq: i.echoSeq >= 0 ? i.echoSeq : null, mtu: i.mtu >= 0 ? i.mtu : null, quotedLength: i.quotedLength };
  }
  const h = p.http;
  const http: PacketJson['http'] = h.present
    ? { kind: h.kind, method: h.kind === 'request' ? h.method : null, target: h.kind === 'request' ? h.target : null, version: h.version, status: h.kind === 'response' ? h.status : null, reason: h.kind === 'response' ? h.reason : null, headers: h.headers, complete: h.complete }
    : null;
  return {
    index: record.index,
    time,
    tsSec: record.tsSec,
    tsNsec: record.tsNsec,
    capturedLength: record.capturedLength,
    originalLength: record.originalLength,
    interface: interfaceName ?? sll2Name,
    link: {
      type: l.kind,
      linkType: l.linkType,
      src: l.srcMacOffset >= 0 && l.macLength > 0 ? formatMac(d, l.srcMacOffset, l.macLength) : null,
      dst: l.dstMacOffset >= 0 && l.macLength > 0 ? formatMac(d, l.dstMacOffset, l.macLength) : null,
      etherType: l.etherType >= 0 ? l.etherType : null,
      vlan: [...l.vlanIds],
      ifindex: l.ifindex >= 0 ? l.ifindex : null,
      direction: l.kind === 'linux_sll' || l.kind === 'linux_sll2' ? l.direction : null,
    },
    network,
    transport,
    http,
    dns: dnsJson(p),
    truncated: p.truncated,
    malformed: p.malformed,
    summary,
  };
}

const DNS_PORTS = new Set([53, 5353]);

function dnsData(data: unknown): unknown {
  if (Buffer.isBuffer(data)) return data.toString('hex');
  if (Array.isArray(data)) return data.map((x) => (Buffer.isBuffer(x) ? x.toString('latin1') : x));
  return data;
}

function dnsJson(p: DecodedPacket): PacketJson['dns'] {
  let offset = -1;
  let length = 0;
  if (p.transport === 'udp' && p.udp.payloadOffset >= 0 && (DNS_PORTS.has(p.udp.srcPort) || DNS_PORTS.has(p.udp.dstPort))) {
    offset = p.udp.payloadOffset;
    length = p.udp.capturedPayloadLength;
  } else if (p.transport === 'tcp' && p.tcp.payloadOffset >= 0 && p.tcp.capturedPayloadLength > 2 && (p.tcp.srcPort === 53 || p.tcp.dstPort === 53)) {
    offset = p.tcp.payloadOffset + 2; // RFC 1035 §4.2.2 length prefix
    length = p.tcp.capturedPayloadLength - 2;
  }
  if (offset < 0 || length <= 0) return null;
  const { message, error } = decodeDns(p.data, offset, length);
  if (message === null) {
    return { id: null, response: null, opcode: null, rcode: null, flags: [], questions: [], answers: [], authorities: 0, additionals: 0, error };
  }
  const m = message as unknown as Record<string, unknown> & { questions?: Array<{ name: string; type: string; class?: string }>; answers?: Array<{ name: string; type: string; ttl?: number; data?: unknown }>; authorities?: unknown[]; additionals?: unknown[] };
  const flags = ['flag_aa', 'flag_tc', 'flag_rd', 'flag_ra', 'flag_ad', 'flag_cd'].filter((f) => m[f] === true).map((f) => f.slice(5).toUpperCase());
  return {
    id: typeof m.id === 'number' ? m.id : null,
    response: m.type === 'response',
    opcode: typeof m.opcode === 'string' ? m.opcode : null,
    rcode: typeof m.rcode === 'string' ? m.rcode : null,
    flags,
    questions: (m.questions ?? []).map((q) => ({ name: q.name, type: q.type, class: q.class ?? 'IN' })),
    answers: (m.answers ?? []).map((a) => ({ name: a.name, type: a.type, ttl: typeof a.ttl === 'number' ? a.ttl : null, data: dnsData(a.data) })),
    authorities: (m.authorities ?? []).length,
    additionals: (m.additionals ?? []).length,
    error: null,
  };
}
