/**
 * Pieces of tcpdump's -v output: IP protocol names (ipproto.c), IPv4 options (print-ip.c
 * ip_optprint, RFC 791 §3.1) and the Internet checksum (RFC 1071).
 */
import { formatIPv4At } from './addr.js';
import { u16, u32 } from './bytes.js';
import type { DecodedPacket } from './types.js';

/**
 * tcpdump's ipproto_values (as its test outputs print them: 0 is "HBH", 60 "DSTOPT", the
 * names print-ip6.c gives those extension headers; 54 has no name).
 */
export const IPPROTO_NAMES: Record<number, string> = {
  0: 'HBH', 1: 'ICMP', 2: 'IGMP', 4: 'IPIP', 6: 'TCP', 8: 'EGP', 9: 'IGRP', 17: 'UDP', 29: 'ISO TP4', 33: 'DCCP',
  41: 'IPv6', 43: 'Routing', 44: 'Fragment', 46: 'RSVP', 47: 'GRE', 50: 'ESP', 51: 'AH', 58: 'ICMPv6',
  59: 'No Next Header', 60: 'DSTOPT', 77: 'ND', 88: 'EIGRP', 89: 'OSPF', 94: 'IPIP', 97: 'ETHERIP', 98: 'ENCAP',
  103: 'PIM', 108: 'Compressed IP', 112: 'VRRP', 113: 'PGM', 132: 'SCTP', 135: 'Mobility', 137: 'MPLS in IP',
  254: 'ENCAP',
};

const IP_OPTION_NAMES: Record<number, string> = {
  0: 'EOL', 1: 'NOP', 68: 'timestamp', 130: 'security', 7: 'RR', 137: 'SSRR', 131: 'LSRR', 148: 'RA', 82: 'traceroute',
};

/** Plain sum of 16-bit big-endian words (an odd last byte padded with zero). */
export function wordSum(d: Uint8Array, off: number, len: number): number {
  let sum = 0;
  let i = 0;
  for (; i + 1 < len; i += 2) sum += (d[off + i] << 8) | d[off + i + 1];
  if (i < len) sum += d[off + i] << 8;
  return sum;
}

/** `initial` plus the words, folded and complemented: 0 when a checksum verifies (RFC 1071). */
export function onesComplementSum(d: Uint8Array, off: number, len: number, initial: number): number {
  let sum = initial + wordSum(d, off, len);
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/** tcpdump's in_cksum_shouldbe: the checksum the field should have held. */
export function checksumShouldBe(field: number, computed: number): number {
  let v = field + computed;
  v = (v & 0xffff) + (v >>> 16);
  v = (v & 0xffff) + (v >>> 16);
  return v;
}

function routeText(d: Uint8Array, cp: number, length: number, end: number): { text: string; truncated: boolean } {
  if (length < 3) return { text: ` [bad length ${length}]`, truncated: false };
  let s = '';
  if ((length + 1) & 3) s += ` [bad length ${length}]`;
  const ptr = d[cp + 2] - 1;
  if (ptr < 3 || ((ptr + 1) & 3) || ptr > length + 1) s += ` [bad ptr ${d[cp + 2]}]`;
  for (let len = 3; len < length; len += 4) {
    if (cp + len + 4 > end) return { text: s, truncated: true };
    s += ` ${formatIPv4At(d, cp + len)}`;
    if (ptr > len) s += ',';
  }
  return { text: s, truncated: false };
}

function timestampOptionText(d: Uint8Array, cp: number, length: number, end: number): { text: string; truncated: boolean } {
  if (length < 4) return { text: `[bad length ${length}]`, truncated: false };
  let s = ' TS{';
  const flag = d[cp + 3] & 0xf;
  const hoplen = flag !== 0 ? 8 : 4;
  if ((length - 4) & (hoplen - 1)) s += `[bad length ${length}]`;
  const ptr = d[cp + 2] - 1;
  let len = 0;
  if (ptr < 4 || ((ptr - 4) & (hoplen - 1)) || ptr > length + 1) s += `[bad ptr ${d[cp + 2]}]`;
  let done = false;
  switch (flag) {
    case 0: s += 'TSONLY'; break;
    case 1: s += 'TS+ADDR'; break;
    case 3: s += 'PRESPEC'; break;
    default: s += `[bad ts type ${flag}]`; done = true;
  }
  if (!done) {
    let type = ' ';
    for (len = 4; len < length; len += hoplen) {
      if (ptr === len) type = ' ^ ';
      if (cp + len + hoplen > end) return { text: s, truncated: true };
      s += `${type}${u32(d, cp + len + hoplen - 4)}@${hoplen !== 8 ? '' : formatIPv4At(d, cp + len)}`;
      type = ' ';
    }
  }
  s += ptr === len ? ' ^ ' : '';
  s += d[cp + 3] >> 4 ? ` [${d[cp + 3] >> 4} hops not recorded]} ` : '}';
  return { text: s, truncated: false };
}

/** print-ip.c ip_optprint: the text inside "options (…)"; `truncated` when the capture ends in them. */
export function ipv4OptionsText(d: Uint8Array, cp: number, length: number): { text: string; truncated: boolean } {
  const end = d.length;
  let s = '';
  let sep = '';
  while (length > 0) {
    s += sep;
    sep = ',';
    if (cp >= end) return { text: s, truncated: true };
    const code = d[cp];
    s += IP_OPTION_NAMES[code] ?? `unknown ${code}`;
    let optionLength: number;
    if (code === 0 || code === 1) optionLength = 1;
    else {
      if (cp + 1 >= end) return { text: s, truncated: true };
      optionLength = d[cp + 1];
      if (optionLength < 2) return { text: s + ` [bad length ${optionLength}]`, truncated: false };
    }
    if (optionLength > length) return { text: s + ` [bad length ${optionLength}]`, truncated: false };
    if (cp + optionLength > end) return { text: s, truncated: true };
    if (code === 0) return { text: s, truncated: false };
    if (code === 68) {
      const r = timestampOptionText(d, cp, optionLength, end);
      s += r.text;
      if (r.truncated) return { text: s, truncated: true };
    } else if (code === 7 || code === 137 || code === 131) {
      const r = routeText(d, cp, optionLength, end);
      s += r.text;
      if (r.truncated) return { text: s, truncated: true };
    } else if (code === 148) {
      if (optionLength < 4) s += ` [bad length ${optionLength}]`;
      else if (u16(d, cp + 2) !== 0) s += ` value ${u16(d, cp + 2)}`;
    }
    cp += optionLength;
    length -= optionLength;
  }
  return { text: s, truncated: false };
}

export function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}

/** One's complement sum over the pseudo-header (RFC 9293 §3.1, RFC 8200 §8.1) and the segment: 0 when correct. */
export function transportChecksum(p: DecodedPacket, off: number, length: number, protocol: number): number {
  const d = p.data;
  let sum = 0;
  if (p.ipVersion === 4) {
    sum = wordSum(d, p.ipv4.offset + 12, 8);
  } else {
    sum = wordSum(d, p.ipv6.srcOffset, 32);
    sum += length >>> 16;
  }
  sum += (length & 0xffff) + protocol;
  return onesComplementSum(d, off, length, sum);
}
