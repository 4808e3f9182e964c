/**
 * pcapng (https://datatracker.ietf.org/doc/draft-ietf-opsawg-pcapng/): a sequence of
 * blocks `type(4) totalLength(4) body… totalLength(4)`, grouped in sections that each start
 * with a Section Header Block whose byte-order magic sets the byte order of the section.
 *
 * Read: SHB (resets interfaces), IDB (link type, snaplen, if_name, if_description,
 * if_tsresol, if_tsoffset, if_fcslen), EPB (opt_comment, epb_flags direction), the obsolete
 * Packet Block, SPB (interface 0, length bounded by its snaplen), ISB (counters).
 * Skipped: NRB, DSB, custom and unknown blocks.
 */
import type { ReaderContext, RecordFormat } from './context.js';
import { MAX_DESCRIBED_INTERFACES, MAX_RECORD_BYTES } from './context.js';
import { readI64, readU16, readU32, readU64, readUtf8, hex32 } from './bytes.js';
import { splitTimestamp, unitsPerSecondOfTsresol, type SplitTime } from './timestamp.js';
import type { CaptureInterface, InterfaceStatistics } from './types.js';

export const BLOCK = {
  SHB: 0x0a0d0d0a,
  IDB: 0x00000001,
  PB: 0x00000002,
  SPB: 0x00000003,
  NRB: 0x00000004,
  ISB: 0x00000005,
  EPB: 0x00000006,
  DSB: 0x0000000a,
  CUSTOM: 0x00000bad,
  CUSTOM_NOCOPY: 0x40000bad,
} as const;

export const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

/** Option codes (pcapng draft §3.5 and per block). */
export const OPT = {
  END: 0,
  COMMENT: 1,
  SHB_HARDWARE: 2,
  SHB_OS: 3,
  SHB_USERAPPL: 4,
  IF_NAME: 2,
  IF_DESCRIPTION: 3,
  IF_TSRESOL: 9,
  IF_FCSLEN: 13,
  IF_TSOFFSET: 14,
  EPB_FLAGS: 2,
  ISB_IFRECV: 4,
  ISB_IFDROP: 5,
  ISB_OSDROP: 7,
  ISB_USRDELIV: 8,
} as const;

/** Every block: type, total length, and the trailing copy of the total length. */
const BLOCK_OVERHEAD = 12;
const MIN_SHB_BYTES = 28;
const MIN_IDB_BYTES = 20;
const MIN_EPB_BYTES = 32;
const MIN_PB_BYTES = 32;
const MIN_SPB_BYTES = 16;
const MIN_ISB_BYTES = 24;
const DEFAULT_UNITS_PER_SECOND = 1e6;
const EPB_DIRECTION_MASK = 0x3;

export function blockTypeName(type: number): string {
  switch (type) {
    case BLOCK.SHB: return 'pcapng section header block';
    case BLOCK.IDB: return 'pcapng interface description block';
    case BLOCK.PB: return 'pcapng packet block';
    case BLOCK.SPB: return 'pcapng simple packet block';
    case BLOCK.NRB: return 'pcapng name resolution block';
    case BLOCK.ISB: return 'pcapng interface statistics block';
    case BLOCK.EPB: return 'pcapng enhanced packet block';
    case BLOCK.DSB: return 'pcapng decryption secrets block';
    case BLOCK.CUSTOM: case BLOCK.CUSTOM_NOCOPY: return 'pcapng custom block';
    default: return `pcapng block of type ${hex32(type)}`;
  }
}

/**
 * What decoding a section's packets needs of each interface, in typed arrays: a file of
 * interface blocks only (hostile, or absurd) costs 22 bytes per block here — less than the
 * 20+ bytes the block itself takes in the file — instead of two objects per block. Names and
 * descriptions are kept elsewhere, for the first MAX_DESCRIBED_INTERFACES only.
 */
class SectionInterfaces {
  count = 0;
  linkType = new Uint16Array(16);
  snaplenBytes = new Uint32Array(16);
  unitsPerSecond = new Float64Array(16);
  tsOffsetSec = new Float64Array(16);

  add(linkType: number, snaplenBytes: number, unitsPerSecond: number, tsOffsetSec: number): number {
    const id = this.count;
    if (id === this.linkType.length) this.grow();
    this.linkType[id] = linkType;
    this.snaplenBytes[id] = snaplenBytes;
    this.unitsPerSecond[id] = unitsPerSecond;
    this.tsOffsetSec[id] = tsOffsetSec;
    this.count = id + 1;
    return id;
  }

  /** A new section: its interfaces are numbered from 0 again (the arrays are kept). */
  clear(): void {
    this.count = 0;
  }

  /** Doubling: linear in the number of blocks overall. */
  private grow(): void {
    const n = this.linkType.length * 2;
    const linkType = new Uint16Array(n); linkType.set(this.linkType); this.linkType = linkType;
    const snaplen = new Uint32Array(n); snaplen.set(this.snaplenBytes); this.snaplenBytes = snaplen;
    const units = new Float64Array(n); units.set(this.unitsPerSecond); this.unitsPerSecond = units;
    const offset = new Float64Array(n); offset.set(this.tsOffsetSec); this.tsOffsetSec = offset;
  }
}

function pad4(n: number): number {
  return (n + 3) & ~3;
}

export class PcapngFormat implements RecordFormat {
  readonly name = 'pcapng' as const;
  inFileHeader = true;
  private readonly ctx: ReaderContext;
  /** Byte order of the current section. */
  private le = true;
  private sectionIndex = -1;
  private readonly sectionInterfaces = new SectionInterfaces();
  private readonly time: SplitTime = { sec: 0, nsec: 0 };
  private warnedOverSnaplen = false;

  constructor(ctx: ReaderContext) {
    this.ctx = ctx;
  }

  recordLength(buf: Uint8Array, off: number, avail: number): number {
    if (avail < BLOCK_OVERHEAD) return -BLOCK_OVERHEAD;
    const isShb = buf[off] === 0x0a && buf[off + 1] === 0x0d && buf[off + 2] === 0x0d && buf[off + 3] === 0x0a;
    if (isShb) {
      // The byte-order magic follows the length; the section's byte order starts here.
      const bom = readU32(buf, off + 8, false);
      if (bom === BYTE_ORDER_MAGIC) this.le = false;
      else if (bom === 0x4d3c2b1a) this.le = true;
      else throw this.ctx.formatError(`byte-order magic is ${hex32(bom)}, not 0x1a2b3c4d in either byte order`, blockTypeName(BLOCK.SHB));
    } else if (this.inFileHeader) {
      throw this.ctx.formatError('a pcapng file must start with a section header block', blockTypeName(readU32(buf, off, this.le)));
    }
    const len = readU32(buf, off + 4, this.le);
    if (len < BLOCK_OVERHEAD || (isShb && len < MIN_SHB_BYTES) || len % 4 !== 0 || len > MAX_RECORD_BYTES) {
      const why = len % 4 !== 0 ? 'not a multiple of 4' : len > MAX_RECORD_BYTES ? `more than the sane maximum ${MAX_RECORD_BYTES}` : 'too small for its block type';
      throw this.ctx.formatError(`block length ${len} is impossible (${why})`, blockTypeName(isShb ? BLOCK.SHB : readU32(buf, off, this.le)), { blockLength: len });
    }
    return len;
  }

  processRecord(buf: Uint8Array, off: number, len: number): void {
    const le = this.le;
    const type = readU32(buf, off, le);
    const trailer = readU32(buf, off + len - 4, le);
    if (trailer !== len) this.ctx.warn(`${blockTypeName(type)} at byte ${this.ctx.recordOffset}: trailing length ${trailer} differs from the leading ${len}`);
    switch (type) {
      case BLOCK.EPB: this.enhancedPacket(buf, off, len); return;
      case BLOCK.SHB: this.sectionHeader(buf, off, len); return;
      case BLOCK.IDB: this.interfaceDescription(buf, off, len); return;
      case BLOCK.SPB: this.simplePacket(buf, off, len); return;
      case BLOCK.PB: this.obsoletePacket(buf, off, len); return;
      case BLOCK.ISB: this.interfaceStatistics(buf, off, len); return;
      default: return; // NRB, DSB, custom and unknown blocks: skipped by design
    }
  }

  describePartial(buf: Uint8Array, off: number, avail: number): string {
    if (avail < 4) return 'pcapng block header';
    const isShb = buf[off] === 0x0a && buf[off + 1] === 0x0d && buf[off + 2] === 0x0d && buf[off + 3] === 0x0a;
    return isShb ? blockTypeName(BLOCK.SHB) : blockTypeName(readU32(buf, off, this.le));
  }

  private tooShort(type: number, len: number, min: number): Error {
    return this.ctx.formatError(`block length ${len} is too small (at least ${min} needed)`, blockTypeName(type), { blockLength: len });
  }

  private sectionHeader(buf: Uint8Array, off: number, len: number): void {
    const major = readU16(buf, off + 12, this.le);
    const minor = readU16(buf, off + 14, this.le);
    if (major !== 1) throw this.ctx.formatError(`pcapng version ${major}.${minor} is not supported (only 1.x exists)`, blockTypeName(BLOCK.SHB), { major, minor });
    let comment: string | null = null;
    const end = off + len - 4;
    for (let p = off + 24; p + 4 <= end;) {
      const code = readU16(buf, p, this.le);
      const optLen = readU16(buf, p + 2, this.le);
      if (code === OPT.END) break;
      if (p + 4 + optLen > end) { this.optionOverrun(BLOCK.SHB, code); break; }
      if (code === OPT.COMMENT) {
        const text = readUtf8(buf, p + 4, optLen);
        comment = comment === null ? text : `${comment}\n${text}`;
      }
      p += 4 + pad4(optLen);
    }
    this.sectionIndex++;
    this.sectionInterfaces.clear();
    this.inFileHeader = false;
    this.ctx.events.onSection?.(this.sectionIndex, comment);
  }

  private interfaceDescription(buf: Uint8Array, off: number, len: number): void {
    if (len < MIN_IDB_BYTES) throw this.tooShort(BLOCK.IDB, len, MIN_IDB_BYTES);
    const le = this.le;
    const linkType = readU16(buf, off + 8, le);
    const snaplenBytes = readU32(buf, off + 12, le);
    let name: string | null = null;
    let description: string | null = null;
    let unitsPerSecond = DEFAULT_UNITS_PER_SECOND;
    let tsOffsetSec = 0;
    let fcsLengthBytes: number | null = null;
    const described = this.sectionInterfaces.count < MAX_DESCRIBED_INTERFACES;
    const end = off + len - 4;
    for (let p = off + 16; p + 4 <= end;) {
      const code = readU16(buf, p, le);
      const optLen = readU16(buf, p + 2, le);
      if (code === OPT.END) break;
      const v = p + 4;
      if (v + optLen > end) { this.optionOverrun(BLOCK.IDB, code); break; }
      switch (code) {
        case OPT.IF_NAME: if (described) name = readUtf8(buf, v, optLen); break;
        case OPT.IF_DESCRIPTION: if (described) description = readUtf8(buf, v, optLen); break;
        case OPT.IF_TSRESOL: {
          if (optLen !== 1) { this.ctx.warn(`if_tsresol of interface ${this.sectionInterfaces.count} has length ${optLen}, not 1; ignored`); break; }
          const units = unitsPerSecondOfTsresol(buf[v]);
          if (units === null) this.ctx.warn(`if_tsresol 0x${buf[v].toString(16)} of interface ${this.sectionInterfaces.count} is out of range; using microseconds`);
          else unitsPerSecond = units;
          break;
        }
        case OPT.IF_TSOFFSET:
          if (optLen === 8) tsOffsetSec = readI64(buf, v, le);
          else this.ctx.warn(`if_tsoffset of interface ${this.sectionInterfaces.count} has length ${optLen}, not 8; ignored`);
          break;
        case OPT.IF_FCSLEN:
          if (optLen === 1) fcsLengthBytes = buf[v];
          break;
        default: break;
      }
      p = v + pad4(optLen);
    }
    const id = this.sectionInterfaces.add(linkType, snaplenBytes, unitsPerSecond, tsOffsetSec);
    if (!described) {
      // Its packets are read all the same; consumers see only the id (named ifN by them).
      this.ctx.interfacesNotDescribed++;
      return;
    }
    const iface: CaptureInterface = { id, linkType, name, description, snaplenBytes, tsUnitsPerSecond: unitsPerSecond, fcsLengthBytes };
    this.ctx.describeInterface(iface);
  }

  /** Checks that the section describes `interfaceId` (returned). */
  private interfaceOf(interfaceId: number, type: number): number {
    if (interfaceId >= this.sectionInterfaces.count) {
      throw this.ctx.formatError(
        `packet on interface ${interfaceId}, but the section describes ${this.sectionInterfaces.count} interface(s)`,
        blockTypeName(type), { interfaceId },
      );
    }
    return interfaceId;
  }

  /** EPB: interface id, timestamp high/low, caplen, origlen, data, options. The hot path. */
  private enhancedPacket(buf: Uint8Array, off: number, len: number): void {
    if (len < MIN_EPB_BYTES) throw this.tooShort(BLOCK.EPB, len, MIN_EPB_BYTES);
    const le = this.le;
    const id = this.interfaceOf(readU32(buf, off + 8, le), BLOCK.EPB);
    const caplen = readU32(buf, off + 20, le);
    const room = len - MIN_EPB_BYTES;
    if (caplen > room) {
      throw this.ctx.formatError(`captured length ${caplen} does not fit in the block (room for ${room} bytes)`, blockTypeName(BLOCK.EPB), { caplen, blockLength: len });
    }
    const rec = this.ctx.record;
    const dataOff = off + 28;
    rec.comment = null;
    rec.epbDirection = 0;
    const end = off + len - 4;
    for (let p = dataOff + pad4(caplen); p + 4 <= end;) {
      const code = readU16(buf, p, le);
      const optLen = readU16(buf, p + 2, le);
      if (code === OPT.END) break;
      const v = p + 4;
      if (v + optLen > end) { this.optionOverrun(BLOCK.EPB, code); break; }
      if (code === OPT.COMMENT) rec.comment = rec.comment === null ? readUtf8(buf, v, optLen) : `${rec.comment}\n${readUtf8(buf, v, optLen)}`;
      else if (code === OPT.EPB_FLAGS && optLen === 4) rec.epbDirection = readU32(buf, v, le) & EPB_DIRECTION_MASK;
      p = v + pad4(optLen);
    }
    const snaplenBytes = this.sectionInterfaces.snaplenBytes[id];
    if (caplen > snaplenBytes && snaplenBytes > 0 && !this.warnedOverSnaplen) {
      // libpcap refuses such a file ("bigger than snaplen"); the bytes are there, so they are read.
      this.warnedOverSnaplen = true;
      this.ctx.warn(`${blockTypeName(BLOCK.EPB)} at byte ${this.ctx.recordOffset}: captured length ${caplen} is more than interface ${id}'s snaplen ${snaplenBytes}; read anyway (libpcap refuses such files; later ones are not reported)`);
    }
    this.deliver(id, readU32(buf, off + 12, le), readU32(buf, off + 16, le), buf, dataOff, caplen, readU32(buf, off + 24, le));
  }

  /** The obsolete Packet Block (type 2): 16-bit interface id and drops count, else like an EPB. */
  private obsoletePacket(buf: Uint8Array, off: number, len: number): void {
    if (len < MIN_PB_BYTES) throw this.tooShort(BLOCK.PB, len, MIN_PB_BYTES);
    const le = this.le;
    const id = this.interfaceOf(readU16(buf, off + 8, le), BLOCK.PB);
    const caplen = readU32(buf, off + 20, le);
    const room = len - MIN_PB_BYTES;
    if (caplen > room) {
      throw this.ctx.formatError(`captured length ${caplen} does not fit in the block (room for ${room} bytes)`, blockTypeName(BLOCK.PB), { caplen, blockLength: len });
    }
    const rec = this.ctx.record;
    rec.comment = null;
    rec.epbDirection = 0;
    this.deliver(id, readU32(buf, off + 12, le), readU32(buf, off + 16, le), buf, off + 28, caplen, readU32(buf, off + 24, le));
  }

  /** SPB: original length and data only; interface 0, caplen = min(origlen, snaplen, room). */
  private simplePacket(buf: Uint8Array, off: number, len: number): void {
    if (len < MIN_SPB_BYTES) throw this.tooShort(BLOCK.SPB, len, MIN_SPB_BYTES);
    const id = this.interfaceOf(0, BLOCK.SPB);
    const originalLength = readU32(buf, off + 8, this.le);
    let caplen = Math.min(originalLength, len - MIN_SPB_BYTES);
    const snaplenBytes = this.sectionInterfaces.snaplenBytes[id];
    if (snaplenBytes > 0 && caplen > snaplenBytes) caplen = snaplenBytes;
    const rec = this.ctx.record;
    rec.comment = null;
    rec.epbDirection = 0;
    this.deliver(id, -1, 0, buf, off + 12, caplen, originalLength);
  }

  /** Fills the reused record and hands it over. `tsHigh` -1 means "no timestamp" (SPB). */
  private deliver(id: number, tsHigh: number, tsLow: number, buf: Uint8Array, dataOff: number, caplen: number, originalLength: number): void {
    const ctx = this.ctx;
    const rec = ctx.record;
    if (tsHigh < 0) {
      rec.tsSec = 0;
      rec.tsNsec = 0;
    } else {
      const t = splitTimestamp(tsHigh, tsLow, this.sectionInterfaces.unitsPerSecond[id], this.time);
      rec.tsSec = t.sec + this.sectionInterfaces.tsOffsetSec[id];
      rec.tsNsec = t.nsec;
    }
    rec.index = ++ctx.packets;
    rec.interfaceId = id;
    rec.linkType = this.sectionInterfaces.linkType[id];
    rec.originalLength = originalLength;
    rec.setBytes(buf, dataOff, caplen);
    ctx.events.onPacket(rec);
  }

  private interfaceStatistics(buf: Uint8Array, off: number, len: number): void {
    if (len < MIN_ISB_BYTES) throw this.tooShort(BLOCK.ISB, len, MIN_ISB_BYTES);
    const le = this.le;
    const interfaceId = readU32(buf, off + 8, le);
    if (interfaceId >= this.sectionInterfaces.count) {
      this.ctx.warn(`${blockTypeName(BLOCK.ISB)} at byte ${this.ctx.recordOffset} names interface ${interfaceId}, which the section does not describe; skipped`);
      return;
    }
    const t = splitTimestamp(readU32(buf, off + 12, le), readU32(buf, off + 16, le), this.sectionInterfaces.unitsPerSecond[interfaceId], this.time);
    const stats: InterfaceStatistics = {
      interfaceId,
      tsSec: t.sec + this.sectionInterfaces.tsOffsetSec[interfaceId],
      tsNsec: t.nsec,
      receivedPackets: null,
      droppedByInterface: null,
      droppedByOs: null,
      deliveredToUser: null,
    };
    const end = off + len - 4;
    for (let p = off + 20; p + 4 <= end;) {
      const code = readU16(buf, p, le);
      const optLen = readU16(buf, p + 2, le);
      if (code === OPT.END) break;
      const v = p + 4;
      if (v + optLen > end) { this.optionOverrun(BLOCK.ISB, code); break; }
      if (optLen === 8) {
        if (code === OPT.ISB_IFRECV) stats.receivedPackets = readU64(buf, v, le);
        else if (code === OPT.ISB_IFDROP) stats.droppedByInterface = readU64(buf, v, le);
        else if (code === OPT.ISB_OSDROP) stats.droppedByOs = readU64(buf, v, le);
        else if (code === OPT.ISB_USRDELIV) stats.deliveredToUser = readU64(buf, v, le);
      }
      p = v + pad4(optLen);
    }
    this.ctx.events.onStatistics?.(stats);
  }

  private optionOverrun(type: number, code: number): void {
    this.ctx.warn(`${blockTypeName(type)} at byte ${this.ctx.recordOffset}: option ${code} runs past the end of the block; the rest of its options are ignored`);
  }
}
