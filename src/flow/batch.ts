/**
 * Batches of FlowPackets handed from the reading worker to the analysis (parallel.ts): per
 * record, the fields of a FlowPacket as 32-bit integers and its time as a float, and the
 * bytes flow reads of it (the IPv6 addresses, the captured TCP payload) in a byte area.
 * Both are ArrayBuffers transferred back and forth (no copy, no allocation per batch once the
 * few batches exist). Interface blocks travel in the same stream, in order.
 */
import type { CaptureInterface } from '../capture/index.js';
import { CaptureFormatError, FlowtraceError, InputError } from '../errors.js';
import { HEAD_LAYOUT_SLOTS } from './http-head.js';
import type { FlowPacket } from './packet.js';

/** Records per batch. */
export const BATCH_RECORDS = 8192;
/** Bytes of the byte area (a packet bigger than that gets a batch of its own, with a bigger area). */
export const BATCH_BYTES = 1 << 20;

/** Record kinds. */
const KIND_OTHER = 0;
const KIND_TCP = 1;
const KIND_INTERFACE = 2;

/** Int32 fields per record. */
const K = 0; const IFID = 1; const IFINDEX = 2; const BITS = 3; const IPID = 4; const SRC = 5; const DST = 6; const SPORT = 7;
const DPORT = 8; const SEQ = 9; const ACK = 10; const FLAGS = 11; const WIN = 12; const PLEN = 13; const CLEN = 14; const HASH = 15;
const BOFF = 16; const HEAD = 17;
const FIELDS = 18;
/** Head layouts per batch (a packet whose payload starts with an HTTP head has one; about 1 in 5 of a web server's). */
const BATCH_HEADS = 2048;

const TIMES_BYTES = BATCH_RECORDS * 8;
const FIELDS_BYTES = BATCH_RECORDS * FIELDS * 4;
/** Bytes of one batch's record area: the times (float64), the fields (int32), the head layouts (float64). */
const RECORD_AREA_BYTES = TIMES_BYTES + FIELDS_BYTES + BATCH_HEADS * HEAD_LAYOUT_SLOTS * 8;

export interface BatchBuffers {
  records: ArrayBuffer;
  bytes: ArrayBuffer;
}

export function newBatchBuffers(bytes = BATCH_BYTES): BatchBuffers {
  return { records: new ArrayBuffer(RECORD_AREA_BYTES), bytes: new ArrayBuffer(bytes) };
}

/** Fills a batch (in the worker). */
export class BatchWriter {
  count = 0;
  /** The index of the batch's first record among all records the reading delivered (set by the worker). */
  first = 0;
  private used = 0;
  private ts!: Float64Array;
  private ints!: Int32Array;
  private area!: Uint8Array;
  private heads!: Float64Array;
  private headsUsed = 0;
  interfaces: CaptureInterface[] = [];
  buffers!: BatchBuffers;

  constructor(buffers: BatchBuffers) {
    this.reset(buffers);
  }

  reset(buffers: BatchBuffers): void {
    this.buffers = buffers;
    this.ts = new Float64Array(buffers.records, 0, BATCH_RECORDS);
    this.ints = new Int32Array(buffers.records, TIMES_BYTES, BATCH_RECORDS * FIELDS);
    this.heads = new Float64Array(buffers.records, TIMES_BYTES + FIELDS_BYTES, BATCH_HEADS * HEAD_LAYOUT_SLOTS);
    this.area = new Uint8Array(buffers.bytes);
    this.headsUsed = 0;
    this.count = 0;
    this.used = 0;
    this.interfaces = [];
  }

  get full(): boolean {
    return this.count === BATCH_RECORDS;
  }

  /** Bytes a packet needs in the byte area. */
  static bytesOf(p: FlowPacket): number {
    return p.tcp ? (p.ipv6 ? 32 : 0) + p.capturedPayloadLength : 0;
  }

  /** Room for a packet needing `bytes` (and a head layout when `head`) (false: hand this batch over first). */
  fits(bytes: number, head: boolean): boolean {
    return this.count < BATCH_RECORDS && this.used + bytes <= this.area.length && (!head || this.headsUsed < BATCH_HEADS);
  }

  add(p: FlowPacket): void {
    const i = this.count++;
    const o = i * FIELDS;
    const ints = this.ints;
    this.ts[i] = p.tsUs;
    ints[o + IFID] = p.interfaceId;
    ints[o + IFINDEX] = p.sll2Ifindex;
    ints[o + BITS] = p.dirCode | (p.anyLink ? 8 : 0) | (p.ipv6 ? 16 : 0) | (p.payloadHashed ? 32 : 0);
    if (!p.tcp) { ints[o + K] = KIND_OTHER; return; }
    ints[o + K] = KIND_TCP;
    ints[o + IPID] = p.ipId;
    ints[o + SRC] = p.src;
    ints[o + DST] = p.dst;
    ints[o + SPORT] = p.srcPort;
    ints[o + DPORT] = p.dstPort;
    ints[o + SEQ] = p.seq;
    ints[o + ACK] = p.ack;
    ints[o + FLAGS] = p.flags;
    ints[o + WIN] = p.window;
    ints[o + PLEN] = p.payloadLength;
    ints[o + CLEN] = p.capturedPayloadLength;
    ints[o + HASH] = p.payloadHash;
    ints[o + BOFF] = this.used;
    if (p.headLayout !== null) {
      ints[o + HEAD] = this.headsUsed;
      this.heads.set(p.headLayout.subarray(p.headBase, p.headBase + HEAD_LAYOUT_SLOTS), this.headsUsed * HEAD_LAYOUT_SLOTS);
      this.headsUsed++;
    } else ints[o + HEAD] = -1;
    if (p.ipv6) {
      this.area.set(p.data.subarray(p.srcAddrOffset, p.srcAddrOffset + 16), this.used);
      this.area.set(p.data.subarray(p.dstAddrOffset, p.dstAddrOffset + 16), this.used + 16);
      this.used += 32;
    }
    if (p.capturedPayloadLength > 0) {
      this.area.set(p.data.subarray(p.payloadOffset, p.payloadOffset + p.capturedPayloadLength), this.used);
      this.used += p.capturedPayloadLength;
    }
  }

  addInterface(iface: CaptureInterface): void {
    const i = this.count++;
    this.ints[i * FIELDS + K] = KIND_INTERFACE;
    this.ints[i * FIELDS + IFID] = this.interfaces.length;
    this.interfaces.push(iface);
  }
}

/** What a batch's records are, in order: packets (into a reused FlowPacket) and interface blocks. */
export interface BatchSink {
  addFlowPacket(p: FlowPacket): void;
  addInterface(iface: CaptureInterface): void;
}

/** Hands the records of a batch from record `from` on to `sink` (in the analysing thread). */
export function readBatch(buffers: BatchBuffers, count: number, interfaces: CaptureInterface[], p: FlowPacket, sink: BatchSink, from = 0): void {
  const ts = new Float64Array(buffers.records, 0, BATCH_RECORDS);
  const ints = new Int32Array(buffers.records, TIMES_BYTES, BATCH_RECORDS * FIELDS);
  const heads = new Float64Array(buffers.records, TIMES_BYTES + FIELDS_BYTES, BATCH_HEADS * HEAD_LAYOUT_SLOTS);
  const area = new Uint8Array(buffers.bytes);
  p.data = area;
  for (let i = from, o = from * FIELDS; i < count; i++, o += FIELDS) {
    const kind = ints[o + K];
    if (kind === KIND_INTERFACE) { sink.addInterface(interfaces[ints[o + IFID]]); continue; }
    p.tsUs = ts[i];
    p.interfaceId = ints[o + IFID];
    p.sll2Ifindex = ints[o + IFINDEX];
    const bits = ints[o + BITS];
    p.dirCode = bits & 7;
    p.anyLink = (bits & 8) !== 0;
    p.tcp = kind === KIND_TCP;
    if (p.tcp) {
      p.ipv6 = (bits & 16) !== 0;
      p.payloadHashed = (bits & 32) !== 0;
      p.ipId = ints[o + IPID];
      // IPv4 addresses are unsigned, as the decoder gives them; IPv6 hashes signed.
      p.src = p.ipv6 ? ints[o + SRC] : ints[o + SRC] >>> 0;
      p.dst = p.ipv6 ? ints[o + DST] : ints[o + DST] >>> 0;
      p.srcPort = ints[o + SPORT];
      p.dstPort = ints[o + DPORT];
      p.seq = ints[o + SEQ] >>> 0;
      p.ack = ints[o + ACK] >>> 0;
      p.flags = ints[o + FLAGS];
      p.window = ints[o + WIN];
      p.payloadLength = ints[o + PLEN];
      p.capturedPayloadLength = ints[o + CLEN];
      p.payloadHash = ints[o + HASH];
      let at = ints[o + BOFF];
      if (p.ipv6) { p.srcAddrOffset = at; p.dstAddrOffset = at + 16; at += 32; }
      p.payloadOffset = at;
      const head = ints[o + HEAD];
      p.headLayout = head < 0 ? null : heads;
      p.headBase = head < 0 ? 0 : head * HEAD_LAYOUT_SLOTS;
    }
    sink.addFlowPacket(p);
  }
}

/** An error of the reading worker, as it crosses to the analysing thread (errors.ts classes are rebuilt from it). */
export interface SerializedError {
  kind: 'capture-format' | 'input' | 'flowtrace' | 'other';
  code: string;
  message: string;
  hint: string;
  exitCode: number;
  facts: Record<string, unknown>;
}

export function serializeError(err: unknown): SerializedError {
  const kind = err instanceof CaptureFormatError ? 'capture-format' : err instanceof InputError ? 'input' : err instanceof FlowtraceError ? 'flowtrace' : 'other';
  if (err instanceof FlowtraceError) return { kind, code: err.code, message: err.message, hint: err.hint, exitCode: err.exitCode, facts: err.facts };
  return { kind, code: '', message: err instanceof Error ? err.message : String(err), hint: '', exitCode: 1, facts: {} };
}

export function reviveError(e: SerializedError): Error {
  switch (e.kind) {
    case 'capture-format': return new CaptureFormatError(e.message, e.facts, e.hint);
    case 'input': return new InputError(e.message, e.hint, e.facts);
    case 'flowtrace': return new FlowtraceError(e.code, e.message, e.hint, e.exitCode, e.facts);
    default: return new Error(e.message);
  }
}
