/**
 * The Internet checksum (RFC 1071) over several byte ranges, the IPv4/IPv6 pseudo headers
 * of RFC 768 / RFC 793 / RFC 8200 §8.1, and the Paris traceroute trick of choosing two
 * payload bytes so that the checksum field holds a value we pick.
 */

/** One's complement sum (not yet complemented) of `d[offset..offset+length)`, added to `sum`. */
export function onesSum(d: Uint8Array, offset: number, length: number, sum = 0): number {
  let s = sum;
  const end = offset + length;
  let i = offset;
  for (; i + 1 < end; i += 2) s += (d[i] << 8) | d[i + 1];
  if (i < end) s += d[i] << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

/** The checksum to write into a header: the complement of the folded sum. */
export function finishChecksum(sum: number): number {
  return ~sum & 0xffff;
}

/** Sum of the pseudo header (source, destination, upper-layer length, protocol). */
export function pseudoHeaderSum(src: Uint8Array, dst: Uint8Array, upperLength: number, protocol: number): number {
  let s = onesSum(src, 0, src.length);
  s = onesSum(dst, 0, dst.length, s);
  s += (upperLength >>> 16) + (upperLength & 0xffff) + protocol;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

/**
 * Paris traceroute: with the checksum field already set to the wanted value and the two
 * bytes at `adjustOffset` zero, returns the 16-bit word to write there so that the whole
 * message checks out (its one's complement sum, pseudo header included, is 0xffff).
 * `sumWithFieldSet` is that sum before adjusting; the adjustment is its complement.
 */
export function parisAdjustment(sumWithFieldSet: number): number {
  return ~sumWithFieldSet & 0xffff;
}
