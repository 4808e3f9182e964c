/**
 * Classic pcap files (https://www.tcpdump.org/manpages/pcap-savefile.5.txt and
 * draft-ietf-opsawg-pcap): a 24-byte file header, then per packet a 16-byte record header
 * (ts_sec, ts_frac, caplen, len) and caplen bytes. The magic number gives the byte order and
 * whether ts_frac counts micro- or nanoseconds. Also read: Alexey Kuznetzov's "modified"
 * pcap (magic 0xa1b2cd34), whose record headers carry 8 more bytes (ifindex, protocol,
 * packet type), as libpcap does. A record longer than the file's snaplen is cut to it (as
 * libpcap 1.10 does; tcpdump's hostile test captures rely on it), with one warning.
 */
import type { ReaderContext, RecordFormat } from './context.js';
import { MAX_RECORD_BYTES } from './context.js';
import { readU16, readU32 } from './bytes.js';
import type { CaptureInterface } from './types.js';

export const PCAP_MAGIC_MICRO = 0xa1b2c3d4;
export const PCAP_MAGIC_NANO = 0xa1b23c4d;
export const PCAP_MAGIC_MODIFIED = 0xa1b2cd34;

// File header offsets.
const FH_VERSION_MAJOR = 4;
const FH_VERSION_MINOR = 6;
const FH_SNAPLEN = 16;
const FH_LINKTYPE = 20;
export const PCAP_FILE_HEADER_BYTES = 24;
// Record header offsets.
const RH_TS_SEC = 0;
const RH_TS_FRAC = 4;
const RH_CAPLEN = 8;
const RH_LEN = 12;
const RECORD_HEADER_BYTES = 16;
const MODIFIED_RECORD_HEADER_BYTES = 24;

/**
 * libpcap's largest snaplen per link type (max_snaplen_for_dlt): a file snaplen of 0 or above
 * it means "this maximum". Records longer than the file's snaplen are cut to it, as libpcap
 * 1.10 does, so that what flowtrace decodes is what tcpdump decodes.
 */
const LIBPCAP_MAXIMUM_SNAPLEN = 262144;
const LIBPCAP_LARGER_SNAPLEN: Record<number, number> = { 231: 128 * 1024 * 1024 /* DBUS */, 279: 8 * 1024 * 1024 /* EBHSCR */, 249: 1024 * 1024 /* USBPCAP */ };

export function effectiveSnaplen(fileSnaplen: number, linkType: number): number {
  const max = LIBPCAP_LARGER_SNAPLEN[linkType] ?? LIBPCAP_MAXIMUM_SNAPLEN;
  return fileSnaplen === 0 || fileSnaplen > max ? max : fileSnaplen;
}

/** Link-type field: low 16 bits the LINKTYPE, bit 26 "FCS length present", bits 28–31 FCS length in 16-bit words. */
const LINKTYPE_MASK = 0xffff;
const FCS_PRESENT_BIT = 0x04000000;

/** Recognises a pcap magic read as little-endian from the first 4 bytes; null if none. */
export function pcapVariantOfMagic(magicLE: number): { littleEndian: boolean; nano: boolean; modified: boolean } | null {
  const swapped = (((magicLE & 0xff) << 24) | ((magicLE & 0xff00) << 8) | ((magicLE >>> 8) & 0xff00) | (magicLE >>> 24)) >>> 0;
  for (const [value, littleEndian] of [[magicLE, true], [swapped, false]] as const) {
    if (value === PCAP_MAGIC_MICRO) return { littleEndian, nano: false, modified: false };
    if (value === PCAP_MAGIC_NANO) return { littleEndian, nano: true, modified: false };
    if (value === PCAP_MAGIC_MODIFIED) return { littleEndian, nano: false, modified: true };
  }
  return null;
}

/** Splits the pcap link-type field into the LINKTYPE and the FCS length in bytes (null if not given). */
export function splitLinkTypeField(field: number): { linkType: number; fcsLengthBytes: number | null } {
  const linkType = field & LINKTYPE_MASK;
  const fcsLengthBytes = field & FCS_PRESENT_BIT ? (field >>> 28) * 2 : null;
  return { linkType, fcsLengthBytes };
}

export class PcapFormat implements RecordFormat {
  readonly name = 'pcap' as const;
  inFileHeader = true;
  private readonly ctx: ReaderContext;
  private readonly le: boolean;
  private readonly nano: boolean;
  private readonly headerBytes: number;
  private linkType = 0;
  private snaplenBytes = LIBPCAP_MAXIMUM_SNAPLEN;
  private cutRecords = 0;

  constructor(ctx: ReaderContext, variant: { littleEndian: boolean; nano: boolean; modified: boolean }) {
    this.ctx = ctx;
    this.le = variant.littleEndian;
    this.nano = variant.nano;
    this.headerBytes = variant.modified ? MODIFIED_RECORD_HEADER_BYTES : RECORD_HEADER_BYTES;
  }

  recordLength(buf: Uint8Array, off: number, avail: number): number {
    if (this.inFileHeader) return avail < PCAP_FILE_HEADER_BYTES ? -PCAP_FILE_HEADER_BYTES : PCAP_FILE_HEADER_BYTES;
    if (avail < this.headerBytes) return -this.headerBytes;
    const caplen = readU32(buf, off + RH_CAPLEN, this.le);
    if (caplen > MAX_RECORD_BYTES) {
      throw this.ctx.formatError(`captured length ${caplen} is impossible (more than ${MAX_RECORD_BYTES})`, 'pcap record', { caplen });
    }
    return this.headerBytes + caplen;
  }

  processRecord(buf: Uint8Array, off: number, len: number): void {
    const ctx = this.ctx;
    if (this.inFileHeader) {
      this.processFileHeader(buf, off);
      return;
    }
    const le = this.le;
    const rec = ctx.record;
    const tsSec = readU32(buf, off + RH_TS_SEC, le);
    const frac = readU32(buf, off + RH_TS_FRAC, le);
    let tsNsec: number;
    // An out-of-range fraction is kept as written (tcpdump prints it with "(invalid us)").
    if (frac > (this.nano ? 999_999_999 : 999_999)) {
      rec.tsInvalidFraction = frac;
      tsNsec = 999_999_999;
    } else {
      rec.tsInvalidFraction = null;
      tsNsec = this.nano ? frac : frac * 1000;
    }
    const dataOff = off + this.headerBytes;
    let caplen = len - this.headerBytes;
    if (caplen > this.snaplenBytes) caplen = this.cutToSnaplen(caplen);
    rec.index = ++ctx.packets;
    rec.interfaceId = 0;
    rec.linkType = this.linkType;
    rec.tsSec = tsSec;
    rec.tsNsec = tsNsec;
    rec.originalLength = readU32(buf, off + RH_LEN, le);
    rec.setBytes(buf, dataOff, caplen);
    ctx.events.onPacket(rec);
  }

  private cutToSnaplen(caplen: number): number {
    if (this.cutRecords++ === 0) {
      this.ctx.warn(`pcap record at byte ${this.ctx.recordOffset}: captured length ${caplen} is more than the file's snaplen ${this.snaplenBytes}; ` +
        'cut to the snaplen, as libpcap does (later such records are cut without a warning)');
    }
    return this.snaplenBytes;
  }

  private processFileHeader(buf: Uint8Array, off: number): void {
    const ctx = this.ctx;
    const major = readU16(buf, off + FH_VERSION_MAJOR, this.le);
    const minor = readU16(buf, off + FH_VERSION_MINOR, this.le);
    if (major !== 2) ctx.warn(`pcap file header says version ${major}.${minor}; only 2.4 is defined, reading it as 2.4`);
    const { linkType, fcsLengthBytes } = splitLinkTypeField(readU32(buf, off + FH_LINKTYPE, this.le));
    this.linkType = linkType;
    this.snaplenBytes = effectiveSnaplen(readU32(buf, off + FH_SNAPLEN, this.le), linkType);
    const iface: CaptureInterface = {
      id: 0,
      linkType,
      name: null,
      description: null,
      snaplenBytes: readU32(buf, off + FH_SNAPLEN, this.le),
      tsUnitsPerSecond: this.nano ? 1e9 : 1e6,
      fcsLengthBytes,
    };
    this.inFileHeader = false;
    ctx.describeInterface(iface);
  }

  describePartial(_buf: Uint8Array, _off: number, _avail: number): string {
    return this.inFileHeader ? 'pcap file header' : 'pcap record';
  }
}
