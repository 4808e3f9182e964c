/**
 * Address formatting (allocates strings: call only when printing or keeping a result).
 * IPv6 text form: RFC 5952 (zero compression of the longest run, lower case, IPv4-mapped).
 */
import type { DecodedPacket } from './types.js';

export function formatIPv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}

export function formatIPv4At(d: Uint8Array, o: number): string {
  return `${d[o]}.${d[o + 1]}.${d[o + 2]}.${d[o + 3]}`;
}

/** RFC 5952 form of the 16 bytes at `offset`, as inet_ntop prints it (tcpdump's form). */
export function formatIPv6(d: Uint8Array, offset: number): string {
  const words: number[] = new Array(8);
  for (let i = 0; i < 8; i++) words[i] = (d[offset + 2 * i] << 8) | d[offset + 2 * i + 1];
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  if (bestLen < 2) bestStart = -1;
  // IPv4-compatible (::a.b.c.d, not ::1 / ::) and IPv4-mapped (::ffff:a.b.c.d) forms, as inet_ntop.
  if (bestStart === 0 && (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff)) && !(bestLen === 6 && words[6] === 0 && words[7] < 2)) {
    return (bestLen === 5 ? '::ffff:' : '::') + formatIPv4At(d, offset + 12);
  }
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      s += i === 0 ? '::' : ':';
      i += bestLen - 1;
      continue;
    }
    s += words[i].toString(16);
    if (i < 7) s += ':';
  }
  return s;
}

export function formatMac(d: Uint8Array, offset: number, length = 6): string {
  let s = '';
  for (let i = 0; i < length; i++) {
    if (i) s += ':';
    s += (d[offset + i] < 16 ? '0' : '') + d[offset + i].toString(16);
  }
  return s;
}

/** Source address of the network layer, or null when there is none. */
export function srcAddress(p: DecodedPacket): string | null {
  if (p.ipVersion === 4) return formatIPv4(p.ipv4.src);
  if (p.ipVersion === 6) return formatIPv6(p.data, p.ipv6.srcOffset);
  return null;
}

export function dstAddress(p: DecodedPacket): string | null {
  if (p.ipVersion === 4) return formatIPv4(p.ipv4.dst);
  if (p.ipVersion === 6) return formatIPv6(p.data, p.ipv6.dstOffset);
  return null;
}
