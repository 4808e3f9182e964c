/**
 * The packets a live capture keeps in memory (for -w and the analysis), bounded by what
 * they really cost: their bytes plus a fixed overhead per packet.
 *
 * Bytes are copied into 1 MiB slabs and each packet's `data` is a view into its slab: a copy
 * per packet (`new Uint8Array`, or a Buffer's backing store) costs an ArrayBuffer and a
 * malloc'd store each — ~290 B of heap and more RSS per packet — and a view into the
 * engine's pipe chunk (what Buffer#slice returns) would keep the whole chunk alive.
 */
import type { PacketRecord } from '../types.js';
import type { LiveDirection, LivePacket } from './session.js';

/**
 * What one kept packet costs besides its bytes, in bytes: the LivePacket object, its
 * Uint8Array view and its slot in the array. Measured with Node 20 (V8 11.3, x64,
 * `--expose-gc`, 200 000 packets kept this way, heapUsed + arrayBuffers after gc(), minus
 * the packet bytes): 204–207 B per packet for 40 to 1500-byte packets. Rounded up to leave
 * room for the slabs' unused tails (< 0.2 % at snaplen 1600) and the array's growth.
 */
export const KEPT_PACKET_OVERHEAD_BYTES = 256;

/** Size of one slab of packet bytes; a longer packet gets its own copy. */
const SLAB_BYTES = 1024 * 1024;

export interface KeptWhere { ifindex: number; interfaceName: string | null; direction: LiveDirection }

export class KeptPackets {
  readonly packets: LivePacket[] = [];
  /** Bytes + KEPT_PACKET_OVERHEAD_BYTES per packet, of the packets kept so far. */
  costBytes = 0;
  /** True once a packet did not fit: nothing more is kept (the first packets are what -w holds). */
  full = false;
  private slab: Uint8Array | null = null;
  private slabUsed = 0;

  constructor(readonly budgetBytes: number) {}

  /** Keeps a copy of the packet, or returns false (and keeps nothing more) past the budget. */
  keep(record: PacketRecord, index: number, where: KeptWhere): boolean {
    if (this.full) return false;
    const length = record.capturedLength;
    const cost = length + KEPT_PACKET_OVERHEAD_BYTES;
    if (this.costBytes + cost > this.budgetBytes) { this.full = true; return false; }
    this.costBytes += cost;
    this.packets.push({
      index, tsSec: record.tsSec, tsNsec: record.tsNsec, linkType: record.linkType,
      originalLength: record.originalLength, data: this.copy(record.data, length), ifindex: where.ifindex,
      interfaceName: where.interfaceName, direction: where.direction,
    });
    return true;
  }

  private copy(bytes: Uint8Array, length: number): Uint8Array {
    if (length > SLAB_BYTES / 4) return new Uint8Array(bytes.subarray(0, length));
    if (this.slab === null || this.slabUsed + length > SLAB_BYTES) {
      this.slab = new Uint8Array(SLAB_BYTES);
      this.slabUsed = 0;
    }
    const at = this.slabUsed;
    this.slab.set(bytes.subarray(0, length), at);
    this.slabUsed += length;
    return this.slab.subarray(at, at + length);
  }
}
