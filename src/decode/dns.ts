/**
 * DNS messages: RFC 1035 §4 (format, compression), RFC 6891 (EDNS OPT, extended RCODE),
 * RFC 7873 (cookies), RFC 7553 (URI).
 *
 * Two views, both only on demand (never on the decoder's hot path):
 * - `decodeDns()`: the structured message, decoded by the `dns-packet` library.
 * - `formatDnsSummary()`: the one-line summary exactly as tcpdump's print-domain.c prints
 *   it (non-verbose), walked over the wire bytes so that truncated and malformed messages
 *   print the way tcpdump prints them (`[|domain]`, `<BAD PTR>`, `Type65`…).
 */
import { createRequire } from 'node:module';
import type * as DnsPacketLib from 'dns-packet';
import { formatIPv6 } from './addr.js';
import { u16, u32 } from './bytes.js';
import { printn } from './print-text.js';

export const DNS_HEADER_LENGTH = 12;
export const DNS_ID_OFFSET = 0;
export const DNS_FLAGS_OFFSET = 2;
export const DNS_QDCOUNT_OFFSET = 4;
export const DNS_ANCOUNT_OFFSET = 6;
export const DNS_NSCOUNT_OFFSET = 8;
export const DNS_ARCOUNT_OFFSET = 10;
export const DNS_PORT = 53;
export const MDNS_PORT = 5353;

/** The structured message (dns-packet's type), or null when dns-packet cannot decode it. */
export type DnsMessage = ReturnType<typeof DnsPacketLib.decode>;

/**
 * dns-packet, loaded on the first DNS message: reading or analysing a capture without DNS
 * does not pay for loading it (about 10 ms of every start).
 */
let dnsPacket: typeof DnsPacketLib | null = null;
function dnsPacketLib(): typeof DnsPacketLib {
  return (dnsPacket ??= createRequire(import.meta.url)('dns-packet') as typeof DnsPacketLib);
}

export function decodeDns(d: Uint8Array, offset: number, length: number): { message: DnsMessage | null; error: string | null } {
  try {
    const buf = Buffer.from(d.buffer, d.byteOffset + offset, Math.max(0, Math.min(length, d.length - offset)));
    return { message: dnsPacketLib().decode(buf), error: null };
  } catch (err) {
    return { message: null, error: (err as Error).message };
  }
}

const OPS = ['', ' inv_q', ' stat', ' op3', ' notify', ' update', ' op6', ' op7', ' op8', ' updateA', ' updateD',
  ' updateDA', ' updateM', ' updateMA', ' zoneInit', ' zoneRef'];
const RCODES = ['', ' FormErr', ' ServFail', ' NXDomain', ' NotImp', ' Refused', ' YXDomain', ' YXRRSet', ' NXRRSet',
  ' NotAuth', ' NotZone', ' Resp11', ' Resp12', ' Resp13', ' Resp14', ' NoChange', ' BadVers', 'Resp17', ' Resp18',
  ' Resp19', ' Resp20', 'Resp21', ' Resp22', ' BadCookie'];

function rcodeText(rcode: number): string {
  return rcode < RCODES.length ? RCODES[rcode] : ` Resp${rcode & 0xfff}`;
}

const TYPE_NAMES: Record<number, string> = {
  1: 'A', 2: 'NS', 3: 'MD', 4: 'MF', 5: 'CNAME', 6: 'SOA', 7: 'MB', 8: 'MG', 9: 'MR', 10: 'NULL', 11: 'WKS', 12: 'PTR',
  13: 'HINFO', 14: 'MINFO', 15: 'MX', 16: 'TXT', 17: 'RP', 18: 'AFSDB', 19: 'X25', 20: 'ISDN', 21: 'RT', 22: 'NSAP',
  23: 'NSAP_PTR', 24: 'SIG', 25: 'KEY', 26: 'PX', 27: 'GPOS', 28: 'AAAA', 29: 'LOC', 30: 'NXT', 31: 'EID', 32: 'NIMLOC',
  33: 'SRV', 34: 'ATMA', 35: 'NAPTR', 36: 'KX', 37: 'CERT', 38: 'A6', 39: 'DNAME', 40: 'SINK', 41: 'OPT', 42: 'APL',
  43: 'DS', 44: 'SSHFP', 45: 'IPSECKEY', 46: 'RRSIG', 47: 'NSEC', 48: 'DNSKEY', 49: 'DHCID', 50: 'NSEC3',
  51: 'NSEC3PARAM', 52: 'TLSA', 53: 'SMIMEA', 55: 'HIP', 56: 'NINFO', 57: 'RKEY', 58: 'TALINK', 59: 'CDS',
  60: 'CDNSKEY', 61: 'OPENPGPKEY', 62: 'CSYNC', 63: 'ZONEMD', 64: 'SVCB', 65: 'HTTPS', 99: 'SPF', 100: 'UINFO',
  101: 'UID', 102: 'GID', 103: 'UNSPEC', 104: 'NID', 105: 'L32', 106: 'L64', 107: 'LP', 108: 'EUI48', 109: 'EUI64',
  249: 'TKEY', 250: 'TSIG', 251: 'IXFR', 252: 'AXFR', 253: 'MAILB', 254: 'MAILA', 255: 'ANY', 256: 'URI', 257: 'CAA',
  258: 'AVC', 259: 'DOA', 260: 'AMTRELAY', 32768: 'TA', 32769: 'DLV',
};
const CLASS_NAMES: Record<number, string> = { 1: 'IN', 3: 'CHAOS', 4: 'HS', 255: 'ANY' };
const EDNS_OPTION_NAMES: Record<number, string> = {
  1: 'LLQ', 2: 'UL', 3: 'NSID', 5: 'DAU', 6: 'DHU', 7: 'N3U', 8: 'ECS', 9: 'EXPIRE', 10: 'COOKIE', 11: 'KEEPALIVE',
  12: 'PADDING', 13: 'CHAIN', 14: 'KEY-TAG', 16: 'CLIENT-TAG', 17: 'SERVER-TAG',
};
const DAU_NAMES: Record<number, string> = {
  0: 'DELETE', 1: 'RSAMD5', 2: 'DH', 3: 'DS', 5: 'RSASHA1', 6: 'DSA-NSEC3-SHA1', 7: 'RSASHA1-NSEC3-SHA1', 8: 'RSASHA256',
  10: 'RSASHA512', 12: 'ECC-GOST', 13: 'ECDSAP256SHA256', 14: 'ECDSAP384SHA384', 15: 'ED25519', 16: 'ED448',
  252: 'INDIRECT', 253: 'PRIVATEDNS', 254: 'PRIVATEOID',
};
const DHU_NAMES: Record<number, string> = { 1: 'SHA-1', 2: 'SHA-256', 3: 'GOST_R_34.11-94', 4: 'SHA-384' };
const N3U_NAMES: Record<number, string> = { 1: 'SHA-1' };

export function dnsTypeName(t: number): string {
  return TYPE_NAMES[t] ?? `Type${t}`;
}

const T_A = 1, T_NS = 2, T_CNAME = 5, T_SOA = 6, T_PTR = 12, T_MX = 15, T_TXT = 16, T_AAAA = 28, T_SRV = 33,
  T_A6 = 38, T_DNAME = 39, T_OPT = 41, T_TSIG = 250, T_URI = 256;
const C_IN = 1;
const TYPE_MASK = 0xc0, TYPE_INDIR = 0xc0, TYPE_EDNS0 = 0x40, TYPE_RESERVED = 0x80;
const EDNS0_ELT_BITLABEL = 0x01;
const MAXCDNAME = 255;

/** Walks a message like print-domain.c; `end` is the end of the captured bytes (snapend). */
class DnsWalker {
  out = '';
  constructor(readonly d: Uint8Array, readonly base: number, readonly end: number, readonly isMdns: boolean, readonly verbose = 0) {}

  has(p: number, n: number): boolean {
    return p >= 0 && p + n <= this.end;
  }

  /** ns_nskip: the offset after the name at p, or -1. */
  skipName(p: number): number {
    if (!this.has(p, 1)) return -1;
    let i = this.d[p++];
    while (i) {
      switch (i & TYPE_MASK) {
        case TYPE_INDIR:
          return p + 1;
        case TYPE_EDNS0: {
          if ((i & ~TYPE_MASK) !== EDNS0_ELT_BITLABEL) return -1;
          if (!this.has(p, 1)) return -1;
          let bitlen = this.d[p];
          if (bitlen === 0) bitlen = 256;
          p++;
          p += Math.floor((bitlen + 7) / 8);
          break;
        }
        case TYPE_RESERVED:
          return -1;
        default:
          p += i;
      }
      if (!this.has(p, 1)) return -1;
      i = this.d[p++];
    }
    return p;
  }

  /** labellen: length of the label at p, printing tcpdump's complaint on a bad type; -1 on failure. */
  labelLength(p: number): number {
    if (!this.has(p, 1)) return -1;
    const i = this.d[p];
    switch (i & TYPE_MASK) {
      case TYPE_EDNS0: {
        const elt = i & ~TYPE_MASK;
        if (elt !== EDNS0_ELT_BITLABEL) { this.out += `<ELT ${elt}>`; return -1; }
        if (!this.has(p + 1, 1)) return -1;
        let bitlen = this.d[p + 1];
        if (bitlen === 0) bitlen = 256;
        return Math.floor((bitlen + 7) / 8) + 1;
      }
      case TYPE_INDIR:
      case 0:
        return i;
      default:
        this.out += '<BAD LABEL TYPE>';
        return -1;
    }
  }

  bitLabel(p: number): number {
    if (!this.has(p, 1)) return -1;
    let bitlen = this.d[p];
    if (bitlen === 0) bitlen = 256;
    const slen = Math.floor((bitlen + 3) / 4);
    const lim = p + 1 + slen;
    this.out += '\\[x';
    let bitp = p + 1;
    let b = bitlen;
    for (; bitp < lim && b > 7; b -= 8, bitp++) {
      if (!this.has(bitp, 1)) return -1;
      this.out += hex2(this.d[bitp]);
    }
    if (b > 4) {
      if (!this.has(bitp, 1)) return -1;
      this.out += hex2(this.d[bitp] & (0xff << (8 - b)) & 0xff);
    } else if (b > 0) {
      if (!this.has(bitp, 1)) return -1;
      this.out += (((this.d[bitp] >> 4) & 0x0f) & (0x0f << (4 - b))).toString(16);
    }
    this.out += `/${bitlen}]`;
    return lim;
  }

  /** fqdn_print: prints the name at cp; returns the offset after it in the record, or -1. */
  printName(cp: number, bp: number = this.base): number {
    let l = this.labelLength(cp);
    if (l < 0) return -1;
    if (!this.has(cp, 1)) return -1;
    let maxOffset = cp - bp;
    let i = this.d[cp++];
    let rp = -1;
    let compress = false;
    let nameChars = 0;
    if ((i & TYPE_MASK) !== TYPE_INDIR) rp = cp + l;
    if (i === 0) {
      this.out += '.';
      return rp;
    }
    while (i && cp < this.end) {
      const kind = i & TYPE_MASK;
      if (kind === TYPE_INDIR) {
        if (!compress) { rp = cp + 1; compress = true; }
        if (!this.has(cp, 1)) return -1;
        const offset = ((i << 8) | this.d[cp]) & 0x3fff;
        if (offset >= maxOffset) { this.out += '<BAD PTR>'; return -1; }
        maxOffset = offset;
        cp = bp + offset;
        if (!this.has(cp, 1)) return -1;
        i = this.d[cp];
        l = this.labelLength(cp);
        if (l < 0) return -1;
        cp++;
        continue;
      }
      if (kind === TYPE_EDNS0) {
        const elt = i & ~TYPE_MASK;
        if (elt === EDNS0_ELT_BITLABEL) {
          if (this.bitLabel(cp) < 0) return -1;
        } else {
          this.out += `<ELT ${elt}>`;
          return -1;
        }
      } else if (kind === TYPE_RESERVED) {
        this.out += '<BAD LABEL TYPE>';
        return -1;
      } else {
        if (nameChars + l <= MAXCDNAME) {
          const r = printn(this.d, cp, l, this.end);
          this.out += r.text;
          if (r.truncated) return -1;
        } else if (nameChars < MAXCDNAME) {
          const r = printn(this.d, cp, MAXCDNAME - nameChars, this.end);
          this.out += r.text;
          if (r.truncated) return -1;
        }
        nameChars += l;
      }
      cp += l;
      if (nameChars <= MAXCDNAME) this.out += '.';
      nameChars++;
      if (!this.has(cp, 1)) return -1;
      i = this.d[cp];
      l = this.labelLength(cp);
      if (l < 0) return -1;
      cp++;
      if (!compress) rp += l + 1;
    }
    if (nameChars > MAXCDNAME) this.out += '<DOMAIN NAME TOO LONG>';
    return rp;
  }

  /** ns_qprint; returns the offset after the question or -1. */
  printQuestion(cp: number): number {
    const np = cp;
    cp = this.skipName(cp);
    if (cp < 0 || !this.has(cp, 4)) return -1;
    this.out += ` ${dnsTypeName(u16(this.d, cp))}`;
    const i = u16(this.d, cp + 2);
    const cls = this.isMdns ? i & 0x7fff : i;
    if (cls !== C_IN) this.out += ` ${CLASS_NAMES[cls] ?? `(Class ${cls})`}`;
    if (this.isMdns) this.out += i & 0x8000 ? ' (QU)' : ' (QM)';
    this.out += '? ';
    const r = this.printName(np);
    return r < 0 ? -1 : r + 4;
  }

  /** ns_rprint (non-verbose); returns the offset after the record, `end` when it cannot tell, -1 on truncation. */
  printRecord(cp: number): number {
    if (this.verbose > 0) {
      this.out += ' ';
      cp = this.printName(cp);
      if (cp < 0) return -1;
    } else {
      cp = this.skipName(cp);
    }
    if (cp < 0 || !this.has(cp, 10)) return this.end;
    const d = this.d;
    const typ = u16(d, cp);
    const i = u16(d, cp + 2);
    const cls = this.isMdns ? i & 0x7fff : i;
    cp += 4;
    if (cls !== C_IN && typ !== T_OPT) this.out += ` ${CLASS_NAMES[cls] ?? `(Class ${cls})`}`;
    if (this.isMdns && i & 0x8000) this.out += ' (Cache flush)';
    let optFlags = 0;
    if (typ === T_OPT) optFlags = u16(d, cp + 2);
    else if (this.verbose > 2) this.out += ` [${relativeTime(u32(d, cp))}]`;
    cp += 4;
    const len = u16(d, cp);
    cp += 2;
    const rp = cp + len;
    this.out += ` ${dnsTypeName(typ)}`;
    if (rp > this.end) return -1;
    switch (typ) {
      case T_A:
        if (!this.has(cp, 4)) return -1;
        this.out += ` ${d[cp]}.${d[cp + 1]}.${d[cp + 2]}.${d[cp + 3]}`;
        break;
      case T_NS:
      case T_CNAME:
      case T_PTR:
      case T_DNAME:
        this.out += ' ';
        if (this.printName(cp) < 0) return -1;
        break;
      case T_SOA: {
        if (this.verbose === 0) break; // details only with -v
        this.out += ' ';
        let q = this.printName(cp);
        if (q < 0) return -1;
        this.out += ' ';
        q = this.printName(q);
        if (q < 0) return -1;
        if (!this.has(q, 20)) return -1;
        for (let i = 0; i < 5; i++) this.out += ` ${u32(d, q + 4 * i)}`;
        break;
      }
      case T_MX:
        this.out += ' ';
        if (!this.has(cp, 2)) return -1;
        if (this.printName(cp + 2) < 0) return -1;
        this.out += ` ${u16(d, cp)}`;
        break;
      case T_TXT:
        while (cp < rp) {
          this.out += ' "';
          if (!this.has(cp, 1)) return -1;
          const n = d[cp];
          const r = printn(d, cp + 1, n, this.end);
          this.out += r.text;
          if (r.truncated) return -1;
          cp += 1 + n;
          this.out += '"';
        }
        break;
      case T_SRV:
        this.out += ' ';
        if (!this.has(cp, 6)) return -1;
        if (this.printName(cp + 6) < 0) return -1;
        this.out += `:${u16(d, cp + 4)} ${u16(d, cp)} ${u16(d, cp + 2)}`;
        break;
      case T_AAAA:
        if (!this.has(cp, 16)) return -1;
        this.out += ` ${formatIPv6(d, cp)}`;
        break;
      case T_A6: {
        if (!this.has(cp, 1)) return -1;
        const pbit = d[cp];
        const pbyte = Math.floor((pbit & ~7) / 8);
        if (pbit > 128) {
          this.out += ` ${pbit}(bad plen)`;
          break;
        } else if (pbit < 128) {
          const a = new Uint8Array(16);
          if (!this.has(cp + 1, 16 - pbyte)) return -1;
          a.set(d.subarray(cp + 1, cp + 1 + 16 - pbyte), pbyte);
          this.out += ` ${pbit} ${formatIPv6(a, 0)}`;
        }
        if (pbit > 0) {
          this.out += ' ';
          if (this.printName(cp + 1 + 16 - pbyte) < 0) return -1;
        }
        break;
      }
      case T_URI: {
        if (!this.has(cp, len)) return -1;
        this.out += ` ${u16(d, cp)} ${u16(d, cp + 2)} `;
        const r = printn(d, cp + 4, len - 4, this.end);
        this.out += r.text;
        if (r.truncated) return -1;
        break;
      }
      case T_OPT:
        this.out += ` UDPsize=${cls}`;
        if (optFlags & 0x8000) this.out += ' DO';
        if (cp < rp) {
          this.out += ' [';
          while (cp < rp) {
            cp = this.printEdnsOption(cp);
            if (cp < 0) return -1;
            if (cp < rp) this.out += ',';
          }
          this.out += ']';
        }
        break;
      case T_TSIG: {
        if (cp + len > this.end) return -1;
        if (this.verbose === 0) break;
        this.out += ' ';
        let q = this.printName(cp);
        if (q < 0) return -1;
        q += 6;
        if (!this.has(q, 2)) return -1;
        this.out += ` fudge=${u16(d, q)}`;
        q += 2;
        if (!this.has(q, 2)) return -1;
        this.out += ` maclen=${u16(d, q)}`;
        q += 2 + u16(d, q);
        if (!this.has(q, 2)) return -1;
        this.out += ` origid=${u16(d, q)}`;
        q += 2;
        if (!this.has(q, 2)) return -1;
        this.out += ` error=${u16(d, q)}`;
        q += 2;
        if (!this.has(q, 2)) return -1;
        this.out += ` otherlen=${u16(d, q)}`;
        break;
      }
      default:
        break;
    }
    return rp;
  }

  printEdnsOption(cp: number): number {
    const d = this.d;
    if (!this.has(cp, 2)) return -1;
    const opt = u16(d, cp);
    cp += 2;
    this.out += EDNS_OPTION_NAMES[opt] ?? `Opt${opt}`;
    if (!this.has(cp, 2)) return -1;
    const dataLen = u16(d, cp);
    cp += 2;
    if (!this.has(cp, dataLen)) return -1;
    if (dataLen > 0) {
      this.out += ' ';
      switch (opt) {
        case 8: this.out += ecsText(d, cp, dataLen); break;
        case 10:
          if (dataLen < 8 || (dataLen > 8 && dataLen < 16) || dataLen > 40) this.out += ' (invalid)';
          else for (let i = 0; i < dataLen; i++) this.out += (i === 8 ? ' ' : '') + hex2(d[cp + i]);
          break;
        case 11:
          if (dataLen !== 2) this.out += ' (invalid)';
          else this.out += `${(u16(d, cp) / 10).toFixed(1)} sec`;
          break;
        case 9:
          if (dataLen !== 4) this.out += ' (invalid)';
          else this.out += `${u32(d, cp)} sec`;
          break;
        case 12: this.out += `(${dataLen})`; break;
        case 14:
          if (dataLen % 2 !== 0) this.out += ' (invalid)';
          else for (let i = 0; i < dataLen; i += 2) this.out += (i > 0 ? ' ' : '') + u16(d, cp + i);
          break;
        case 5: case 6: case 7: {
          const names = opt === 5 ? DAU_NAMES : opt === 6 ? DHU_NAMES : N3U_NAMES;
          for (let i = 0; i < dataLen; i++) this.out += (i > 0 ? ' ' : '') + (names[d[cp + i]] ?? `Alg_${d[cp + i]}`);
          break;
        }
        case 13: {
          const sub = new DnsWalker(d, cp, cp + dataLen, false);
          sub.printName(cp, cp);
          this.out += sub.out;
          break;
        }
        default:
          for (let i = 0; i < dataLen; i++) this.out += hex2(d[cp + i]);
      }
    }
    return cp + dataLen;
  }
}

function hex2(n: number): string {
  return (n < 16 ? '0' : '') + n.toString(16);
}

function ecsText(d: Uint8Array, cp: number, dataLen: number): string {
  if (dataLen < 4) return ' (invalid)';
  const family = u16(d, cp);
  const srcLen = d[cp + 2];
  const scopeLen = d[cp + 3];
  const addrBits = family === 1 ? 32 : family === 2 ? 128 : 0;
  if (addrBits === 0) return ' (invalid)';
  if (dataLen - 4 > addrBits / 8) return ' (invalid)';
  if (srcLen > addrBits || scopeLen > addrBits || Math.floor((srcLen + 7) / 8) !== dataLen - 4) return ' (invalid)';
  const padded = new Uint8Array(16);
  padded.set(d.subarray(cp + 4, cp + dataLen));
  const addr = family === 1 ? `${padded[0]}.${padded[1]}.${padded[2]}.${padded[3]}` : formatIPv6(padded, 0);
  return `${addr}/${srcLen}/${scopeLen}`;
}

/**
 * The DNS part of a tcpdump line for the message at `offset`, `length` bytes as sent, of
 * which the bytes up to `end` were captured. `overTcp`: the message has RFC 1035 §4.2.2's
 * 2-byte length prefix. Returns the text that follows "src > dst: " (UDP) or ", length N" (TCP).
 */
export function formatDnsSummary(d: Uint8Array, offset: number, length: number, end: number, overTcp: boolean, isMdns = false, verbose = 0): string {
  let out = '';
  if (overTcp) {
    if (length < 2) return ` [DNS over TCP: length ${length} < 2] (invalid)`;
    length -= 2;
    if (offset + 2 > end) return ' [|domain]';
    const prefix = u16(d, offset);
    if (prefix !== length) return ` [prefix length(${prefix}) != length(${length})] (invalid)`;
    offset += 2;
    out = ' ';
  }
  if (length < DNS_HEADER_LENGTH) return `${out}domain [length ${length} < ${DNS_HEADER_LENGTH}] (invalid)`;
  if (offset + DNS_HEADER_LENGTH > end) return `${out} [|domain]`;
  const w = new DnsWalker(d, offset, end, isMdns, verbose);
  const flags = u16(d, offset + DNS_FLAGS_OFFSET);
  let qd = u16(d, offset + DNS_QDCOUNT_OFFSET);
  let an = u16(d, offset + DNS_ANCOUNT_OFFSET);
  let ns = u16(d, offset + DNS_NSCOUNT_OFFSET);
  const ar = u16(d, offset + DNS_ARCOUNT_OFFSET);
  const id = u16(d, offset + DNS_ID_OFFSET);
  const opcode = (flags >> 11) & 0xf;
  const rcode = extendedRcode(w, offset, flags, qd, an, ns, ar);
  const trunc = (): string => `${out}${w.out} [|domain]`;
  let cp = offset + DNS_HEADER_LENGTH;
  if (flags & 0x8000) {
    w.out += `${id}${OPS[opcode]}${rcodeText(rcode)}${flags & 0x0400 ? '*' : ''}${flags & 0x0080 ? '' : '-'}${flags & 0x0200 ? '|' : ''}${flags & 0x0020 ? '$' : ''}`;
    if (qd !== 1) w.out += ` [${qd}q]`;
    for (let i = 0; i < qd; i++) {
      if (i !== 0) w.out += ',';
      if (verbose > 1) {
        w.out += ' q:';
        cp = w.printQuestion(cp);
        if (cp < 0) return trunc();
      } else {
        cp = w.skipName(cp);
        if (cp < 0) return trunc();
        cp += 4;
      }
    }
    w.out += ` ${an}/${ns}/${ar}`;
    cp = printAnswers(w, cp, end, an);
    if (cp < 0) return trunc();
    if (verbose > 1) {
      const r = printSections(w, cp, end, ns, ar);
      if (r < 0) return trunc();
    }
  } else {
    w.out += `${id}${OPS[opcode]}${flags & 0x0100 ? '+' : ''}${flags & 0x0010 ? '%' : ''}`;
    const b2 = flags;
    if (b2 & 0x6cf) w.out += ` [b2&3=0x${b2.toString(16)}]`;
    if (opcode === 1) {
      if (qd) w.out += ` [${qd}q]`;
      if (an !== 1) w.out += ` [${an}a]`;
    } else {
      if (an) w.out += ` [${an}a]`;
      if (qd !== 1) w.out += ` [${qd}q]`;
    }
    if (ns) w.out += ` [${ns}n]`;
    if (ar) w.out += ` [${ar}au]`;
    if (qd) {
      cp = w.printQuestion(cp);
      if (cp < 0) return trunc();
      qd--;
      while (cp < end && qd) {
        cp = w.printQuestion(cp);
        if (cp < 0) return trunc();
        qd--;
      }
    }
    if (qd) return trunc();
    if (verbose > 1) {
      cp = printAnswers(w, cp, end, an);
      if (cp < 0) return trunc();
      if (printSections(w, cp, end, ns, ar) < 0) return trunc();
    }
  }
  return `${out}${w.out} (${length})`;
}

/** `count` comma-separated records from `cp` (tcpdump's answer loop); -1 when the message is cut. */
function printAnswers(w: DnsWalker, cp: number, end: number, count: number): number {
  if (count === 0) return cp;
  cp = w.printRecord(cp);
  if (cp < 0) return -1;
  count--;
  while (cp < end && count) {
    w.out += ',';
    cp = w.printRecord(cp);
    if (cp < 0) return -1;
    count--;
  }
  return count ? -1 : cp;
}

/** The " ns:" and " ar:" sections printed from -vv on; -1 when the message is cut. */
function printSections(w: DnsWalker, cp: number, end: number, ns: number, ar: number): number {
  for (const [label, count] of [[' ns:', ns], [' ar:', ar]] as const) {
    if (count === 0) continue;
    if (cp >= end) return -1;
    w.out += label;
    cp = printAnswers(w, cp, end, count);
    if (cp < 0) return -1;
  }
  return cp;
}

/** tcpdump's unsigned_relts_print: 3600 → "1h", 90061 → "1d1h1m1s", 0 → "0s". */
export function relativeTime(secs: number): string {
  if (secs === 0) return '0s';
  const units: Array<[number, string]> = [[31536000, 'y'], [604800, 'w'], [86400, 'd'], [3600, 'h'], [60, 'm'], [1, 's']];
  let s = '';
  for (const [n, unit] of units) {
    if (secs >= n) {
      s += `${Math.floor(secs / n)}${unit}`;
      secs -= Math.floor(secs / n) * n;
    }
  }
  return s;
}

/** The RCODE including the EDNS extended bits from the OPT record, walked as tcpdump does. */
function extendedRcode(w: DnsWalker, offset: number, flags: number, qd: number, an: number, ns: number, ar: number): number {
  const d = w.d;
  let rcode = flags & 0xf;
  let cp = offset + DNS_HEADER_LENGTH;
  for (let i = 0; i < qd; i++) {
    cp = w.skipName(cp);
    if (cp < 0) return rcode;
    cp += 4;
    if (cp >= w.end) return rcode;
  }
  for (let i = 0; i < an + ns; i++) {
    cp = w.skipName(cp);
    if (cp < 0) return rcode;
    cp += 8;
    if (cp + 2 > w.end) return rcode;
    cp += 2 + u16(d, cp);
    if (cp >= w.end) return rcode;
  }
  for (let i = 0; i < ar; i++) {
    cp = w.skipName(cp);
    if (cp < 0) return rcode;
    if (cp + 2 > w.end) return rcode;
    const type = u16(d, cp);
    cp += 4;
    if (cp + 1 > w.end) return rcode;
    if (type === T_OPT) return rcode | (d[cp] << 4);
    cp += 4;
    if (cp + 2 > w.end) return rcode;
    cp += 2 + u16(d, cp);
    if (cp >= w.end) return rcode;
  }
  return rcode;
}
