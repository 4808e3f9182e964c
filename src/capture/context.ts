/**
 * State shared by the framing parser and the per-format record handlers: the reused packet
 * record, the events, counters, and capped warnings (a hostile file must not flood the
 * consumer with one warning per record).
 */
import { CaptureFormatError } from '../errors.js';
import type { CaptureEvents, CaptureInterface, PacketRecord } from './types.js';

/** Upper bound for one pcapng block or pcap record: anything bigger is corruption. */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;
/**
 * Interfaces described (named, given to onInterface, listed in the summary) per pcapng
 * section. The format has no limit; a file of a million interface blocks (hostile, or
 * absurd) would otherwise make every consumer keep a million objects. Interfaces past it
 * are still read, and so are their packets: consumers see their id only (named `ifN`).
 * The same number as the flow analysis tells apart (flow's MAX_INTERFACES): a host with
 * more interfaces than that in one capture is far outside what flowtrace is for.
 */
export const MAX_DESCRIBED_INTERFACES = 4096;
/** Warnings after this many are counted, not reported one by one. */
export const MAX_WARNINGS = 20;

export class ReaderContext {
  readonly events: CaptureEvents;
  /** Reused for every packet (see PacketRecord's doc: valid until onPacket returns). */
  readonly record: ReusedRecord;
  /** Described interfaces of the whole input, at most MAX_DESCRIBED_INTERFACES. */
  readonly interfaces: CaptureInterface[] = [];
  /** Interface blocks read but not described (past MAX_DESCRIBED_INTERFACES in their section). */
  interfacesNotDescribed = 0;
  packets = 0;
  /** Absolute input offset of the record being framed/processed. */
  recordOffset = 0;
  private warnings = 0;

  constructor(events: CaptureEvents) {
    this.events = events;
    this.record = new ReusedRecord();
  }

  /** An interface for the consumers (its id numbers the packets of its section). */
  describeInterface(iface: CaptureInterface): void {
    if (this.interfaces.length < MAX_DESCRIBED_INTERFACES) this.interfaces.push(iface);
    this.events.onInterface?.(iface);
  }

  warn(message: string): void {
    this.warnings++;
    const onWarning = this.events.onWarning;
    if (!onWarning) return;
    if (this.warnings <= MAX_WARNINGS) onWarning(message);
    else if (this.warnings === MAX_WARNINGS + 1) onWarning(`more than ${MAX_WARNINGS} warnings; the rest are not shown`);
  }

  get warningCount(): number {
    return this.warnings;
  }

  /** A file-level error naming where it happened. */
  formatError(what: string, blockType: string, facts: Record<string, unknown> = {}): CaptureFormatError {
    return new CaptureFormatError(`${blockType} at byte ${this.recordOffset}: ${what}`, {
      atByte: this.recordOffset,
      blockType,
      ...facts,
    });
  }
}

const EMPTY = new Uint8Array(0);

/**
 * The record the reader fills for every packet. Its bytes are given as (buffer, offset);
 * the `data` view is made only when someone reads it — one object less per packet for
 * consumers that decode from (buffer, offset), as the flow analysis does.
 */
class ReusedRecord implements PacketRecord {
  index = 0;
  interfaceId = 0;
  linkType = 0;
  tsSec = 0;
  tsNsec = 0;
  capturedLength = 0;
  originalLength = 0;
  comment: string | null = null;
  epbDirection = 0;
  tsInvalidFraction: number | null = null;
  buffer: Uint8Array = EMPTY;
  offset = 0;
  private view: Uint8Array | null = EMPTY;

  get data(): Uint8Array {
    return (this.view ??= this.buffer.subarray(this.offset, this.offset + this.capturedLength));
  }

  set data(bytes: Uint8Array) {
    this.setBytes(bytes, 0, bytes.length);
    this.view = bytes;
  }

  /** The packet's bytes are buffer[offset, offset + capturedLength). */
  setBytes(buffer: Uint8Array, offset: number, capturedLength: number): void {
    this.buffer = buffer;
    this.offset = offset;
    this.capturedLength = capturedLength;
    this.view = null;
  }
}

/** What a format (pcap or pcapng) does with the records the framer hands it. */
export interface RecordFormat {
  readonly name: 'pcap' | 'pcapng';
  /**
   * Length in bytes of the record starting at `off`, knowing only `avail` bytes of it.
   * Negative `-n` means "at least n bytes are needed to tell" (n > avail, and n is never
   * more than the shortest valid record, so the framer never reads past a record).
   * Throws CaptureFormatError for an impossible length.
   */
  recordLength(buf: Uint8Array, off: number, avail: number): number;
  /** Handles one whole record `buf[off, off+len)`; packets go to the events. */
  processRecord(buf: Uint8Array, off: number, len: number): void;
  /** True until the file header (pcap) / first section header (pcapng) is processed. */
  readonly inFileHeader: boolean;
  /** A name for the kind of record that starts these (possibly partial) bytes, for messages. */
  describePartial(buf: Uint8Array, off: number, avail: number): string;
}
