/**
 * Writing a live capture as pcapng: one Interface Description Block per real interface seen
 * (if_name = the interface's name in the capture's namespace), packets in time order as
 * Enhanced Packet Blocks with epb_flags direction and flowtrace's notes as opt_comment.
 *
 * Link type: every IDB keeps LINUX_SLL2. The SLL2 header is what carries the direction and
 * the interface index of each packet; stripping it to Ethernet would lose the destination
 * MAC (SLL2 keeps only the source address) and would make the file disagree with what
 * tcpdump -i any wrote. tshark/Wireshark show `frame.interface_name` from the IDB's if_name.
 *
 * pcapng: https://datatracker.ietf.org/doc/draft-ietf-opsawg-pcapng/
 */
import { TCPDUMP_DEFAULTS } from './tcpdump.js';
import type { LivePacket } from './session.js';

const BT_SHB = 0x0a0d0d0a;
const BT_IDB = 0x00000001;
const BT_EPB = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const OPT_COMMENT = 1;
const SHB_USERAPPL = 4;
const IF_NAME = 2;
const IF_TSRESOL = 9;
const EPB_FLAGS = 2;
/** epb_flags direction bits (0-1): 01 inbound, 10 outbound. */
const EPB_INBOUND = 1;
const EPB_OUTBOUND = 2;

class Blocks {
  private readonly parts: Buffer[] = [];
  size = 0;

  private static options(opts: Array<[number, Buffer]>): Buffer {
    if (opts.length === 0) return Buffer.alloc(0);
    const bufs: Buffer[] = [];
    for (const [code, value] of opts) {
      const head = Buffer.alloc(4);
      head.writeUInt16LE(code, 0);
      head.writeUInt16LE(value.length, 2);
      bufs.push(head, value, Buffer.alloc((4 - (value.length % 4)) % 4));
    }
    bufs.push(Buffer.alloc(4)); // opt_endofopt
    return Buffer.concat(bufs);
  }

  block(type: number, body: Buffer, opts: Array<[number, Buffer]>): void {
    const o = Blocks.options(opts);
    const pad = (4 - (body.length % 4)) % 4;
    const total = 12 + body.length + pad + o.length;
    const head = Buffer.alloc(8);
    head.writeUInt32LE(type, 0);
    head.writeUInt32LE(total, 4);
    const tail = Buffer.alloc(4);
    tail.writeUInt32LE(total, 0);
    this.parts.push(head, body, Buffer.alloc(pad), o, tail);
    this.size += total;
  }

  bytes(): Uint8Array { return Buffer.concat(this.parts, this.size); }
}

/**
 * The pcapng bytes of kept live packets. `comments` maps packet index → comment.
 * `maskSecrets` masks Authorization/Cookie values in the copies written (the agent's
 * default); the packets passed in are not changed.
 */
export function livePcapngBytes(
  packets: readonly LivePacket[],
  ifmap: Map<number, string>,
  comments: Map<number, string>,
  options: { maskSecrets: boolean; mask?: (bytes: Uint8Array) => number; application?: string },
): { bytes: Uint8Array; masked: number } {
  const w = new Blocks();
  const shb = Buffer.alloc(16);
  shb.writeUInt32LE(BYTE_ORDER_MAGIC, 0);
  shb.writeUInt16LE(1, 4);
  shb.writeUInt16LE(0, 6);
  shb.writeInt32LE(-1, 8); // section length unknown
  shb.writeInt32LE(-1, 12);
  w.block(BT_SHB, shb, [[SHB_USERAPPL, Buffer.from(options.application ?? 'flowtrace')]]);

  // One IDB per interface seen, in order of first appearance.
  const idOf = new Map<string, number>();
  const sorted = [...packets].sort((a, b) => a.tsSec - b.tsSec || a.tsNsec - b.tsNsec || a.index - b.index);
  for (const p of sorted) {
    const key = p.ifindex >= 0 ? `i${p.ifindex}` : `l${p.linkType}`;
    if (idOf.has(key)) continue;
    idOf.set(key, idOf.size);
    const idb = Buffer.alloc(8);
    idb.writeUInt16LE(p.linkType, 0);
    idb.writeUInt32LE(TCPDUMP_DEFAULTS.snaplenBytes, 4);
    const name = p.interfaceName ?? (p.ifindex >= 0 ? ifmap.get(p.ifindex) ?? `ifindex${p.ifindex}` : 'any');
    w.block(BT_IDB, idb, [[IF_NAME, Buffer.from(name)], [IF_TSRESOL, Buffer.from([9])]]);
  }
  let masked = 0;
  for (const p of sorted) {
    const id = idOf.get(p.ifindex >= 0 ? `i${p.ifindex}` : `l${p.linkType}`) as number;
    let data = p.data;
    if (options.maskSecrets && options.mask) {
      data = Buffer.from(p.data); // a copy: the kept packet stays as captured
      masked += options.mask(data);
    }
    const body = Buffer.alloc(20 + data.length);
    body.writeUInt32LE(id, 0);
    const ns = BigInt(p.tsSec) * 1_000_000_000n + BigInt(p.tsNsec);
    body.writeUInt32LE(Number(ns >> 32n), 4);
    body.writeUInt32LE(Number(ns & 0xffffffffn), 8);
    body.writeUInt32LE(data.length, 12);
    body.writeUInt32LE(p.originalLength, 16);
    body.set(data, 20);
    const opts: Array<[number, Buffer]> = [];
    const comment = comments.get(p.index);
    if (comment) opts.push([OPT_COMMENT, Buffer.from(comment)]);
    const dir = p.direction === 'in' ? EPB_INBOUND : p.direction === 'out' ? EPB_OUTBOUND : 0;
    if (dir !== 0) { const f = Buffer.alloc(4); f.writeUInt32LE(dir, 0); opts.push([EPB_FLAGS, f]); }
    w.block(BT_EPB, body, opts);
  }
  return { bytes: w.bytes(), masked };
}
