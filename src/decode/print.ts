/**
 * The tcpdump-style printer: one line per packet, as `tcpdump -n -r FILE` prints it
 * (tcpdump 4.99/master: print.c, print-ether.c, print-sll.c, print-ip.c, print-ip6.c,
 * print-tcp.c, print-udp.c, print-icmp.c, print-icmp6.c, print-arp.c, print-domain.c,
 * print-http.c, print-ssh.c; https://github.com/the-tcpdump-group/tcpdump).
 *
 * Decoding is done by the decoder; this module only turns a DecodedPacket into text. It
 * keeps state across packets, as tcpdump does: the initial sequence numbers per TCP
 * conversation (relative `seq`/`ack`, `-S` turns this off) and the previous/first timestamp
 * for `-ttt`/`-ttttt`. Strings are built here: printing allocates, decoding does not.
 */
import type { PacketRecord } from '../capture/types.js';
import { formatIPv4, formatIPv4At, formatIPv6, formatMac } from './addr.js';
import { u16, u32 } from './bytes.js';
import { formatDnsSummary } from './dns.js';
import { createDecoder, newDecodedPacket, type PacketDecoder } from './decoder.js';
import { IPPROTO_NAMES, ipv4OptionsText, onesComplementSum, checksumShouldBe, hex4, transportChecksum } from './print-verbose.js';
import { arpText, asciiDump, ETHERTYPE_NAMES, etherTypeText, hexAndAscii, hexOnly } from './print-link.js';
import { extendedEchoText, ICMP6_TYPES, ND_OPTION_NAMES } from './print-icmp.js';
import { rstDataText, sshText, tcpFlagsText, tcpOptionsText } from './print-tcp.js';
import { escapeChar, textProtocolSummary } from './print-text.js';
import { TimestampFormatter, type TimestampPrecision, type TimestampStyle } from './timestamp.js';
import type { DecodedPacket } from './types.js';

export interface PrintOptions {
  /** `-t` … `-ttttt`; default 'time' (local time of day, TZ respected). */
  timestamps?: TimestampStyle;
  /** tcpdump prints microseconds unless `--nano`. */
  precision?: TimestampPrecision;
  /** `-#`: packet number first. */
  numbered?: boolean;
  /** `-S`: absolute TCP sequence numbers. */
  absoluteSeq?: boolean;
  /** `-e`: link-level header. */
  linkHeader?: boolean;
  /** `-q`: short protocol lines. */
  quiet?: boolean;
  /** `-v`: 0 or 1 (IP header fields, checksums, DNS names, ICMP quoted packets). Higher levels print as 1. */
  verbose?: number;
  /** `-g`: with -v, no line break after the IP header. */
  noIpLineBreak?: boolean;
  /** `-T domain`: decode every TCP/UDP payload as DNS whatever the ports. */
  packetType?: 'none' | 'domain';
  /** `-x`/`-X`/`-A` (hex, hex + ASCII, ASCII) of the packet after the link header; the
   * doubled flags (`-xx`…) include the link header. */
  dump?: 'none' | 'hex' | 'hex-link' | 'hex-ascii' | 'hex-ascii-link' | 'ascii' | 'ascii-link';
  /** SLL2 interface index → name (the capture machine's `ip -o link`); unknown → "?". */
  interfaceName?: (ifindex: number) => string | null;
}

/** What the printer reads from a packet record (a PacketRecord satisfies it). */
export type PrintableRecord = Pick<PacketRecord, 'index' | 'tsSec' | 'tsNsec' | 'capturedLength' | 'originalLength'> & Partial<Pick<PacketRecord, 'tsInvalidFraction'>>;

const SLL_PACKET_TYPES = ['In', 'B', 'M', 'P', 'Out'];
/** RFC 8200 §3: the fixed IPv6 header. */
const IPV6_HEADER_BYTES = 40;
const IPPROTO_HOPOPTS = 0;
/** EtherTypes whose payload flowtrace decodes (after VLAN tags). */
const DECODED_ETHERTYPES = new Set([0x0800, 0x86dd, 0x0806]);

interface SeqBase { seq: number; ack: number }

/**
 * How many conversations keep their initial sequence numbers for relative printing.
 * tcpdump never forgets one (its memory grows with the capture); flowtrace forgets the
 * oldest beyond this bound so that reading a stream of any length keeps memory flat. Output
 * differs from tcpdump only when more conversations than this are interleaved at once.
 */
export const MAX_SEQ_CONVERSATIONS = 65_536;

export class PacketPrinter {
  private readonly ts: TimestampFormatter;
  private readonly opts: Required<Omit<PrintOptions, 'interfaceName'>> & Pick<PrintOptions, 'interfaceName'>;
  /** tcpdump's tcp_seq_hash: conversation (collated) → initial seq/ack. */
  private readonly seqBases = new Map<string, SeqBase>();
  /** For -v: decodes the packet quoted inside an ICMP error (made on first use). */
  private quoteDecoder: PacketDecoder | null = null;
  private quoteDepth = 0;

  constructor(options: PrintOptions = {}) {
    this.opts = {
      timestamps: options.timestamps ?? 'time',
      precision: options.precision ?? 'micro',
      numbered: options.numbered ?? false,
      absoluteSeq: options.absoluteSeq ?? false,
      linkHeader: options.linkHeader ?? false,
      quiet: options.quiet ?? false,
      verbose: options.verbose ?? 0,
      noIpLineBreak: options.noIpLineBreak ?? false,
      dump: options.dump ?? 'none',
      packetType: options.packetType ?? 'none',
      interfaceName: options.interfaceName,
    };
    this.ts = new TimestampFormatter(this.opts.timestamps, this.opts.precision);
  }

  /** The line without number and timestamp (for JSON); advances the same state as format(). */
  formatWithoutTime(record: PrintableRecord, p: DecodedPacket): string {
    return this.body(record, p);
  }

  /** The line for one packet (no trailing newline; -x/-X/-A dumps and -v add lines). */
  format(record: PrintableRecord, p: DecodedPacket): string {
    let s = this.opts.numbered ? `${String(record.index).padStart(5)}  ` : '';
    s += this.ts.format(record.tsSec, record.tsNsec, record.tsInvalidFraction ?? null);
    s += this.body(record, p);
    if (this.opts.dump !== 'none') s += this.dump(p);
    return s;
  }

  /** print.c pretty_print_packet: the raw bytes after the line. */
  private dump(p: DecodedPacket): string {
    const d = p.data;
    const mode = this.opts.dump;
    const withLink = mode.endsWith('-link');
    const hdrlen = p.link.truncated ? d.length : p.link.offset + p.link.headerLength;
    const start = withLink ? 0 : hdrlen;
    if (!withLink && d.length <= hdrlen) return '';
    if (mode.startsWith('hex-ascii')) return hexAndAscii(d, start, d.length);
    if (mode.startsWith('hex')) return hexOnly(d, start, d.length);
    return asciiDump(d, start, d.length);
  }

  private body(record: PrintableRecord, p: DecodedPacket): string {
    const link = p.link;
    const d = p.data;
    const e = this.opts.linkHeader;
    // What the link layer says follows its header on the wire (tcpdump's `length`).
    const wireLength = record.originalLength - link.headerLength;
    switch (link.kind) {
      case 'ethernet': {
        if (link.truncated && link.vlanIds.length === 0 && d.length < 14) return e && d.length >= 12 ? `${formatMac(d, 6)} > ${formatMac(d, 0)} [|ether]` : '[|ether]';
        let s = '';
        if (e) {
          s = `${formatMac(d, link.srcMacOffset)} > ${formatMac(d, link.dstMacOffset)}, `;
          let p2 = 12;
          let type = u16(d, p2);
          s += `${etherTypeText(type)}, length ${record.originalLength}: `;
          let tags = 0;
          while ((type === 0x8100 || type === 0x88a8 || type === 0x9100) && tags < link.vlanIds.length) {
            const tci = u16(d, p2 + 2);
            type = u16(d, p2 + 4);
            s += `vlan ${tci & 0xfff}, p ${tci >> 13}${tci & 0x1000 ? ', DEI' : ''}, ${etherTypeText(type)}, `;
            p2 += 4;
            tags++;
          }
          if (link.truncated) return s + '[|vlan]';
        } else if (link.truncated) {
          return '[|vlan]';
        } else if (link.etherType >= 0 && !DECODED_ETHERTYPES.has(link.etherType) && ETHERTYPE_NAMES[link.etherType] === undefined) {
          // An EtherType tcpdump does not know: it prints the link header even without -e,
          // then the payload as a hex dump.
          return `${formatMac(d, link.srcMacOffset)} > ${formatMac(d, link.dstMacOffset)}, ${etherTypeText(link.etherType)}, length ${record.originalLength}: ` +
            hexAndAscii(d, link.offset + link.headerLength, d.length);
        }
        return s + this.network(record, p, wireLength);
      }
      case 'linux_sll2': {
        if (link.truncated) return '[|sll2]';
        const name = this.opts.interfaceName?.(link.ifindex) ?? '?';
        const dir = SLL_PACKET_TYPES[link.packetType] ?? '?';
        let s = `${name.padEnd(5)} ${dir.padEnd(3)} `;
        if (e) s += `ifindex ${link.ifindex} ${link.macLength ? formatMac(d, link.srcMacOffset, link.macLength) + ' ' : ''}ethertype ${etherTypeText(link.etherType).replace(/^ethertype /, '')}, length ${record.originalLength}: `;
        return s + this.network(record, p, wireLength);
      }
      case 'linux_sll': {
        if (link.truncated) return '[|sll]';
        let s = '';
        if (e) s = `${SLL_PACKET_TYPES[link.packetType] ?? '?'} ${link.macLength ? formatMac(d, link.srcMacOffset, link.macLength) + ' ' : ''}ethertype ${etherTypeText(link.etherType).replace(/^ethertype /, '')}, length ${record.originalLength}: `;
        return s + this.network(record, p, wireLength);
      }
      case 'null': {
        if (link.truncated) return '[|null]';
        let s = '';
        if (e) s = `AF ${link.family === 2 ? 'IPv4' : link.etherType === 0x86dd ? 'IPv6' : 'Unknown'} (${link.family}), length ${record.originalLength}: `;
        if (link.etherType < 0) return s + `AF ${link.family}`;
        return s + this.network(record, p, wireLength);
      }
      case 'raw':
        if (link.etherType < 0) return `ip${d.length ? ` [version ${d[0] >> 4}]` : ''}`;
        return this.network(record, p, wireLength);
      default:
        return `[link type ${link.linkType} not decoded]`;
    }
  }

  private network(record: PrintableRecord, p: DecodedPacket, wireLength: number): string {
    const e = this.opts.linkHeader;
    if (p.ipVersion === 4) return (e && p.link.kind !== 'raw' ? '' : 'IP ') + this.ipv4(p, wireLength);
    if (p.ipVersion === 6) return (e && p.link.kind !== 'raw' ? '' : 'IP6 ') + this.ipv6(p, wireLength);
    if (p.otherNetwork === 0x0806) return (e ? '' : 'ARP, ') + arpText(p.data, p.link.offset + p.link.headerLength, wireLength);
    const unknown = ETHERTYPE_NAMES[p.otherNetwork] === undefined;
    const dump = unknown ? hexAndAscii(p.data, p.link.offset + p.link.headerLength, p.data.length) : '';
    if (e) return dump;
    return `ethertype ${etherTypeText(p.otherNetwork).replace(/^ethertype /, '')}, length ${record.originalLength}: ${dump}`;
  }

  private ipv4(p: DecodedPacket, wireLength: number): string {
    const ip = p.ipv4;
    const d = p.data;
    if (ip.version === 0 && ip.truncated) return '[|ip]';
    if (ip.version !== 4) return ` [version ${ip.version} != 4] (invalid)`;
    if (wireLength < 20) return ` [length ${wireLength} < 20] (invalid)`;
    if (ip.headerLength < 20) return ` [header length ${ip.headerLength} < 20] (invalid)`;
    if (d.length - ip.offset < 20) return '[|ip]';
    let s = '';
    let total = ip.totalLength;
    // print-ip.c: a zero total length on a packet longer than 65535 bytes is BIG TCP/GSO.
    const presumedBig = total === 0 && wireLength > 65535;
    if (presumedBig) total = wireLength;
    else if (total < ip.headerLength) return `[total length ${total} < header length ${ip.headerLength}] (invalid)`;
    if (wireLength < total) {
      s += `[total length ${total} > length ${wireLength}] (invalid) `;
      total = wireLength;
    }
    if (this.opts.verbose > 0) {
      const header = this.ipv4VerboseHeader(p, presumedBig ? total : -1);
      s += header.text;
      if (header.stop) return s;
    } else if (ip.truncated && ip.payloadOffset < 0) {
      return '[|ip]';
    }
    const length = total - ip.headerLength;
    const src = formatIPv4(ip.src);
    const dst = formatIPv4(ip.dst);
    if (ip.fragmentOffsetBytes !== 0) {
      return `${s}${src} > ${dst}: ip-proto-${ip.protocol}`;
    }
    if (ip.payloadOffset < 0) return `${s}${src} > ${dst}:  [remaining caplen(${d.length - ip.offset}) < header length(${ip.headerLength})] [|ip]`;
    const fragmented = ip.moreFragments;
    switch (ip.protocol) {
      case 6: return s + this.tcp(p, src, dst, length, false, fragmented);
      case 17: return s + this.udp(p, src, dst, length, fragmented);
      case 1: return `${s}${src} > ${dst}: ${this.icmp4(p, length, fragmented)}`;
      default: return `${s}${src} > ${dst}:  ip-proto-${ip.protocol} ${length}`;
    }
  }

  /** print-ip.c -v: "(tos 0x0, ttl 64, id 1, offset 0, flags [DF], proto TCP (6), length 60)" + line break. */
  private ipv4VerboseHeader(p: DecodedPacket, bigLength: number): { text: string; stop: boolean } {
    const ip = p.ipv4;
    const d = p.data;
    let s = `(tos 0x${ip.tos.toString(16)}${['', ',ECT(1)', ',ECT(0)', ',CE'][ip.tos & 3]}`;
    if (ip.ttl >= 1) s += `, ttl ${ip.ttl}`;
    const flags = [ip.moreFragments ? '+' : '', ip.dontFragment ? 'DF' : '', ip.reservedFlag ? 'rsvd' : ''].filter((f) => f !== '').join(', ') || 'none';
    s += `, id ${ip.id}, offset ${ip.fragmentOffsetBytes}, flags [${flags}], proto ${IPPROTO_NAMES[ip.protocol] ?? 'unknown'} (${ip.protocol}), length ${bigLength >= 0 ? `${bigLength} [was 0, presumed BIG TCP]` : ip.totalLength}`;
    let truncatedOptions = false;
    if (ip.headerLength > 20) {
      const r = ipv4OptionsText(d, ip.offset + 20, ip.headerLength - 20);
      s += `, options (${r.text}${r.truncated ? ' [truncated-option]' : ''})`;
      truncatedOptions = r.truncated;
    }
    if (ip.offset + ip.headerLength <= d.length) {
      const sum = onesComplementSum(d, ip.offset, ip.headerLength, 0);
      if (sum !== 0) s += `, bad cksum ${ip.checksum.toString(16)} (->${checksumShouldBe(ip.checksum, sum).toString(16)})!`;
    }
    s += this.opts.noIpLineBreak ? ') ' : ')\n    ';
    if (truncatedOptions) return { text: s + `${formatIPv4(ip.src)} > ${formatIPv4(ip.dst)}:  [|ip]`, stop: true };
    return { text: s, stop: false };
  }

  private ipv6(p: DecodedPacket, wireLength: number): string {
    const ip = p.ipv6;
    const d = p.data;
    if (wireLength < 40 && wireLength >= 0) return ` [length ${wireLength} < 40] (invalid)`;
    if (ip.version !== 6) return ip.truncated && ip.version === 0 ? '[|ip6]' : ` [version ${ip.version} != 6] (invalid)`;
    if (ip.nextHeader < 0) return '[|ip6]'; // not even the 8 bytes before the addresses
    let s = '';
    // print-ip6.c: a payload length running past what the link carried is flagged, and
    // printing goes on (0 is a jumbogram or BIG TCP, judged after the extension headers).
    const headerAndPayload = IPV6_HEADER_BYTES + ip.payloadLength;
    if (ip.payloadLength !== 0 && wireLength >= 0 && headerAndPayload > wireLength) {
      s += `[header+payload length ${headerAndPayload} > length ${wireLength}] (invalid) `;
    }
    if (this.opts.verbose > 0) {
      // print-ip6.c -v: "(class 0x51, flowlabel 0xb2100, hlim 16, next-header TCP (6), payload length 40) "
      s += '(';
      if (ip.trafficClass) s += `class 0x${ip.trafficClass.toString(16).padStart(2, '0')}, `;
      if (ip.flowLabel) s += `flowlabel 0x${ip.flowLabel.toString(16).padStart(5, '0')}, `;
      s += `hlim ${ip.hopLimit}, next-header ${IPPROTO_NAMES[ip.nextHeader] ?? 'unknown'} (${ip.nextHeader}), payload length ${ip.payloadLength}) `;
      // The fields above were captured but the addresses were not: tcpdump's " [|ip6]".
      if (ip.srcOffset < 0) return s + ' [|ip6]';
    }
    if (ip.srcOffset < 0) return s + '[|ip6]';
    const src = formatIPv6(d, ip.srcOffset);
    const dst = formatIPv6(d, ip.dstOffset);
    // print-ip6.c: addresses first unless the fixed header leads straight to TCP/UDP (whose
    // printers then print address.port themselves); then one word per extension header.
    const direct = ip.nextHeader === 6 || ip.nextHeader === 17;
    if (!direct) s += `${src} > ${dst}: `;
    let cp = ip.payloadOffset;
    for (const eh of ip.extensionHeaders) {
      if (cp < 0 || cp + 2 > d.length) return s + '[|ip6]';
      switch (eh) {
        case 0: s += 'HBH '; cp += (d[cp + 1] + 1) * 8; break;
        case 60: s += 'DSTOPT '; cp += (d[cp + 1] + 1) * 8; break;
        case 43: s += 'srcrt '; cp += (d[cp + 1] + 1) * 8; break;
        case 51: s += 'AH '; cp += (d[cp + 1] + 2) * 4; break;
        case 44: {
          if (cp + 8 > d.length) return s + '[|frag]';
          const fragLength = ip.payloadLength + 40 - (cp - ip.offset) - 8;
          s += `frag (${u16(d, cp + 2) & 0xfff8}|${fragLength}) `;
          cp += 8;
          break;
        }
        default: break;
      }
    }
    if (ip.fragment && ip.fragmentOffsetBytes !== 0) return s.trimEnd();
    if (ip.upperOffset < 0 || ip.malformed !== null) return s + '[|ip6]';
    const length = ip.upperLength;
    // A zero payload length without a hop-by-hop jumbo option, on more than 64 KiB: Linux
    // BIG TCP (the decoder took the payload as what was captured). -v says so, with the
    // length the link gave.
    if (this.opts.verbose > 0 && ip.payloadLength === 0 && ip.nextHeader !== IPPROTO_HOPOPTS && length > 0) {
      s += `[real length ${wireLength}, presumed BIG TCP] `;
    }
    switch (ip.upperProtocol) {
      case 6: return s + this.tcp(p, src, dst, length, !direct);
      case 17: return s + this.udp(p, src, dst, length, ip.fragment, !direct);
      case 58: return s + this.icmp6(p, length);
      case 59: return s + 'no next header';
      default: return `${s} ip-proto-${ip.upperProtocol} ${length}`;
    }
  }

  private tcp(p: DecodedPacket, src: string, dst: string, length: number, portsOnly = false, fragmented = false): string {
    const t = p.tcp;
    const d = p.data;
    const off = t.offset;
    const end = d.length;
    if (end - off < 4) return `${src} > ${dst}: [|tcp]`;
    const sport = u16(d, off);
    const dport = u16(d, off + 2);
    let s = portsOnly ? `${sport} > ${dport}: ` : `${src}.${sport} > ${dst}.${dport}: `;
    if (end - off < 20) return s + ' [|tcp]';
    let hlen = (d[off + 12] >> 4) * 4;
    if (hlen < 20) return `${s} tcp ${length - hlen} [bad hdr length ${hlen} - too short, < 20]`;
    let seq = u32(d, off + 4);
    let ack = u32(d, off + 8);
    const win = u16(d, off + 14);
    const urp = u16(d, off + 18);
    if (this.opts.quiet) {
      s += `tcp ${length - hlen}`;
      if (hlen > length) s += ` [bad hdr length ${hlen} - too long, > ${length}]`;
      return s;
    }
    const flags = d[off + 13];
    s += `Flags [${tcpFlagsText(flags | ((d[off + 12] & 0x01) << 8))}]`;
    let rev = false;
    let thseq = 0;
    let thack = 0;
    if (!this.opts.absoluteSeq && flags & 0x10) {
      const srcKey = p.ipVersion === 4 ? src : formatIPv6(d, p.ipv6.srcOffset);
      const dstKey = p.ipVersion === 4 ? dst : formatIPv6(d, p.ipv6.dstOffset);
      if (sport > dport) rev = true;
      else if (sport === dport) rev = compareAddress(p, true) > 0;
      const key = rev ? `${p.ipVersion}|${dstKey}|${srcKey}|${dport}|${sport}` : `${p.ipVersion}|${srcKey}|${dstKey}|${sport}|${dport}`;
      let th = this.seqBases.get(key);
      if (th === undefined || flags & 0x02) {
        th = rev ? { ack: seq, seq: (ack - 1) >>> 0 } : { seq, ack: (ack - 1) >>> 0 };
        if (this.seqBases.size >= MAX_SEQ_CONVERSATIONS && !this.seqBases.has(key)) {
          // Maps iterate in insertion order: the first key is the oldest conversation.
          const oldest = this.seqBases.keys().next().value;
          if (oldest !== undefined) this.seqBases.delete(oldest);
        }
        this.seqBases.set(key, th);
      } else if (rev) {
        seq = (seq - th.ack) >>> 0;
        ack = (ack - th.seq) >>> 0;
      } else {
        seq = (seq - th.seq) >>> 0;
        ack = (ack - th.ack) >>> 0;
      }
      thseq = th.seq;
      thack = th.ack;
    }
    if (hlen > length) return `${s} [bad hdr length ${hlen} - too long, > ${length}]`;
    if (this.opts.verbose > 0 && !fragmented && off + length <= end) {
      const sum = transportChecksum(p, off, length, 6);
      const tcpSum = u16(d, off + 16);
      s += sum === 0 ? `, cksum 0x${hex4(tcpSum)} (correct)` : `, cksum 0x${hex4(tcpSum)} (incorrect -> 0x${hex4(checksumShouldBe(tcpSum, sum))})`;
    }
    const payload = length - hlen;
    if (this.opts.verbose > 1 || payload > 0 || flags & (0x02 | 0x01 | 0x04)) {
      s += `, seq ${seq}`;
      if (payload > 0) s += `:${(seq + payload) >>> 0}`;
    }
    if (flags & 0x10) s += `, ack ${ack}`;
    s += `, win ${win}`;
    if (flags & 0x20) s += `, urg ${urp}`;
    if (hlen > 20) {
      const r = tcpOptionsText(d, off + 20, hlen - 20, rev, thseq, thack);
      s += r.text;
      if (r.stop) return s;
    }
    s += `, length ${payload}`;
    if (payload === 0) return s;
    const payloadOffset = off + hlen;
    if (payloadOffset > end) return s + ` [remaining caplen(${Math.max(0, end - off)}) < header length(${hlen})] [|tcp]`;
    if (flags & 0x04) {
      // tcpdump prints RST data only with -v; without it, a cut payload is still reported.
      if (this.opts.verbose > 0) return s + rstDataText(d, payloadOffset, payload, end, this.opts.verbose);
      return payloadOffset + payload > end ? s + ' [|tcp]' : s;
    }
    if (this.opts.packetType === 'domain') return s + formatDnsSummary(d, payloadOffset, payload, end, true, false, this.opts.verbose);
    const isPort = (n: number): boolean => sport === n || dport === n;
    if (isPort(22)) return s + sshText(d, payloadOffset, payload, end);
    if (isPort(80) || isPort(8080)) return s + ': ' + textProtocolSummary(d, payloadOffset, payload, end, 'http', undefined, this.opts.verbose);
    if (isPort(53)) return s + formatDnsSummary(d, payloadOffset, payload, end, true, false, this.opts.verbose);
    return s;
  }

  private udp(p: DecodedPacket, src: string, dst: string, length: number, fragmented: boolean, portsOnly = false): string {
    const d = p.data;
    const off = p.udp.offset;
    const end = d.length;
    if (end - off < 4) return `${src} > ${dst}: [|udp]`;
    const sport = u16(d, off);
    const dport = u16(d, off + 2);
    const addrs = portsOnly ? `${sport} > ${dport}: ` : `${src}.${sport} > ${dst}.${dport}: `;
    if (end - off < 8) return addrs + ' [|udp]';
    let ulen = u16(d, off + 4);
    if (ulen === 0 && length > 65535) ulen = length;
    if (ulen < 8) return `${addrs}truncated-udplength ${ulen}`;
    // print-udp.c: the payload is what both the UDP and the IP lengths allow.
    ulen -= 8;
    let plen = length - 8;
    if (ulen < plen) plen = ulen;
    const payloadOffset = off + 8;
    // print-udp.c: a -T type is printed before (and instead of) the checksum check.
    if (this.opts.packetType === 'domain') return addrs + formatDnsSummary(d, payloadOffset, plen, end, false, false, this.opts.verbose);
    let sumText = '';
    if (this.opts.verbose > 1 && !fragmented && p.ipVersion === 4) {
      // print-udp.c checks IPv4 UDP checksums from -vv on (0 means "none sent").
      const field = u16(d, off + 6);
      if (field === 0) sumText = '[no cksum] ';
      else if (payloadOffset + plen <= end) {
        const sum = transportChecksum(p, off, plen + 8, 17);
        sumText = sum === 0 ? '[udp sum ok] ' : `[bad udp cksum 0x${hex4(field)} -> 0x${hex4(checksumShouldBe(field, sum))}!] `;
      }
    } else if (this.opts.verbose > 0 && !fragmented && p.ipVersion === 6 && payloadOffset + plen <= end) {
      // print-udp.c checks the (mandatory) IPv6 UDP checksum from -v on.
      const sum = transportChecksum(p, off, plen + 8, 17);
      const field = u16(d, off + 6);
      sumText = sum === 0 ? '[udp sum ok] ' : `[bad udp cksum 0x${hex4(field)} -> 0x${hex4(checksumShouldBe(field, sum))}!] `;
    }
    if (sumText !== '') return this.udpAfterSum(p, addrs + sumText, sport, dport, d, payloadOffset, plen, ulen, end, fragmented);
    return this.udpAfterSum(p, addrs, sport, dport, d, payloadOffset, plen, ulen, end, fragmented);
  }

  private udpAfterSum(_p: DecodedPacket, addrs: string, sport: number, dport: number, d: Uint8Array, payloadOffset: number, plen: number, ulen: number, end: number, fragmented: boolean): string {
    if (!this.opts.quiet) {
      if (sport === 53 || dport === 53) return addrs + formatDnsSummary(d, payloadOffset, plen, end, false, false, this.opts.verbose);
      if (sport === 5353 || dport === 5353) return addrs + formatDnsSummary(d, payloadOffset, plen, end, false, true, this.opts.verbose);
    }
    if (ulen > plen && !fragmented) return `${addrs}UDP, bad length ${ulen} > ${plen}`;
    return `${addrs}UDP, length ${ulen}`;
  }

  private icmp4(p: DecodedPacket, length: number, fragmented = false): string {
    const d = p.data;
    const off = p.icmp.offset;
    const end = d.length;
    if (end - off < 1) return 'ICMP [|icmp]';
    const type = d[off];
    if (end - off < 2) return 'ICMP [|icmp]';
    const code = d[off + 1];
    let str: string;
    const quoted = off + 8;
    const quotedDst = (): string | null => (end - quoted >= 20 ? formatIPv4At(d, quoted + 16) : null);
    switch (type) {
      case 0:
      case 8:
        if (end - off < 8) return 'ICMP [|icmp]';
        str = `echo ${type === 8 ? 'request' : 'reply'}, id ${u16(d, off + 4)}, seq ${u16(d, off + 6)}`;
        break;
      case 3: {
        const dst = quotedDst();
        if (dst === null) return 'ICMP [|icmp]';
        switch (code) {
          case 0: str = `net ${dst} unreachable`; break;
          case 1: str = `host ${dst} unreachable`; break;
          case 2: str = `${dst} protocol ${d[quoted + 9]} unreachable`; break;
          case 3: {
            const hl = (d[quoted] & 0x0f) * 4;
            const proto = d[quoted + 9];
            if (end - (quoted + hl) < 4) return 'ICMP [|icmp]';
            const port = u16(d, quoted + hl + 2);
            str = proto === 6 ? `${dst} tcp port ${port} unreachable`
              : proto === 17 ? `${dst} udp port ${port} unreachable`
                : `${dst} protocol ${proto} port ${port} unreachable`;
            break;
          }
          case 4: {
            const mtu = u16(d, off + 6);
            str = mtu ? `${dst} unreachable - need to frag (mtu ${mtu})` : `${dst} unreachable - need to frag`;
            break;
          }
          case 5: str = `${dst} unreachable - source route failed`; break;
          case 6: str = `net ${dst} unreachable - unknown`; break;
          case 7: str = `host ${dst} unreachable - unknown`; break;
          case 8: str = `${dst} unreachable - source host isolated`; break;
          case 9: str = `net ${dst} unreachable - admin prohibited`; break;
          case 10: str = `host ${dst} unreachable - admin prohibited`; break;
          case 11: str = `net ${dst} unreachable - tos prohibited`; break;
          case 12: str = `host ${dst} unreachable - tos prohibited`; break;
          case 13: str = `host ${dst} unreachable - admin prohibited filter`; break;
          case 14: str = `host ${dst} unreachable - host precedence violation`; break;
          case 15: str = `host ${dst} unreachable - precedence cutoff`; break;
          default: str = `${dst} unreachable - #${code}`;
        }
        break;
      }
      case 11:
        str = code === 0 ? 'time exceeded in-transit' : code === 1 ? 'ip reassembly time exceeded' : `time exceeded-#${code}`;
        break;
      case 4: str = 'source quench'; break;
      case 12:
        if (code) str = `parameter problem - code ${code}`;
        else {
          if (end - off < 5) return 'ICMP [|icmp]';
          str = `parameter problem - octet ${d[off + 4]}`;
        }
        break;
      case 13:
      case 14:
        if (end - off < 8) return 'ICMP [|icmp]';
        str = `time stamp ${type === 13 ? 'query' : 'reply'} id ${u16(d, off + 4)} seq ${u16(d, off + 6)}`;
        if (type === 14) return 'ICMP [|icmp]'; // the reply's three timestamps are printed in a form not reproduced here
        break;
      case 42:
      case 43:
        if (end - off < 8) return 'ICMP [|icmp]';
        str = `extended echo ${type === 42 ? 'request' : 'reply'}, id ${u16(d, off + 4)}, seq ${d[off + 6]}`;
        break;
      case 17: str = 'address mask request'; break;
      case 18: str = 'address mask reply'; break;
      case 9: str = 'router advertisement'; break;
      case 10: str = 'router solicitation'; break;
      case 15: str = 'information request'; break;
      case 16: str = 'information reply'; break;
      default: str = `type-#${type}`;
    }
    let out = `ICMP ${str}, length ${length}`;
    if (this.opts.verbose > 0) {
      if (!fragmented && off + length <= end) {
        const sum = onesComplementSum(d, off, length, 0);
        if (sum !== 0) out += ` (wrong icmp cksum ${u16(d, off + 2).toString(16)} (->${checksumShouldBe(u16(d, off + 2), sum).toString(16)})!)`;
      }
      if (type === 42 || type === 43) out += extendedEchoText(d, off, length, end);
      const isError = type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
      if (isError && this.quoteDepth === 0) out += '\n\t' + this.quotedIpv4(d, quoted, end);
    }
    return out;
  }

  /** The original packet inside an ICMP error, printed by the IP printer (-v). */
  private quotedIpv4(d: Uint8Array, offset: number, end: number): string {
    if (end - offset < 4) return ' [|icmp]'; // the quoted IP length itself is cut
    const totalLength = u16(d, offset + 2);
    const stop = Math.min(end, offset + totalLength);
    this.quoteDecoder ??= createDecoder({ http: false });
    const q = this.quoteDecoder.decodeIpAt(d, offset, stop, newDecodedPacket());
    this.quoteDepth++;
    try {
      if (q.ipVersion !== 4) return `IP${q.ipVersion === 6 ? '6, wrong link-layer encapsulation' : (d[offset] >> 4)} (invalid)`;
      return 'IP ' + this.ipv4(q, totalLength);
    } finally {
      this.quoteDepth--;
    }
  }

  /** print-icmp6.c -v for router solicitation and neighbor solicitation/advertisement, with ND options. */
  private ndVerbose(d: Uint8Array, off: number, length: number, end: number, type: number): string {
    let s = `ICMP6, ${ICMP6_TYPES[type]}, length ${length}`;
    let opts = off + 8;
    if (type === 134) {
      // Router advertisement (RFC 4861 §4.2, preference RFC 4191).
      if (off + 16 > end) return s + ' [|icmp6]';
      const f = d[off + 5];
      const flags = [f & 0x80 ? 'managed' : '', f & 0x40 ? 'other stateful' : '', f & 0x20 ? 'home agent' : '', f & 0x04 ? 'proxy' : ''].filter((x) => x !== '');
      const pref = ['medium', 'high', 'reserved', 'low'][(f >> 3) & 3];
      s += `\n\thop limit ${d[off + 4]}, Flags [${flags.length ? flags.join(', ') : 'none'}], pref ${pref}, router lifetime ${u16(d, off + 6)}s, reachable time ${u32(d, off + 8)}ms, retrans timer ${u32(d, off + 12)}ms`;
      opts = off + 16;
    }
    if (type === 135 || type === 136) {
      if (off + 24 > end) return s + ' [|icmp6]';
      s += type === 135 ? `, who has ${formatIPv6(d, off + 8)}` : `, tgt is ${formatIPv6(d, off + 8)}`;
      if (type === 136) {
        const f = d[off + 4];
        const names = [f & 0x80 ? 'router' : '', f & 0x40 ? 'solicited' : '', f & 0x20 ? 'override' : ''].filter((x) => x !== '');
        s += `, Flags [${names.length ? names.join(', ') : 'none'}]`;
      }
      opts = off + 24;
    }
    const stop = Math.min(end, off + length);
    while (opts + 2 <= stop) {
      const optType = d[opts];
      const optLen = d[opts + 1];
      if (optLen === 0) return s + ' [|icmp6]';
      const bytes = optLen * 8;
      if (opts + bytes > stop) return s + ' [|icmp6]';
      const name = ND_OPTION_NAMES[optType] ?? 'unknown option';
      s += `\n\t  ${name} (${optType}), length ${bytes} (${optLen}): `;
      const lifetime = (v: number): string => (v === 0xffffffff ? 'infinity' : `${v}s`);
      if (optType === 1 || optType === 2) s += formatMac(d, opts + 2, bytes - 2);
      else if (optType === 5 && bytes >= 8) s += ` ${u32(d, opts + 4)}`;
      else if (optType === 3 && bytes >= 32) {
        const pf = d[opts + 3];
        const pflags = [pf & 0x80 ? 'onlink' : '', pf & 0x40 ? 'auto' : '', pf & 0x20 ? 'router' : ''].filter((x) => x !== '');
        s += `${formatIPv6(d, opts + 16)}/${d[opts + 2]}, Flags [${pflags.length ? pflags.join(', ') : 'none'}], valid time ${lifetime(u32(d, opts + 4))}, pref. time ${lifetime(u32(d, opts + 8))}`;
      } else if (optType === 24 && bytes >= 8) {
        // Route information (RFC 4191 §2.3): prefix of 0, 8 or 16 bytes.
        const prefix = new Uint8Array(16);
        prefix.set(d.subarray(opts + 8, opts + Math.min(bytes, 24)));
        const pref = ['medium', 'high', 'reserved', 'low'][(d[opts + 3] >> 3) & 3];
        s += ` ${formatIPv6(prefix, 0)}/${d[opts + 2]}, pref=${pref}, lifetime=${lifetime(u32(d, opts + 4))}`;
      } else if (optType === 31 && bytes >= 8) {
        // DNS search list (RFC 8106 §5.2): names in DNS label form, zero padded.
        const names: string[] = [];
        let q = opts + 8;
        const stop2 = opts + bytes;
        while (q < stop2 && d[q] !== 0) {
          let name = '';
          while (q < stop2 && d[q] !== 0) {
            const n = d[q];
            if (q + 1 + n > stop2) break;
            for (let i = 0; i < n; i++) name += escapeChar(d[q + 1 + i]);
            name += '.';
            q += 1 + n;
          }
          names.push(name);
          q++;
        }
        s += ` lifetime ${lifetime(u32(d, opts + 4))}, domain(s): ${names.join(', ')}`;
      } else if (optType === 38 && bytes >= 16) {
        // PREF64 (RFC 8781): 13-bit scaled lifetime (× 8 s) and 3-bit prefix length code.
        const v = u16(d, opts + 2);
        const plc = v & 7;
        const prefix = new Uint8Array(16);
        prefix.set(d.subarray(opts + 4, opts + 16));
        s += `${formatIPv6(prefix, 0)}/${[96, 64, 56, 48, 40, 32][plc] ?? '??'} (plc ${plc}), lifetime ${(v >> 3) * 8}s`;
      } else if (optType === 25 && bytes >= 24) {
        const addrs: string[] = [];
        for (let a = opts + 8; a + 16 <= opts + bytes; a += 16) addrs.push(formatIPv6(d, a));
        s += ` lifetime ${lifetime(u32(d, opts + 4))}, addr: ${addrs.join(' addr: ')}`;
      }
      else if (optType === 14) { for (let i = 2; i < bytes; i++) s += (i > 2 ? ' ' : '') + (d[opts + i] < 16 ? '0' : '') + d[opts + i].toString(16); }
      else s += hexAndAscii(d, opts + 2, opts + bytes).replace(/\n\t/g, '\n\t  ');
      opts += bytes;
    }
    return s;
  }

  private icmp6(p: DecodedPacket, length: number): string {
    const d = p.data;
    const off = p.icmp.offset;
    const end = d.length;
    if (length === 0) return 'ICMP6, length 0 (invalid)';
    if (end - off < 1) return 'ICMP6 [|icmp6]';
    const type = d[off];
    const code = end - off >= 2 ? d[off + 1] : 0;
    let prefix = '';
    if (this.opts.verbose > 0 && off + length <= end) {
      const sum = transportChecksum(p, off, length, 58);
      const field = u16(d, off + 2);
      prefix = sum === 0 ? '[icmp6 sum ok] ' : `[bad icmp6 cksum 0x${hex4(field)} -> 0x${hex4(checksumShouldBe(field, sum))}!] `;
    }
    if (this.opts.verbose > 0 && (type === 133 || type === 134 || type === 135 || type === 136) && off + 8 <= end) {
      return prefix + this.ndVerbose(d, off, length, end, type);
    }
    let s = prefix + `ICMP6, ${ICMP6_TYPES[type] ?? `unknown icmp6 type (${type})`}`;
    const need = (n: number): boolean => end - off >= n;
    switch (type) {
      case 1: {
        const odst = off + 8 + 24;
        if (!need(8 + 40)) return s + ' [|icmp6]';
        const dstText = formatIPv6(d, odst);
        switch (code) {
          case 0: s += `, unreachable route ${dstText}`; break;
          case 1: s += `, unreachable prohibited ${dstText}`; break;
          case 2: s += `, beyond scope of source address ${formatIPv6(d, off + 8 + 8)}`; break;
          case 3: s += `, unreachable address ${dstText}`; break;
          case 4: {
            const nh = d[off + 8 + 6];
            if (!need(8 + 40 + 4)) return s + ' [|icmp6]';
            const port = u16(d, off + 8 + 40 + 2);
            s += nh === 6 ? `, ${dstText} tcp port ${port}` : nh === 17 ? `, ${dstText} udp port ${port}` : `, ${dstText} protocol ${nh} port ${port} unreachable`;
            break;
          }
          default: s += `, unknown code (${code})`;
        }
        break;
      }
      case 2:
        if (!need(8)) return s + ' [|icmp6]';
        s += `, mtu ${u32(d, off + 4)}`;
        break;
      case 3:
        if (!need(8 + 40)) return s + ' [|icmp6]';
        s += code === 0 ? ` in-transit for ${formatIPv6(d, off + 8 + 24)}` : code === 1 ? ' reassembly' : `, unknown code (${code})`;
        break;
      case 4:
        if (!need(8)) return s + ' [|icmp6]';
        s += `, ${code === 0 ? 'erroneous - octet' : code === 1 ? 'next header - octet' : code === 2 ? 'option - octet' : `code-#${code}`} ${u32(d, off + 4)}`;
        break;
      case 138: {
        // print-icmp6.c icmp6_rrenum_print (non-verbose), RFC 2894.
        if (!need(16)) return s + ' [|icmp6]';
        s += code === 0 ? ', command' : code === 1 ? ', result' : code === 255 ? ', sequence number reset' : `, code-#${code}`;
        s += `, seq=${u32(d, off + 4)}`;
        if (code === 0) {
          const m = off + 16;
          if (!need(16 + 24)) return s + ' [|icmp6]';
          const rpm = d[m];
          s += ` match(${rpm === 1 ? 'add' : rpm === 2 ? 'change' : rpm === 3 ? 'setglobal' : `#${rpm}`},${formatIPv6(d, m + 8)}/${d[m + 3]})`;
          let n = d[m + 1] - 3;
          if (n % 4 !== 0) return s + ' [|icmp6]';
          n /= 4;
          let u = m + 24;
          while (n-- > 0) {
            if (u + 32 > end) return s + ' [|icmp6]';
            s += ` use(${formatIPv6(d, u + 16)}/${d[u]}/${d[u + 1]})`;
            u += 32;
          }
        }
        break;
      }
      case 139: {
        // print-icmp6.c icmp6_nodeinfo_print, query (RFC 4620), non-verbose.
        if (!need(16)) return s + ' [|icmp6]';
        const qtype = u16(d, off + 4);
        const flags = u16(d, off + 6);
        s += ' (';
        switch (qtype) {
          case 0: s += 'noop'; break;
          case 1: s += 'supported qtypes'; break;
          case 2: s += 'DNS name'; break;
          case 3:
          case 4:
            // RFC 4620 §4: IPv6 (3) or IPv4 (4) addresses, with the same flag bits.
            s += qtype === 3 ? 'node addresses' : 'ipv4 addresses';
            if (flags) s += ` [${flags & 0x40 ? 'a' : ''}${flags & 0x20 ? 'G' : ''}${flags & 0x10 ? 'S' : ''}${flags & 0x08 ? 'L' : ''}${flags & 0x04 ? 'C' : ''}${flags & 0x02 ? 'A' : ''}]`;
            break;
          default: s += 'unknown'; break;
        }
        if (code === 0) {
          if (!need(32)) return s + ' [|icmp6]';
          s += `, subject=${formatIPv6(d, off + 16)}`;
        } else if (code === 2) {
          if (!need(20)) return s + ' [|icmp6]';
          s += `, subject=${formatIPv4At(d, off + 16)}`;
        }
        s += ')';
        break;
      }
      case 160:
      case 161:
        if (!need(8)) return s + ' [|icmp6]';
        s += `, id ${u16(d, off + 4)}, seq ${d[off + 6]}`;
        break;
      case 128:
      case 129:
        if (!need(8)) return s + ' [|icmp6]';
        s += `, id ${u16(d, off + 4)}, seq ${u16(d, off + 6)}`;
        break;
      case 143:
        if (!need(8)) return s + ' [|icmp6]';
        s += `, ${u16(d, off + 6)} group record(s)`;
        break;
      case 135:
        if (!need(24)) return s + ' [|icmp6]';
        s += `, who has ${formatIPv6(d, off + 8)}`;
        break;
      case 136:
        if (!need(24)) return s + ' [|icmp6]';
        s += `, tgt is ${formatIPv6(d, off + 8)}`;
        break;
      case 137:
        if (!need(40)) return s + ' [|icmp6]';
        s += `, ${formatIPv6(d, off + 24)} to ${formatIPv6(d, off + 8)}`;
        break;
      default:
        break;
    }
    // print-icmp6.c gives the length only without -v.
    if (this.opts.verbose === 0) return `${s}, length ${length}`;
    if (type === 160 || type === 161) s += extendedEchoText(d, off, length, end);
    return s;
  }
}

/** memcmp(src, dst) of the packet's addresses, as tcpdump collates a conversation. */
function compareAddress(p: DecodedPacket, _srcFirst: boolean): number {
  const d = p.data;
  const a = p.ipVersion === 4 ? p.ipv4.offset + 12 : p.ipv6.srcOffset;
  const b = p.ipVersion === 4 ? p.ipv4.offset + 16 : p.ipv6.dstOffset;
  const n = p.ipVersion === 4 ? 4 : 16;
  for (let i = 0; i < n; i++) if (d[a + i] !== d[b + i]) return d[a + i] - d[b + i];
  return 0;
}

/** One line for one packet with a fresh printer (absolute sequence numbers; no -ttt state). */
export function formatPacketLine(record: PrintableRecord, decoded: DecodedPacket, options: PrintOptions = {}): string {
  return new PacketPrinter(options).format(record, decoded);
}
