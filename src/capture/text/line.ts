/**
 * The grammar of tcpdump's text output (tcpdump 4.99, `-n`/`-nn`), one line at a time: the
 * head line of a packet and the lines that may follow it. What it reads (tcpdump(1), and the
 * printers print-sll.c, print-ether.c, print-ip.c, print-ip6.c, print-tcp.c, print-txtproto.c):
 *
 *   [TIME] [IFNAME DIR] [LINK] PROTO …
 *     TIME    `23:34:08.541587` (default), `2026-12-07 23:34:08.541587` (-tttt),
 *             `1765150448.541587` (-tt), none (-t); 6 or 9 digits (--nano)
 *     IFNAME DIR  `ens5  In  ` with `-i any` (DIR: In, Out, B, M, P)
 *     LINK    with -e: `ifindex 2 32:98:f6:9c:44:45 ethertype IPv4 (0x0800), length 80: `
 *             (SLL2), `8a:39:…:ed > c2:df:…:64, ethertype IPv4 (0x0800), length 74: ` (Ethernet)
 *     PROTO   `IP SRC.PORT > DST.PORT: Flags [S.], seq 1:235, ack 1, win 62, options […],
 *             length 234: HTTP: GET / HTTP/1.1`; `IP6 …`; with -v the IP header in
 *             parentheses (`IP (tos 0x0, ttl 64, id 26604, offset 0, flags [DF], proto TCP
 *             (6), length 60)`) and the transport on the next, indented line; with -e the
 *             word `IP` is left out; `ARP, …`, UDP and ICMP lines are read as "other".
 *   lines after a head: the indented transport line (-v), `\t`-indented text of an HTTP
 *   payload (-v: `HTTP, length: 234` then every line), `\t0x0000:  4500 003c …` hex (-x/-X),
 *   anything else right after a head is an ASCII dump (-A).
 *
 * Nothing here allocates per character; a line is matched with a few anchored regexps.
 */

export type TextDirection = 'in' | 'out' | 'broadcast' | 'multicast' | 'otherhost';

const DIRECTIONS: Readonly<Record<string, TextDirection>> = { In: 'in', Out: 'out', B: 'broadcast', M: 'multicast', P: 'otherhost' };

/** TCP flag bits (RFC 9293 §3.1, RFC 3168 for ECE/CWR) as tcpdump prints them in `Flags [..]`. */
export const TCP_FLAGS: Readonly<Record<string, number>> = { F: 0x01, S: 0x02, R: 0x04, P: 0x08, '.': 0x10, U: 0x20, E: 0x40, W: 0x80, e: 0x100 };
export const TCP_ACK = 0x10;
export const TCP_SYN = 0x02;
export const TCP_FIN = 0x01;
export const TCP_RST = 0x04;

/** How a line's time was written. */
export type TimeForm = 'time-of-day' | 'date-time' | 'epoch' | 'none';

export interface TextTime {
  form: TimeForm;
  /** Whole seconds: of the day (time-of-day), since the epoch (date-time read as UTC, epoch). */
  seconds: number;
  nanos: number;
}

/** What the IP header said (-v), or null fields when not printed. */
export interface IpFacts {
  tos: number | null;
  ttl: number | null;
  id: number | null;
  dontFragment: boolean | null;
  /** IPv4 total length / IPv6 payload length as printed. */
  length: number | null;
  flowLabel: number | null;
}

export interface TcpFacts {
  flags: number;
  /** As printed: relative to the conversation's start unless absolute (see sequence.ts). */
  seq: number | null;
  seqEnd: number | null;
  ack: number | null;
  window: number | null;
  urgent: number | null;
  /** The text inside `options [...]`, or null. */
  options: string | null;
  /** The checksum field as -v printed it (`cksum 0x5d8b`), or null. */
  checksum: number | null;
  /** TCP payload length (`length N`). */
  payloadLength: number;
  /** What tcpdump printed after `length N: ` (`HTTP: GET / HTTP/1.1`, `HTTP`, `HTTP, length: 234`), or null. */
  summary: string | null;
}

/** The head line of one packet. */
export interface PacketHead {
  kind: 'packet';
  time: TextTime | null;
  iface: string | null;
  direction: TextDirection | null;
  /** -e: the SLL2 interface index and the link addresses, when printed. */
  ifindex: number | null;
  srcMac: string | null;
  dstMac: string | null;
  /** The text after the link part (`IP …`, `ARP, …`). */
  body: string;
}

export type TextLine =
  | PacketHead
  | { kind: 'header'; text: string; listeningOn: string | null; linkType: string | null }
  | { kind: 'stats'; captured: number | null; received: number | null; droppedByKernel: number | null; droppedByInterface: number | null }
  | { kind: 'transport'; text: string }
  | { kind: 'payload-text'; text: string }
  | { kind: 'hex'; offset: number; bytes: number[] }
  | { kind: 'blank' }
  | { kind: 'other'; text: string };

const TIME_OF_DAY = /^(\d{2}):(\d{2}):(\d{2})\.(\d{6}|\d{9})\s+/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})\.(\d{6}|\d{9})\s+/;
const EPOCH = /^(\d{9,11})\.(\d{6}|\d{9})\s+/;
const IFACE_DIR = /^(\S+)\s+(In|Out|B|M|P)\s+/;
const DIR_ONLY = /^(In|Out|B|M|P)\s+/;
/** -e on SLL2 / SLL: `ifindex 2 MAC ethertype …`; Ethernet: `MAC > MAC, ethertype …`. */
const LINK_E = /^(?:ifindex (\d+) )?(?:([0-9a-f]{2}(?::[0-9a-f]{2}){5}) > )?([0-9a-f]{2}(?::[0-9a-f]{2}){5})?,? ?ethertype \S+ \(0x[0-9a-f]{4}\), length \d+: /;
/** The network layer's start: tcpdump's keyword (IP, IP6, ARP), or — after -e's link part, which leaves the keyword out — an address or the -v parenthesis. */
const PROTO_KEYWORD = /^(?:IP6? |ARP, |RARP, )/;
const PROTO_AFTER_LINK = /^(?:\(tos |\(flowlabel |\(hlim |\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}[.>: ]|[0-9a-f]*:[0-9a-f:]*[.>: ]|Request |Reply )/;
const LISTENING = /^(?:tcpdump: )?listening on (\S+), link-type (\S+)/;
const READING = /^reading from file .*, link-type (\S+)/;
const STATS = /^(\d+) packets? (captured|received by filter|dropped by kernel|dropped by interface)\s*$/;
const HEX = /^\t0x([0-9a-f]{4}):\s+((?:[0-9a-f]{2,4} ?)+)/;

function toNanos(frac: string): number {
  return frac.length === 6 ? Number(frac) * 1000 : Number(frac);
}

/** Reads the time at the start of a line; returns it and the rest, or null when the line starts with none. */
export function readTime(line: string): { time: TextTime; rest: string } | null {
  let m = DATE_TIME.exec(line);
  if (m) {
    const seconds = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) / 1000;
    return { time: { form: 'date-time', seconds, nanos: toNanos(m[7]!) }, rest: line.slice(m[0].length) };
  }
  m = TIME_OF_DAY.exec(line);
  if (m) {
    const h = Number(m[1]);
    const min = Number(m[2]);
    const s = Number(m[3]);
    if (h > 23 || min > 59 || s > 60) return null;
    return { time: { form: 'time-of-day', seconds: h * 3600 + min * 60 + s, nanos: toNanos(m[4]!) }, rest: line.slice(m[0].length) };
  }
  m = EPOCH.exec(line);
  if (m) return { time: { form: 'epoch', seconds: Number(m[1]), nanos: toNanos(m[2]!) }, rest: line.slice(m[0].length) };
  return null;
}

/**
 * One line. `expectTimes`: the packets of this text start with a time (false for `-t`,
 * where a head is a line that starts with an interface or a protocol).
 */
export function parseLine(raw: string, expectTimes: boolean | null): TextLine {
  const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  if (line.startsWith('\t')) {
    const hex = HEX.exec(line);
    if (hex) {
      const bytes: number[] = [];
      for (const group of hex[2]!.trim().split(/\s+/)) {
        for (let i = 0; i + 1 < group.length; i += 2) bytes.push(parseInt(group.slice(i, i + 2), 16));
      }
      return { kind: 'hex', offset: parseInt(hex[1]!, 16), bytes };
    }
    return { kind: 'payload-text', text: line.slice(1) };
  }
  if (line.trim().length === 0) return { kind: 'blank' };
  if (/^ {4,}\S/.test(line) && / > /.test(line)) return { kind: 'transport', text: line.trim() };
  const stats = STATS.exec(line.trim());
  if (stats) {
    const n = Number(stats[1]);
    const what = stats[2];
    return {
      kind: 'stats', captured: what === 'captured' ? n : null, received: what === 'received by filter' ? n : null,
      droppedByKernel: what === 'dropped by kernel' ? n : null, droppedByInterface: what === 'dropped by interface' ? n : null,
    };
  }
  const listening = LISTENING.exec(line);
  if (listening) return { kind: 'header', text: line, listeningOn: listening[1]!, linkType: listening[2]! };
  const reading = READING.exec(line);
  if (reading) return { kind: 'header', text: line, listeningOn: null, linkType: reading[1]! };
  if (/^tcpdump: |^Warning: interface names might be incorrect|^\^C\s*$/.test(line)) return { kind: 'header', text: line, listeningOn: null, linkType: null };

  let rest = line;
  let time: TextTime | null = null;
  if (expectTimes !== false) {
    const t = readTime(line);
    if (t) { time = t.time; rest = t.rest; } else if (expectTimes === true) return { kind: 'other', text: line };
  }
  const head: PacketHead = { kind: 'packet', time, iface: null, direction: null, ifindex: null, srcMac: null, dstMac: null, body: '' };
  const ifDir = IFACE_DIR.exec(rest);
  if (ifDir && !PROTO_KEYWORD.test(rest)) {
    head.iface = ifDir[1]!;
    head.direction = DIRECTIONS[ifDir[2]!]!;
    rest = rest.slice(ifDir[0].length);
  } else {
    const dir = DIR_ONLY.exec(rest);
    if (dir) { head.direction = DIRECTIONS[dir[1]!]!; rest = rest.slice(dir[0].length); }
  }
  const link = LINK_E.exec(rest);
  if (link) {
    head.ifindex = link[1] !== undefined ? Number(link[1]) : null;
    // SLL2 shows the source address only; Ethernet shows source > destination.
    if (link[2] !== undefined) { head.srcMac = link[2]; head.dstMac = link[3] ?? null; } else head.srcMac = link[3] ?? null;
    rest = rest.slice(link[0].length);
  }
  const network = PROTO_KEYWORD.test(rest) || (link !== null && PROTO_AFTER_LINK.test(rest));
  // A line with tcpdump's time is a packet's (of some protocol); without a time (-t) its
  // network layer must start where it should and name a source and a destination.
  if (time === null && (!network || !/ > /.test(rest))) return { kind: 'other', text: line };
  head.body = rest;
  return head;
}

/** `ip.addr.port` / `ipv6.addr.port` → address and port (tcpdump joins them with a dot). */
export function splitEndpoint(text: string): { address: string; port: number | null } {
  const dot = text.lastIndexOf('.');
  const colons = text.includes(':');
  // IPv4 without port has 3 dots; with a port 4. IPv6 has colons and at most one dot (the port).
  if (!colons) {
    const dots = text.split('.').length - 1;
    if (dots === 4) return { address: text.slice(0, dot), port: portNumber(text.slice(dot + 1)) };
    return { address: text, port: null };
  }
  if (dot > text.lastIndexOf(':')) {
    const tail = text.slice(dot + 1);
    // an IPv4-mapped address (::ffff:1.2.3.4) has three dots in its tail part
    if ((text.slice(text.lastIndexOf(':') + 1).split('.').length - 1) === 3) return { address: text, port: null };
    return { address: text.slice(0, dot), port: portNumber(tail) };
  }
  return { address: text, port: null };
}

/** Service names tcpdump prints without -nn (getservbyport on a Debian /etc/services). */
const SERVICE_PORTS: Readonly<Record<string, number>> = {
  http: 80, https: 443, 'http-alt': 8080, webcache: 8080, domain: 53, ssh: 22, smtp: 25, submission: 587, imap: 143, imaps: 993,
  pop3: 110, pop3s: 995, ftp: 21, telnet: 23, ntp: 123, mysql: 3306, postgresql: 5432, redis: 6379, 'squid': 3128, 'https-alt': 8443,
};

function portNumber(text: string): number | null {
  if (/^\d+$/.test(text)) { const n = Number(text); return n <= 65535 ? n : null; }
  return SERVICE_PORTS[text] ?? null;
}

/** The IP header facts of a -v parenthesis (`(tos 0x0, ttl 64, id 26604, offset 0, flags [DF], proto TCP (6), length 60)`). */
export function readIpFacts(paren: string): IpFacts {
  const num = (re: RegExp, base = 10): number | null => { const m = re.exec(paren); return m ? parseInt(m[1]!, base) : null; };
  const flags = /flags \[([^\]]*)\]/.exec(paren);
  return {
    tos: num(/tos 0x([0-9a-f]+)/, 16),
    ttl: num(/(?:ttl|hlim) (\d+)/),
    id: num(/\bid (\d+)/),
    dontFragment: flags ? flags[1]!.includes('DF') : null,
    length: num(/(?:\blength|payload length:) (\d+)\)?\s*$/) ?? num(/\blength (\d+)/) ?? num(/payload length: (\d+)/),
    flowLabel: num(/flowlabel 0x([0-9a-f]+)/, 16),
  };
}

/** Reads `Flags [..], seq A:B, ack N, win W, urg U, options [...], length L[: summary]` after `SRC > DST: `. */
export function readTcp(text: string): TcpFacts | null {
  const flags = /^Flags \[([^\]]*)\]/.exec(text);
  if (!flags) return null;
  let bits = 0;
  for (const c of flags[1]!) bits |= TCP_FLAGS[c] ?? 0;
  const facts: TcpFacts = { flags: bits, seq: null, seqEnd: null, ack: null, window: null, urgent: null, options: null, checksum: null, payloadLength: 0, summary: null };
  let rest = text.slice(flags[0].length);
  const options = /, options \[([^\]]*(?:\{[^}]*\}[^\]]*)*)\]/.exec(rest);
  if (options) { facts.options = options[1]!; rest = rest.slice(0, options.index) + rest.slice(options.index + options[0].length); }
  const cksum = /, cksum 0x([0-9a-f]{1,4})/.exec(rest);
  if (cksum) facts.checksum = parseInt(cksum[1]!, 16);
  const seq = /, seq (\d+)(?::(\d+))?/.exec(rest);
  if (seq) { facts.seq = Number(seq[1]); facts.seqEnd = seq[2] !== undefined ? Number(seq[2]) : null; }
  const ack = /, ack (\d+)/.exec(rest);
  if (ack) facts.ack = Number(ack[1]);
  const win = /, win (\d+)/.exec(rest);
  if (win) facts.window = Number(win[1]);
  const urg = /, urg (\d+)/.exec(rest);
  if (urg) facts.urgent = Number(urg[1]);
  const length = /, length (\d+)(?:: (.*))?$/.exec(rest);
  if (length) { facts.payloadLength = Number(length[1]); facts.summary = length[2] ?? null; }
  return facts;
}
