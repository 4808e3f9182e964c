/**
 * Endian-aware integer reads straight from a Uint8Array (no DataView per record: the
 * reader's chunks come and go, and these inline well). Callers check bounds first.
 */

export function readU16(buf: Uint8Array, off: number, littleEndian: boolean): number {
  return littleEndian ? buf[off] | (buf[off + 1] << 8) : (buf[off] << 8) | buf[off + 1];
}

export function readU32(buf: Uint8Array, off: number, littleEndian: boolean): number {
  return littleEndian
    ? (buf[off] | (buf[off + 1] << 8) | (buf[off + 2] << 16) | (buf[off + 3] << 24)) >>> 0
    : ((buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]) >>> 0;
}

/** A signed 64-bit value as a JS number (exact up to 2^53, which covers every real offset). */
export function readI64(buf: Uint8Array, off: number, littleEndian: boolean): number {
  const first = readU32(buf, off, littleEndian);
  const second = readU32(buf, off + 4, littleEndian);
  const high = littleEndian ? second : first;
  const low = littleEndian ? first : second;
  return (high | 0) * 4294967296 + low;
}

/** An unsigned 64-bit counter as a JS number (exact up to 2^53). */
export function readU64(buf: Uint8Array, off: number, littleEndian: boolean): number {
  const first = readU32(buf, off, littleEndian);
  const second = readU32(buf, off + 4, littleEndian);
  return littleEndian ? second * 4294967296 + first : first * 4294967296 + second;
}

export function hex32(value: number): string {
  return `0x${(value >>> 0).toString(16).padStart(8, '0')}`;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** UTF-8 text of an option value; pcapng strings are not NUL-terminated but some writers add one. */
export function readUtf8(buf: Uint8Array, off: number, length: number): string {
  let end = off + length;
  while (end > off && buf[end - 1] === 0) end--;
  return utf8.decode(buf.subarray(off, end));
}
