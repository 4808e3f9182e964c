/**
 * tcpdump's text output read as a capture: each TCP packet line becomes the packet record a
 * pcap would have held (link header, IP, TCP with its flags, absolute sequence numbers,
 * window and options, and the payload as far as the text shows it), handed to the same
 * consumers through the same CaptureEvents — so `analyze` (and the agent's engine, `read`,
 * `explain`) read pasted text as they read a capture.
 *
 * Interfaces: with `-i any` every line names its interface and direction; each interface
 * becomes one capture interface (as `flowtrace capture -w` writes pcapng: one block per
 * interface) with link type LINUX_SLL2, its index the one -e printed or a made-up one
 * (0x40000000 + n, which no --ifmap names). Without names the text is one interface (named
 * after tcpdump's "listening on X" line when there is one), Ethernet with -e, else RAW.
 *
 * What text cannot carry is said in notes (onWarning, and the summary): payload bytes beyond
 * what was printed, exact sequence numbers of an excerpt, the date of times of day, packets
 * of other protocols (not turned into records).
 */
import { CaptureFormatError } from '../../errors.js';
import { hex32 } from '../bytes.js';
import type { ReaderContext } from '../context.js';
import type { ReadSummary, TextCaptureSummary } from '../types.js';
import { addressBytes, encodeLinkHeader, encodeTcpOptions, encodeTcpPacket, LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL2, LINKTYPE_RAW, packetBytesFor, type LinkFields } from './encode.js';
import { parseLine, readIpFacts, readTcp, splitEndpoint, type IpFacts, type PacketHead, type TimeForm } from './line.js';
import { fillPayload } from './payload.js';
import { RelativeSequences } from './sequence.js';

/** Lines read before giving up on a text that shows no tcpdump line at all. */
const MAX_LINES_BEFORE_RECOGNISED = 50;
/** Longest line kept (a line longer than this is cut: no tcpdump line is near it). */
const MAX_LINE_CHARS = 256 * 1024;
/** Lines not understood that the summary lists. */
const LISTED_NOT_READ = 5;
/** Synthetic SLL2 interface indexes start here (no real host numbers its interfaces that high). */
const SYNTHETIC_IFINDEX = 0x4000_0000;
const SECONDS_PER_DAY = 86_400;

interface Pending {
  head: PacketHead;
  lineNo: number;
  transport: string | null;
  textLines: string[] | null;
  ascii: string[] | null;
  asciiChars: number;
  hex: number[] | null;
}

export interface TextReaderOptions {
  /** For times of day without a date (tcpdump's default): the day they are on, as epoch seconds of its midnight UTC. Default 0 (1970-01-01). */
  baseDaySeconds?: number;
}

export class TcpdumpTextReader {
  private readonly decoder = new TextDecoder('utf-8');
  private tail = '';
  private lineNo = 0;
  private nonBlankLines = 0;
  private recognised = false;
  private pending: Pending | null = null;
  private expectTimes: boolean | null = null;
  private timeForm: TimeForm | null = null;
  private dayOffset = 0;
  private lastSecondsOfDay = -1;
  private untimed = 0;
  private listeningOn: string | null = null;
  private readonly seqs = new RelativeSequences();
  private readonly interfaceIds = new Map<string, number>();
  private unnamedInterface: number | null = null;
  private mode: 'sll2' | 'single' | null = null;
  private singleLinkType = LINKTYPE_RAW;
  private buffer = new Uint8Array(packetBytesFor(65_535));
  private readonly payload = new Uint8Array(65_535 + 64);
  private firstBytes: Uint8Array | null = null;
  private readonly summary: TextCaptureSummary = {
    lines: 0, packetLines: 0, tcpPackets: 0, otherPackets: {}, linesNotRead: 0, notRead: [],
    timestamps: null, payload: { exact: 0, text: 0, firstLine: 0, none: 0 }, sequenceNumbers: 'absolute',
    captured: null, droppedByKernel: null, notes: [],
  };
  private readonly baseDay: number;
  private inputBytes = 0;

  constructor(private readonly ctx: ReaderContext, options: TextReaderOptions = {}) {
    this.baseDay = options.baseDaySeconds ?? 0;
  }

  push(chunk: Uint8Array): void {
    if (this.firstBytes === null) this.firstBytes = chunk.slice(0, 4);
    this.inputBytes += chunk.length;
    const text = this.tail + this.decoder.decode(chunk, { stream: true });
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      this.line(text.slice(start, nl));
      start = nl + 1;
    }
    this.tail = text.slice(start);
    if (this.tail.length > MAX_LINE_CHARS) { this.line(this.tail.slice(0, MAX_LINE_CHARS)); this.tail = ''; }
  }

  end(): ReadSummary {
    const rest = this.tail + this.decoder.decode();
    if (rest.length > 0) this.line(rest);
    this.flush();
    if (!this.recognised) throw this.notText();
    const s = this.summary;
    s.lines = this.lineNo;
    s.timestamps = this.timeForm;
    s.sequenceNumbers = this.seqs.conversationsFromExcerpt > 0 && this.seqs.mode !== 'absolute' ? 'excerpt' : this.seqs.madeAbsolute === 0 ? 'absolute' : 'relative';
    s.notes = this.notes();
    for (const n of s.notes) this.ctx.warn(n);
    return {
      format: 'tcpdump-text', packets: this.ctx.packets, bytes: this.inputBytes, interfaces: this.ctx.interfaces,
      interfacesNotDescribed: 0, truncated: null, text: s,
    };
  }

  private notText(): CaptureFormatError {
    const first = this.firstBytes ?? new Uint8Array(4);
    const magic = hex32(((first[0] ?? 0) << 24) | ((first[1] ?? 0) << 16) | ((first[2] ?? 0) << 8) | (first[3] ?? 0));
    const sample = this.summary.notRead[0];
    return new CaptureFormatError(`not a pcap or pcapng file (magic ${magic}), nor tcpdump text${sample ? ` (line ${sample.line}: ${JSON.stringify(sample.text)})` : ''}`,
      { atByte: 0, magic }, 'give a capture (tcpdump -w FILE) or the text tcpdump prints (tcpdump -nn, with -i any for the interfaces)');
  }

  private line(raw: string): void {
    this.lineNo++;
    const parsed = parseLine(raw, this.expectTimes);
    if (parsed.kind !== 'blank') this.nonBlankLines++;
    switch (parsed.kind) {
      case 'packet':
        this.flush();
        this.recognised = true;
        this.summary.packetLines++;
        if (this.expectTimes === null) this.expectTimes = parsed.time !== null;
        this.pending = { head: parsed, lineNo: this.lineNo, transport: null, textLines: null, ascii: null, asciiChars: 0, hex: null };
        return;
      case 'header':
        this.flush();
        this.recognised = true;
        if (parsed.listeningOn !== null) this.listeningOn = parsed.listeningOn;
        return;
      case 'stats':
        this.flush();
        this.recognised = true;
        if (parsed.captured !== null) this.summary.captured = parsed.captured;
        if (parsed.droppedByKernel !== null) this.summary.droppedByKernel = parsed.droppedByKernel;
        return;
      case 'transport':
        if (this.pending && this.pending.transport === null && this.needsTransport(this.pending)) { this.pending.transport = parsed.text; return; }
        break;
      case 'payload-text':
        if (this.pending) { (this.pending.textLines ??= []).push(parsed.text); return; }
        break;
      case 'hex':
        if (this.pending) {
          const hex = (this.pending.hex ??= []);
          for (let i = 0; i < parsed.bytes.length; i++) hex[parsed.offset + i] = parsed.bytes[i]!;
          return;
        }
        break;
      case 'blank':
        if (this.pending?.ascii) this.pending.ascii.push('');
        return;
      case 'other':
        break;
    }
    // An ASCII dump (-A) right after a packet line: it starts with the IP header's first byte
    // as ASCII ('E' for IPv4's 0x45, '`' for IPv6's 0x60), and has at most as many characters
    // as the packet has bytes.
    const text = parsed.kind === 'other' ? parsed.text : raw;
    const p = this.pending;
    if (p !== null && (p.transport !== null || !this.needsTransport(p)) && (p.ascii !== null || /^[E`]/.test(text))) {
      const room = this.packetLength(p) + 64;
      if (p.asciiChars + text.length <= room) {
        (p.ascii ??= []).push(text);
        p.asciiChars += text.length + 1;
        return;
      }
    }
    this.notRead(text);
  }

  private notRead(text: string): void {
    this.summary.linesNotRead++;
    if (this.summary.notRead.length < LISTED_NOT_READ) this.summary.notRead.push({ line: this.lineNo, text: text.slice(0, 120) });
    if (!this.recognised && this.nonBlankLines >= MAX_LINES_BEFORE_RECOGNISED) throw this.notText();
  }

  /** A -v head whose transport is on the next line. */
  private needsTransport(p: Pending): boolean {
    const body = p.head.body.replace(/^IP6? /, '');
    if (!body.startsWith('(')) return false;
    const close = closingParen(body);
    return close < 0 || body.slice(close + 1).trim() === '';
  }

  /** The IP length the head printed, for bounding an -A dump; 1500 when not printed. */
  private packetLength(p: Pending): number {
    const m = /length (\d+)/.exec(p.head.body);
    return m ? Number(m[1]) + 60 : 1500;
  }

  private flush(): void {
    const p = this.pending;
    if (p === null) return;
    this.pending = null;
    this.emit(p);
  }

  private emit(p: Pending): void {
    let body = p.head.body;
    let ip: IpFacts | null = null;
    let version: 4 | 6 | null = body.startsWith('IP6 ') ? 6 : body.startsWith('IP ') ? 4 : null;
    body = body.replace(/^IP6? /, '');
    if (body.startsWith('(')) {
      const close = closingParen(body);
      if (close > 0) {
        ip = readIpFacts(body.slice(0, close + 1));
        if (/flowlabel|hlim|next-header/.test(body.slice(0, close))) version = 6;
        body = body.slice(close + 1).trim();
      }
      if (body === '' && p.transport !== null) body = p.transport;
    }
    if (/^ARP\b|^RARP\b/.test(body)) { this.other('arp'); return; }
    const m = /^(\S+) > (\S+): (.*)$/.exec(body);
    if (!m) { this.other(body.split(/[\s,]/)[0] || 'other'); return; }
    const from = splitEndpoint(m[1]!);
    const to = splitEndpoint(m[2]!.replace(/:$/, ''));
    const rest = m[3]!;
    const tcp = from.port !== null && to.port !== null ? readTcp(rest) : null;
    if (tcp === null) {
      if (/^tcp \d+/.test(rest)) { this.other('tcp-quiet'); return; }
      this.other(/^ICMP6?\b|^ICMP/.test(rest) ? 'icmp' : /UDP|^\[?udp|^\d+\+?|^NTP|^\[bad udp/.test(rest) ? 'udp' : 'other');
      return;
    }
    const src = addressBytes(from.address);
    const dst = addressBytes(to.address);
    if (src === null || dst === null || src.length !== dst.length) { this.other('names'); return; }
    if (version === null) version = src.length === 16 ? 6 : 4;

    const numbers = this.seqs.absolute({ src, dst, srcPort: from.port!, dstPort: to.port! }, tcp.flags, tcp.seq, tcp.ack, tcp.payloadLength);
    const { tsSec, tsNsec } = this.timeOf(p);
    const { link, interfaceId } = this.linkOf(p);
    let length: number;
    let original: number;
    const hex = p.hex && p.hex.length >= 20 ? Uint8Array.from(p.hex, (b) => b ?? 0) : null;
    const ipInHex = hex ? ipStart(hex) : -1;
    if (hex && ipInHex >= 0) {
      // Every byte of the packet: the IP packet as it was (addresses, sequence numbers, payload).
      const linkBytes = encodeLinkHeader(link, version, this.buffer);
      const ipBytes = hex.subarray(ipInHex);
      this.ensure(linkBytes + ipBytes.length);
      this.buffer.set(ipBytes, linkBytes);
      length = linkBytes + ipBytes.length;
      // A dump cut by the snaplen holds less than the IP length says.
      original = Math.max(length, linkBytes + ipTotalLength(ipBytes));
      this.summary.payload.exact++;
    } else {
      const shown = tcp.summary !== null && tcp.summary.startsWith('HTTP: ') ? tcp.summary.slice(6) : null;
      const firstLinePartial = shown !== null && / ?\[\|\w+\]$/.test(shown);
      const firstLine = shown === null ? null : shown.replace(/ ?\[\|\w+\]$/, '');
      // The -A dump starts at the IP header: its length is the IP header (20 without options, 40
      // for IPv6) and the TCP header with the options printed.
      const headerBytes = (ip?.length ?? null) !== null && version === 4 ? ip!.length! - tcp.payloadLength
        : (version === 6 ? 40 : 20) + 20 + encodeTcpOptions(tcp.options, this.payload, 0);
      const { source, captured } = fillPayload({ firstLine, firstLinePartial, headerBytes, lines: p.textLines, ascii: p.ascii }, tcp.payloadLength, this.payload);
      if (source === 'text') this.summary.payload.text++;
      else if (source === 'first-line') this.summary.payload.firstLine++;
      else if (tcp.payloadLength > 0) this.summary.payload.none++;
      this.ensure(packetBytesFor(tcp.payloadLength));
      length = encodeTcpPacket(link, {
        src, dst, tos: ip?.tos ?? 0, ttl: ip?.ttl ?? 64, ipId: ip?.id ?? 0, dontFragment: ip?.dontFragment ?? true, flowLabel: ip?.flowLabel ?? 0,
        srcPort: from.port!, dstPort: to.port!, seq: numbers.seq ?? 0, ack: numbers.ack ?? 0, flags: tcp.flags,
        window: tcp.window ?? 0, urgent: tcp.urgent ?? 0, options: tcp.options, checksum: tcp.checksum,
      }, this.payload, tcp.payloadLength, captured, this.buffer);
      original = length + tcp.payloadLength - captured;
    }
    this.summary.tcpPackets++;
    const ctx = this.ctx;
    const r = ctx.record;
    r.index = ++ctx.packets;
    r.interfaceId = interfaceId;
    r.linkType = link.linkType;
    r.tsSec = tsSec;
    r.tsNsec = tsNsec;
    r.originalLength = original;
    r.comment = null;
    r.epbDirection = link.linkType !== LINKTYPE_LINUX_SLL2 && p.head.direction !== null ? (p.head.direction === 'in' ? 1 : p.head.direction === 'out' ? 2 : 0) : 0;
    r.tsInvalidFraction = null;
    r.setBytes(this.buffer, 0, length);
    ctx.events.onPacket(r);
  }

  private ensure(bytes: number): void {
    if (this.buffer.length < bytes) this.buffer = new Uint8Array(bytes);
  }

  private other(kind: string): void {
    const o = this.summary.otherPackets;
    o[kind] = (o[kind] ?? 0) + 1;
  }

  private timeOf(p: Pending): { tsSec: number; tsNsec: number } {
    const t = p.head.time;
    if (t === null) {
      // -t: no times. One microsecond apart, in the order printed.
      const us = this.untimed++;
      return { tsSec: Math.floor(us / 1e6), tsNsec: (us % 1e6) * 1000 };
    }
    this.timeForm ??= t.form;
    if (t.form !== 'time-of-day') return { tsSec: t.seconds, tsNsec: t.nanos };
    // Past midnight the time of day starts again: a step back of more than half a day is the next day.
    if (this.lastSecondsOfDay >= 0 && t.seconds < this.lastSecondsOfDay - SECONDS_PER_DAY / 2) this.dayOffset++;
    this.lastSecondsOfDay = t.seconds;
    return { tsSec: this.baseDay + this.dayOffset * SECONDS_PER_DAY + t.seconds, tsNsec: t.nanos };
  }

  /** The link header of a packet and its capture interface (described the first time it is seen). */
  private linkOf(p: Pending): { link: LinkFields; interfaceId: number } {
    const h = p.head;
    if (this.mode === null) {
      this.mode = h.iface !== null ? 'sll2' : 'single';
      if (this.mode === 'single') this.singleLinkType = h.srcMac !== null && h.dstMac !== null ? LINKTYPE_ETHERNET : LINKTYPE_RAW;
    }
    if (this.mode === 'sll2' && h.iface !== null) {
      let id = this.interfaceIds.get(h.iface);
      if (id === undefined) {
        id = this.ctx.interfaces.length;
        this.interfaceIds.set(h.iface, id);
        this.ctx.describeInterface({ id, linkType: LINKTYPE_LINUX_SLL2, name: h.iface, description: 'from tcpdump text', snaplenBytes: 262_144, tsUnitsPerSecond: 1e9 });
      }
      // The SLL2 index: the one -e printed, else a made-up one.
      const ifindex = h.ifindex ?? SYNTHETIC_IFINDEX + id;
      return { link: { linkType: LINKTYPE_LINUX_SLL2, ifindex, direction: h.direction, loopback: h.iface === 'lo', srcMac: h.srcMac, dstMac: null }, interfaceId: id };
    }
    const linkType = this.mode === 'single' ? this.singleLinkType : LINKTYPE_RAW;
    if (this.unnamedInterface === null) {
      this.unnamedInterface = this.ctx.interfaces.length;
      const named = this.mode === 'single' && this.listeningOn !== null && this.listeningOn !== 'any' ? this.listeningOn : null;
      this.ctx.describeInterface({ id: this.unnamedInterface, linkType, name: named, description: 'from tcpdump text', snaplenBytes: 262_144, tsUnitsPerSecond: 1e9 });
    }
    return { link: { linkType, ifindex: 0, direction: h.direction, loopback: false, srcMac: h.srcMac, dstMac: h.dstMac }, interfaceId: this.unnamedInterface };
  }

  /** What the text could not carry, said once each. */
  private notes(): string[] {
    const s = this.summary;
    const out: string[] = [];
    const pl = s.payload;
    if (s.tcpPackets > 0) {
      const parts: string[] = [];
      if (pl.exact > 0) parts.push(`${pl.exact} with every byte (hex dump)`);
      if (pl.text > 0) parts.push(`${pl.text} with their text lines`);
      if (pl.firstLine > 0) parts.push(`${pl.firstLine} with only the first line of an HTTP message`);
      if (pl.none > 0) parts.push(`${pl.none} with no payload shown`);
      if (pl.firstLine > 0 || pl.none > 0) {
        out.push(`read as tcpdump text: ${s.tcpPackets} TCP packets; payloads: ${parts.join(', ')} — payload beyond what the text shows is not known (headers such as X-Amzn-Trace-Id, body sizes): tcpdump -v or -A shows HTTP heads, -X every byte`);
      } else {
        out.push(`read as tcpdump text: ${s.tcpPackets} TCP packet${s.tcpPackets === 1 ? '' : 's'}${parts.length > 0 ? `; payloads: ${parts.join(', ')}` : ', none with a payload'}`);
      }
    }
    if (s.sequenceNumbers === 'excerpt') out.push(`${this.seqs.conversationsFromExcerpt} connection${this.seqs.conversationsFromExcerpt === 1 ? '' : 's'} start${this.seqs.conversationsFromExcerpt === 1 ? 's' : ''} mid-conversation in the text: tcpdump printed their sequence numbers relative to their first packet here, so they are relative, not the absolute ones`);
    else if (s.sequenceNumbers === 'relative') out.push('sequence numbers were printed relative (tcpdump without -S): made absolute again from each connection\'s SYN-ACK, as tcpdump counted them');
    if (this.timeForm === 'time-of-day') out.push(`times are times of day without a date (tcpdump without -tttt): read on ${new Date(this.baseDay * 1000).toISOString().slice(0, 10)} UTC${this.dayOffset > 0 ? `, crossing midnight ${this.dayOffset}×` : ''}`);
    if (this.timeForm === null && s.tcpPackets > 0) out.push('no times in the text (tcpdump -t): packets are 1 µs apart in the order printed');
    const others = Object.entries(s.otherPackets);
    const kindText = (k: string, n: number): string => k === 'names' ? `${n} TCP line${n === 1 ? '' : 's'} with host names instead of addresses (run tcpdump with -nn)`
      : k === 'tcp-quiet' ? `${n} TCP line${n === 1 ? '' : 's'} without flags or sequence numbers (tcpdump -q)` : `${n} ${k.toUpperCase()}${n === 1 ? '' : 's'}`;
    if (others.length > 0) out.push(`${others.map(([k, n]) => kindText(k, n)).join(', ')} not turned into packets (the analysis reads TCP)`);
    if (s.linesNotRead > 0) out.push(`${s.linesNotRead} line${s.linesNotRead === 1 ? '' : 's'} not understood as tcpdump output (first, line ${s.notRead[0]!.line}: ${JSON.stringify(s.notRead[0]!.text.slice(0, 80))})`);
    return out;
  }
}

/** Index of the `)` closing the `(` at 0 (nested parentheses counted); -1 when not closed. */
function closingParen(text: string): number {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')') { depth--; if (depth === 0) return i; }
  }
  return -1;
}

/** The length an IP header says its packet has (IPv4 total length, IPv6 40 + payload length). */
function ipTotalLength(ip: Uint8Array): number {
  if (ip.length >= 4 && (ip[0]! >> 4) === 4) return (ip[2]! << 8) | ip[3]!;
  if (ip.length >= 6 && (ip[0]! >> 4) === 6) return 40 + ((ip[4]! << 8) | ip[5]!);
  return ip.length;
}

/** Where the IP header starts in a hex dump: 0 for -x/-X, after the link header for -xx/-XX. */
function ipStart(hex: Uint8Array): number {
  const isIp = (at: number): boolean => at < hex.length && (((hex[at]! >> 4) === 4 && (hex[at]! & 0x0f) >= 5) || (hex[at]! >> 4) === 6);
  if (isIp(0)) return 0;
  // -XX: SLL2 (20 bytes), Ethernet (14), SLL (16)
  for (const at of [20, 14, 16]) if (isIp(at)) return at;
  return -1;
}
