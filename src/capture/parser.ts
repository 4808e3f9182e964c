/**
 * The push parser: bytes in (chunks of any size, from a file, a pipe or a socket), packets
 * out through CaptureEvents. It frames records and hands each whole record to the format
 * (pcap or pcapng, told apart by the first 4 bytes). Text instead of a capture's magic is read
 * as tcpdump's printed output (capture/text/): the same packets, from what the text shows.
 *
 * Memory: only the unconsumed tail is kept. A record that lies inside one chunk is handed
 * over as a view of that chunk (no copy); only a record that straddles chunks is assembled
 * in a reused scratch buffer, which grows with the bytes that actually arrived (a corrupt
 * length cannot make it allocate more than the input holds).
 */
import { CaptureFormatError } from '../errors.js';
import { hex32 } from './bytes.js';
import { MAX_DESCRIBED_INTERFACES, ReaderContext, type RecordFormat } from './context.js';
import { PcapFormat, pcapVariantOfMagic } from './pcap.js';
import { PcapngFormat } from './pcapng.js';
import type { CaptureEvents, ReadSummary } from './types.js';
import { TcpdumpTextReader } from './text/index.js';

const MAGIC_BYTES = 4;
const PCAPNG_SHB_MAGIC_LE = 0x0a0d0d0a;
const INITIAL_SCRATCH_BYTES = 64 * 1024;

/** A hint for inputs that are recognisably something else. */
function hintForMagic(b: Uint8Array): string {
  if (b[0] === 0x1f && b[1] === 0x8b) return 'the input is gzip-compressed: gunzip it first (or zcat FILE | flowtrace read -)';
  if (b[0] === 0x28 && b[1] === 0xb5 && b[2] === 0x2f && b[3] === 0xfd) return 'the input is zstd-compressed: unzstd it first';
  if (b[0] === 0x50 && b[1] === 0x4b) return 'the input is a zip archive: unzip it first';
  if (b.every((c) => (c >= 0x20 && c < 0x7f) || c === 0x0a || c === 0x0d || c === 0x09)) {
    return 'the input is text, perhaps tcpdump output: write captures with tcpdump -w FILE';
  }
  return 'check that the file is a pcap or pcapng capture (tcpdump -w, tshark -w, dumpcap)';
}

export class CaptureParser {
  private readonly ctx: ReaderContext;
  private format: RecordFormat | null = null;
  private scratch = new Uint8Array(0);
  private pendingBytes = 0;
  /** Input bytes fully processed (the absolute offset of the next record). */
  private consumedBytes = 0;
  private failure: unknown = null;
  private ended = false;
  /** Set when the input is text (tcpdump's output): every byte goes to it. */
  private text: TcpdumpTextReader | null = null;

  constructor(events: CaptureEvents) {
    this.ctx = new ReaderContext(events);
  }

  /** Feeds the next bytes. The chunk may be reused by the caller once this returns. */
  push(chunk: Uint8Array): void {
    if (this.failure !== null) throw this.failure;
    if (this.ended) throw new Error('CaptureParser.push() after end()');
    try {
      this.pushUnchecked(chunk);
    } catch (err) {
      this.failure = err;
      throw err;
    }
  }

  /** Declares the end of the input; returns the summary (throws for an empty or headless input). */
  end(): ReadSummary {
    if (this.failure !== null) throw this.failure;
    this.ended = true;
    if (this.text !== null) return this.text.end();
    const totalBytes = this.consumedBytes + this.pendingBytes;
    const format = this.format;
    if (format === null) {
      if (totalBytes === 0) throw new CaptureFormatError('the input is empty (0 bytes)', { atByte: 0 }, 'check the file name, or that the program writing to the pipe produced a capture');
      throw new CaptureFormatError(`the input is only ${totalBytes} bytes, too short for a capture file header`, { atByte: 0, bytes: totalBytes });
    }
    let truncated: ReadSummary['truncated'] = null;
    if (this.pendingBytes > 0) {
      const what = format.describePartial(this.scratch, 0, this.pendingBytes);
      const need = format.recordLength(this.scratch, 0, this.pendingBytes);
      const present = need > 0 ? `${this.pendingBytes} of ${need} bytes present` : `${this.pendingBytes} bytes present, at least ${-need} needed`;
      const message = `the input ends inside a ${what} at byte ${this.consumedBytes} (${present})`;
      if (format.inFileHeader) throw new CaptureFormatError(message, { atByte: this.consumedBytes, blockType: what });
      truncated = { atByte: this.consumedBytes, message };
      this.ctx.warn(`${message}; the ${this.ctx.packets} packets before it were read`);
    }
    const notDescribed = this.ctx.interfacesNotDescribed;
    if (notDescribed > 0) {
      // Said once, past the cap on warnings: the bound changed what consumers were told.
      this.ctx.events.onWarning?.(`${notDescribed} interface blocks past the first ${MAX_DESCRIBED_INTERFACES} of their section were read without their names (their packets show as ifN)`);
    }
    return {
      format: format.name,
      packets: this.ctx.packets,
      bytes: totalBytes,
      interfaces: this.ctx.interfaces,
      interfacesNotDescribed: notDescribed,
      truncated,
    };
  }

  /** Packets delivered so far. */
  get packets(): number {
    return this.ctx.packets;
  }

  /**
   * Terminates for any input: every pass of either loop consumes at least one byte or
   * returns, because a format asks for more header bytes (`-n`) only when n > what it has,
   * and a known record length is at least the shortest valid record (12 bytes or more).
   */
  private pushUnchecked(chunk: Uint8Array): void {
    if (this.text !== null) { this.text.push(chunk); return; }
    if (this.format === null && this.startsWithText(chunk)) {
      this.text = new TcpdumpTextReader(this.ctx);
      if (this.pendingBytes > 0) this.text.push(this.scratch.slice(0, this.pendingBytes));
      this.pendingBytes = 0;
      this.text.push(chunk);
      return;
    }
    const n = chunk.length;
    let pos = 0;
    if (this.pendingBytes > 0) {
      // Complete the straddling record: first enough of its header to know its length.
      for (;;) {
        const len = this.recordLength(this.scratch, 0, this.pendingBytes);
        const target = len < 0 ? -len : len;
        const take = Math.min(target - this.pendingBytes, n - pos);
        if (take > 0) {
          this.appendPending(chunk, pos, take);
          pos += take;
        }
        if (this.pendingBytes < target) return;
        if (len > 0) {
          this.format!.processRecord(this.scratch, 0, len);
          this.consumedBytes += len;
          this.ctx.recordOffset = this.consumedBytes;
          this.pendingBytes = 0;
          break;
        }
      }
    }
    while (pos < n) {
      const avail = n - pos;
      const len = this.recordLength(chunk, pos, avail);
      if (len < 0 || len > avail) {
        this.appendPending(chunk, pos, avail);
        return;
      }
      this.format!.processRecord(chunk, pos, len);
      pos += len;
      this.consumedBytes += len;
      this.ctx.recordOffset = this.consumedBytes;
    }
  }

  /**
   * The first 4 bytes of the input (pending + this chunk) are printable text and no capture
   * magic: tcpdump's output, to be read as text. False while fewer than 4 bytes have come.
   */
  private startsWithText(chunk: Uint8Array): boolean {
    if (this.pendingBytes + chunk.length < MAGIC_BYTES) return false;
    const head = new Uint8Array(MAGIC_BYTES);
    for (let i = 0; i < MAGIC_BYTES; i++) head[i] = i < this.pendingBytes ? this.scratch[i]! : chunk[i - this.pendingBytes]!;
    const magicLE = (head[0]! | (head[1]! << 8) | (head[2]! << 16) | (head[3]! << 24)) >>> 0;
    if (magicLE === PCAPNG_SHB_MAGIC_LE || pcapVariantOfMagic(magicLE) !== null) return false;
    return head.every((c) => (c >= 0x20 && c < 0x7f) || c === 0x0a || c === 0x0d || c === 0x09);
  }

  private recordLength(buf: Uint8Array, off: number, avail: number): number {
    const format = this.format ?? this.detectFormat(buf, off, avail);
    if (format === null) return -MAGIC_BYTES;
    return format.recordLength(buf, off, avail);
  }

  private detectFormat(buf: Uint8Array, off: number, avail: number): RecordFormat | null {
    if (avail < MAGIC_BYTES) return null;
    const magicLE = (buf[off] | (buf[off + 1] << 8) | (buf[off + 2] << 16) | (buf[off + 3] << 24)) >>> 0;
    if (magicLE === PCAPNG_SHB_MAGIC_LE) {
      this.format = new PcapngFormat(this.ctx);
      return this.format;
    }
    const variant = pcapVariantOfMagic(magicLE);
    if (variant !== null) {
      this.format = new PcapFormat(this.ctx, variant);
      return this.format;
    }
    const first = buf.subarray(off, off + MAGIC_BYTES);
    const magic = hex32((first[0] << 24) | (first[1] << 16) | (first[2] << 8) | first[3]);
    throw new CaptureFormatError(`not a pcap or pcapng file (magic ${magic})`, { atByte: 0, magic }, hintForMagic(first));
  }

  private appendPending(chunk: Uint8Array, pos: number, count: number): void {
    const needed = this.pendingBytes + count;
    if (needed > this.scratch.length) {
      const grown = new Uint8Array(Math.max(needed, INITIAL_SCRATCH_BYTES, this.scratch.length * 2));
      grown.set(this.scratch.subarray(0, this.pendingBytes));
      this.scratch = grown;
    }
    this.scratch.set(chunk.subarray(pos, pos + count), this.pendingBytes);
    this.pendingBytes = needed;
  }
}
