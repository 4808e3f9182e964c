/**
 * Test helpers for capture/: collecting what a reader delivered as plain data, asking
 * tshark about the same file, crafting pcapng blocks by hand (either byte order), and
 * byte-swapping real little-endian captures into big-endian ones (no tool here writes them).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CaptureParser } from '../../src/capture/index.js';
import type { CaptureInterface, InterfaceStatistics, ReadSummary } from '../../src/capture/index.js';

export const DATA_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../data/capture');
export { TCPDUMP_CORPUS as CORPUS_DIR } from '../helpers/corpus.js';

export interface CollectedPacket {
  index: number;
  interfaceId: number;
  linkType: number;
  tsSec: number;
  tsNsec: number;
  capturedLength: number;
  originalLength: number;
  dataHex: string;
  comment: string | null;
  epbDirection: number;
  tsInvalidFraction: number | null;
}

export interface Collected {
  packets: CollectedPacket[];
  interfaces: CaptureInterface[];
  stats: InterfaceStatistics[];
  sections: Array<{ index: number; comment: string | null }>;
  warnings: string[];
  summary: ReadSummary | null;
  error: unknown;
}

export function newCollector(): { collected: Collected; parser: CaptureParser } {
  const collected: Collected = { packets: [], interfaces: [], stats: [], sections: [], warnings: [], summary: null, error: null };
  const parser = new CaptureParser({
    onPacket(p) {
      collected.packets.push({
        index: p.index, interfaceId: p.interfaceId, linkType: p.linkType, tsSec: p.tsSec, tsNsec: p.tsNsec,
        capturedLength: p.capturedLength, originalLength: p.originalLength, dataHex: Buffer.from(p.data).toString('hex'),
        comment: p.comment, epbDirection: p.epbDirection, tsInvalidFraction: p.tsInvalidFraction ?? null,
      });
    },
    onInterface(i) { collected.interfaces.push({ ...i }); },
    onStatistics(s) { collected.stats.push({ ...s }); },
    onSection(index, comment) { collected.sections.push({ index, comment }); },
    onWarning(m) { collected.warnings.push(m); },
  });
  return { collected, parser };
}

/** Parses `bytes` fed in the given chunk sizes (cycled); errors are captured, not thrown. */
export function parseInChunks(bytes: Uint8Array, chunkSizes: number[] = [bytes.length || 1]): Collected {
  const { collected, parser } = newCollector();
  try {
    let pos = 0;
    let i = 0;
    while (pos < bytes.length) {
      const size = Math.max(1, chunkSizes[i++ % chunkSizes.length]);
      // A fresh copy per chunk: the parser must not rely on chunks staying alive.
      parser.push(Uint8Array.from(bytes.subarray(pos, pos + size)));
      pos += size;
    }
    collected.summary = parser.end();
  } catch (err) {
    collected.error = err;
  }
  return collected;
}

export interface TsharkFrame {
  number: number;
  timeEpoch: string;
  len: number;
  capLen: number;
  interfaceId: number;
  interfaceName: string;
  comment: string;
}

/** What tshark says about every frame of `file` (the oracle for timestamps, lengths, interfaces). */
export function tsharkFrames(file: string): TsharkFrame[] {
  const out = execFileSync('tshark', ['-r', file, '-T', 'fields', '-E', 'separator=|', '-e', 'frame.number', '-e', 'frame.time_epoch',
    '-e', 'frame.len', '-e', 'frame.cap_len', '-e', 'frame.interface_id', '-e', 'frame.interface_name', '-e', 'frame.comment'],
  { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return out.split('\n').filter((l) => l.length > 0).map((line) => {
    const [number, timeEpoch, len, capLen, interfaceId, interfaceName, comment] = line.split('|');
    return { number: Number(number), timeEpoch, len: Number(len), capLen: Number(capLen), interfaceId: Number(interfaceId || 0), interfaceName, comment };
  });
}

/** `sec.nnnnnnnnn` as tshark prints frame.time_epoch. */
export function epochString(p: { tsSec: number; tsNsec: number }): string {
  return `${p.tsSec}.${String(p.tsNsec).padStart(9, '0')}`;
}

// ---- crafting pcapng by hand -------------------------------------------------------------

export class Bytes {
  private parts: number[] = [];
  constructor(readonly littleEndian = true) {}
  u8(v: number): this { this.parts.push(v & 0xff); return this; }
  u16(v: number): this {
    if (this.littleEndian) this.parts.push(v & 0xff, (v >>> 8) & 0xff); else this.parts.push((v >>> 8) & 0xff, v & 0xff);
    return this;
  }
  u32(v: number): this {
    const b = [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
    this.parts.push(...(this.littleEndian ? b.reverse() : b));
    return this;
  }
  u64(v: bigint): this {
    const hi = Number((v >> 32n) & 0xffffffffn);
    const lo = Number(v & 0xffffffffn);
    return this.littleEndian ? this.u32(lo).u32(hi) : this.u32(hi).u32(lo);
  }
  raw(bytes: ArrayLike<number>): this { for (let i = 0; i < bytes.length; i++) this.parts.push(bytes[i]); return this; }
  pad4(): this { while (this.parts.length % 4 !== 0) this.parts.push(0); return this; }
  get length(): number { return this.parts.length; }
  bytes(): Uint8Array { return Uint8Array.from(this.parts); }
}

export type Option = [code: number, value: Uint8Array | string];

function encodeOptions(b: Bytes, options: Option[]): void {
  if (options.length === 0) return;
  for (const [code, value] of options) {
    const v = typeof value === 'string' ? new TextEncoder().encode(value) : value;
    b.u16(code).u16(v.length).raw(v).pad4();
  }
  b.u16(0).u16(0);
}

/** A whole block: type, length, body (padded), options, trailing length. */
export function block(le: boolean, type: number, body: (b: Bytes) => void, options: Option[] = []): Uint8Array {
  const inner = new Bytes(le);
  body(inner);
  inner.pad4();
  encodeOptions(inner, options);
  const total = inner.length + 12;
  return new Bytes(le).u32(type).u32(total).raw(inner.bytes()).u32(total).bytes();
}

export function shb(le: boolean, options: Option[] = []): Uint8Array {
  return block(le, 0x0a0d0d0a, (b) => b.u32(0x1a2b3c4d).u16(1).u16(0).u32(0xffffffff).u32(0xffffffff), options);
}
export function idb(le: boolean, linkType: number, snaplen: number, options: Option[] = []): Uint8Array {
  return block(le, 1, (b) => b.u16(linkType).u16(0).u32(snaplen), options);
}
export function epb(le: boolean, ifid: number, ts: bigint, data: Uint8Array, origLen = data.length, options: Option[] = []): Uint8Array {
  return block(le, 6, (b) => b.u32(ifid).u32(Number(ts >> 32n)).u32(Number(ts & 0xffffffffn)).u32(data.length).u32(origLen).raw(data), options);
}
export function spb(le: boolean, origLen: number, data: Uint8Array): Uint8Array {
  return block(le, 3, (b) => b.u32(origLen).raw(data));
}
export function isb(le: boolean, ifid: number, ts: bigint, options: Option[] = []): Uint8Array {
  return block(le, 5, (b) => b.u32(ifid).u32(Number(ts >> 32n)).u32(Number(ts & 0xffffffffn)), options);
}
export function u8opt(v: number): Uint8Array { return Uint8Array.of(v); }
export function u32opt(le: boolean, v: number): Uint8Array { return new Bytes(le).u32(v).bytes(); }
export function u64opt(le: boolean, v: bigint): Uint8Array { return new Bytes(le).u64(v).bytes(); }

export function concat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts));
}

// ---- byte-swapping real captures -----------------------------------------------------------

function swap(buf: Uint8Array, off: number, width: number): void {
  for (let i = 0, j = width - 1; i < j; i++, j--) { const t = buf[off + i]; buf[off + i] = buf[off + j]; buf[off + j] = t; }
}

/** A little-endian pcap turned into the same capture written big-endian. */
export function pcapToBigEndian(le: Uint8Array, recordHeaderBytes = 16): Uint8Array {
  const b = Uint8Array.from(le);
  swap(b, 0, 4); swap(b, 4, 2); swap(b, 6, 2);
  for (let o = 8; o < 24; o += 4) swap(b, o, 4);
  const dv = new DataView(le.buffer, le.byteOffset, le.byteLength);
  for (let o = 24; o + recordHeaderBytes <= le.length;) {
    const caplen = dv.getUint32(o + 8, true);
    for (let f = 0; f < 16; f += 4) swap(b, o + f, 4);
    if (recordHeaderBytes === 24) { swap(b, o + 16, 4); swap(b, o + 20, 2); }
    o += recordHeaderBytes + caplen;
  }
  return b;
}

/** A little-endian pcapng (SHB, IDB, EPB, ISB, SPB and their options) turned big-endian. */
export function pcapngToBigEndian(le: Uint8Array): Uint8Array {
  const b = Uint8Array.from(le);
  const dv = new DataView(le.buffer, le.byteOffset, le.byteLength);
  const swapOptions = (start: number, end: number, numeric: Record<number, 'u32' | 'u64' | 'ts'>): void => {
    for (let p = start; p + 4 <= end;) {
      const code = dv.getUint16(p, true);
      const len = dv.getUint16(p + 2, true);
      swap(b, p, 2); swap(b, p + 2, 2);
      if (code === 0) break;
      const kind = numeric[code];
      if (kind === 'u32' && len === 4) swap(b, p + 4, 4);
      else if (kind === 'u64' && len === 8) swap(b, p + 4, 8);
      else if (kind === 'ts' && len === 8) { swap(b, p + 4, 4); swap(b, p + 8, 4); }
      p += 4 + ((len + 3) & ~3);
    }
  };
  for (let o = 0; o + 12 <= le.length;) {
    const type = dv.getUint32(o, true);
    const len = dv.getUint32(o + 4, true);
    swap(b, o, 4); swap(b, o + 4, 4); swap(b, o + len - 4, 4);
    const end = o + len - 4;
    if (type === 0x0a0d0d0a) {
      swap(b, o + 8, 4); swap(b, o + 12, 2); swap(b, o + 14, 2); swap(b, o + 16, 8);
      swapOptions(o + 24, end, {});
    } else if (type === 1) {
      swap(b, o + 8, 2); swap(b, o + 10, 2); swap(b, o + 12, 4);
      swapOptions(o + 16, end, { 14: 'u64' });
    } else if (type === 6) {
      const caplen = dv.getUint32(o + 20, true);
      for (let f = 8; f < 28; f += 4) swap(b, o + f, 4);
      swapOptions(o + 28 + ((caplen + 3) & ~3), end, { 2: 'u32' });
    } else if (type === 5) {
      for (let f = 8; f < 20; f += 4) swap(b, o + f, 4);
      swapOptions(o + 20, end, { 2: 'ts', 3: 'ts', 4: 'u64', 5: 'u64', 6: 'u64', 7: 'u64', 8: 'u64' });
    } else if (type === 3) {
      swap(b, o + 8, 4);
    }
    o += len;
  }
  return b;
}
