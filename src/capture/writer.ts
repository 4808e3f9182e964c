/**
 * PcapngWriter: writes pcapng (draft-ietf-opsawg-pcapng) in the host's little-endian order —
 * a Section Header Block with shb_userappl "flowtrace", one Interface Description Block per
 * interface (if_name, link type, snaplen, if_tsresol 9 = nanoseconds by default), Enhanced
 * Packet Blocks with opt_comment and epb_flags direction, and optional Interface Statistics.
 *
 * Blocks go to a sink as they are written (a file stream, a socket) or are kept in memory
 * for `bytes()`. The writer writes in call order; `writePcapng` sorts packets by time first.
 */
import { UsageError } from '../errors.js';
import { BLOCK, BYTE_ORDER_MAGIC, OPT } from './pcapng.js';
import type { InterfaceStatistics, PacketRecord } from './types.js';

export interface PcapngWriterOptions {
  /** Receives every block as written (it may keep the buffer). Without one, blocks are kept for bytes(). */
  sink?: (block: Uint8Array) => void;
  /** shb_userappl; default "flowtrace". */
  application?: string;
  /** shb_comment of the section. */
  comment?: string | null;
  /** shb_os, e.g. `Linux 6.1`. */
  os?: string | null;
}

export interface PcapngInterface {
  name: string | null;
  linkType: number;
  /** Default 262144 (tcpdump's). */
  snaplenBytes?: number;
  description?: string | null;
  /** Timestamp resolution written (if_tsresol): nanoseconds (default) or microseconds. */
  resolution?: 'ns' | 'us';
}

/** What writePacket needs; a PacketRecord from the reader fits as is. */
export type PcapngPacket = Pick<PacketRecord, 'interfaceId' | 'tsSec' | 'tsNsec' | 'data'> &
  Partial<Pick<PacketRecord, 'originalLength' | 'comment' | 'epbDirection'>>;

const DEFAULT_SNAPLEN_BYTES = 262144;
const TSRESOL_NS = 9;
const TSRESOL_US = 6;
const encoder = new TextEncoder();

type Option = [code: number, value: Uint8Array];

function optionsLength(options: Option[]): number {
  if (options.length === 0) return 0;
  let n = 4; // opt_endofopt
  for (const [, v] of options) n += 4 + ((v.length + 3) & ~3);
  return n;
}

/** Writes options at `off` (zero padding: the buffer is zero-filled); returns the new offset. */
function writeOptions(view: DataView, bytes: Uint8Array, off: number, options: Option[]): number {
  if (options.length === 0) return off;
  for (const [code, v] of options) {
    view.setUint16(off, code, true);
    view.setUint16(off + 2, v.length, true);
    bytes.set(v, off + 4);
    off += 4 + ((v.length + 3) & ~3);
  }
  view.setUint32(off, 0, true);
  return off + 4;
}

function u32Option(value: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, value, true);
  return b;
}

function u64Option(value: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(value), true);
  return b;
}

export class PcapngWriter {
  private readonly sink: (block: Uint8Array) => void;
  private readonly kept: Uint8Array[] | null;
  private readonly resolutions: Array<'ns' | 'us'> = [];
  private bytesWritten = 0;

  constructor(options: PcapngWriterOptions = {}) {
    if (options.sink) {
      this.sink = options.sink;
      this.kept = null;
    } else {
      const kept: Uint8Array[] = [];
      this.kept = kept;
      this.sink = (b) => { kept.push(b); };
    }
    const opts: Option[] = [];
    if (options.comment) opts.push([OPT.COMMENT, encoder.encode(options.comment)]);
    if (options.os) opts.push([OPT.SHB_OS, encoder.encode(options.os)]);
    opts.push([OPT.SHB_USERAPPL, encoder.encode(options.application ?? 'flowtrace')]);
    this.writeBlock(BLOCK.SHB, 16, opts, (view) => {
      view.setUint32(8, BYTE_ORDER_MAGIC, true);
      view.setUint16(12, 1, true); // version 1.0
      view.setUint16(14, 0, true);
      view.setInt32(16, -1, true); // section length: not given
      view.setInt32(20, -1, true);
    });
  }

  /** Adds an interface; returns its id for writePacket. */
  addInterface(iface: PcapngInterface): number {
    const id = this.resolutions.length;
    const resolution = iface.resolution ?? 'ns';
    const opts: Option[] = [];
    if (iface.name) opts.push([OPT.IF_NAME, encoder.encode(iface.name)]);
    if (iface.description) opts.push([OPT.IF_DESCRIPTION, encoder.encode(iface.description)]);
    opts.push([OPT.IF_TSRESOL, Uint8Array.of(resolution === 'ns' ? TSRESOL_NS : TSRESOL_US)]);
    this.writeBlock(BLOCK.IDB, 8, opts, (view) => {
      view.setUint16(8, iface.linkType, true);
      view.setUint16(10, 0, true);
      view.setUint32(12, iface.snaplenBytes ?? DEFAULT_SNAPLEN_BYTES, true);
    });
    this.resolutions.push(resolution);
    return id;
  }

  /** Writes one Enhanced Packet Block (direction from epbDirection: 1 in, 2 out). */
  writePacket(p: PcapngPacket): void {
    const resolution = this.resolutions[p.interfaceId];
    if (resolution === undefined) throw new UsageError(`pcapng writer: packet on interface ${p.interfaceId}, but only ${this.resolutions.length} interface(s) were added`, 'call addInterface first');
    const opts: Option[] = [];
    if (p.comment) opts.push([OPT.COMMENT, encoder.encode(p.comment)]);
    if (p.epbDirection) opts.push([OPT.EPB_FLAGS, u32Option(p.epbDirection & 0x3)]);
    const units = resolution === 'ns'
      ? BigInt(p.tsSec) * 1_000_000_000n + BigInt(p.tsNsec)
      : BigInt(p.tsSec) * 1_000_000n + BigInt(Math.floor(p.tsNsec / 1000));
    const data = p.data;
    const padded = (data.length + 3) & ~3;
    this.writeBlock(BLOCK.EPB, 20 + padded, opts, (view, bytes) => {
      view.setUint32(8, p.interfaceId, true);
      view.setUint32(12, Number(units >> 32n), true);
      view.setUint32(16, Number(units & 0xffffffffn), true);
      view.setUint32(20, data.length, true);
      view.setUint32(24, p.originalLength ?? data.length, true);
      bytes.set(data, 28);
    });
  }

  /** Writes an Interface Statistics Block (null counters are left out). */
  writeStatistics(stats: InterfaceStatistics): void {
    const resolution = this.resolutions[stats.interfaceId];
    if (resolution === undefined) throw new UsageError(`pcapng writer: statistics for interface ${stats.interfaceId}, which was not added`, 'call addInterface first');
    const opts: Option[] = [];
    if (stats.receivedPackets !== null) opts.push([OPT.ISB_IFRECV, u64Option(stats.receivedPackets)]);
    if (stats.droppedByInterface !== null) opts.push([OPT.ISB_IFDROP, u64Option(stats.droppedByInterface)]);
    if (stats.droppedByOs !== null) opts.push([OPT.ISB_OSDROP, u64Option(stats.droppedByOs)]);
    if (stats.deliveredToUser !== null) opts.push([OPT.ISB_USRDELIV, u64Option(stats.deliveredToUser)]);
    const units = resolution === 'ns'
      ? BigInt(stats.tsSec) * 1_000_000_000n + BigInt(stats.tsNsec)
      : BigInt(stats.tsSec) * 1_000_000n + BigInt(Math.floor(stats.tsNsec / 1000));
    this.writeBlock(BLOCK.ISB, 12, opts, (view) => {
      view.setUint32(8, stats.interfaceId, true);
      view.setUint32(12, Number(units >> 32n), true);
      view.setUint32(16, Number(units & 0xffffffffn), true);
    });
  }

  /** Total bytes written so far. */
  get size(): number {
    return this.bytesWritten;
  }

  /** Everything written, as one buffer (only without a sink). */
  bytes(): Uint8Array {
    if (this.kept === null) throw new UsageError('pcapng writer: bytes() is only available without a sink', 'collect the blocks in your sink');
    return Buffer.concat(this.kept, this.bytesWritten);
  }

  /** One block: `fixed` body bytes filled by `fill` (offsets from the block start), then options. */
  private writeBlock(type: number, fixed: number, options: Option[], fill: (view: DataView, bytes: Uint8Array) => void): void {
    const total = 12 + fixed + optionsLength(options);
    const bytes = new Uint8Array(total);
    const view = new DataView(bytes.buffer);
    view.setUint32(0, type, true);
    view.setUint32(4, total, true);
    fill(view, bytes);
    writeOptions(view, bytes, 8 + fixed, options);
    view.setUint32(total - 4, total, true);
    this.bytesWritten += total;
    this.sink(bytes);
  }
}

/**
 * A whole pcapng in memory: interfaces, then packets sorted by time (stable), then statistics.
 * Packets with `interfaceId` index into `interfaces`.
 */
export function writePcapng(interfaces: PcapngInterface[], packets: readonly PcapngPacket[], options: Omit<PcapngWriterOptions, 'sink'> & { statistics?: InterfaceStatistics[] } = {}): Uint8Array {
  const writer = new PcapngWriter(options);
  for (const iface of interfaces) writer.addInterface(iface);
  const order = packets.map((_, i) => i).sort((a, b) => packets[a].tsSec - packets[b].tsSec || packets[a].tsNsec - packets[b].tsNsec || a - b);
  for (const i of order) writer.writePacket(packets[i]);
  for (const s of options.statistics ?? []) writer.writeStatistics(s);
  return writer.bytes();
}

