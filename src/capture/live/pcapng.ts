/**
 * Writing a live capture as pcapng (with engineer A's PcapngWriter): one Interface
 * Description Block per real interface seen (if_name = its name in the capture's
 * namespace), packets in time order as Enhanced Packet Blocks with epb_flags direction and
 * flowtrace's notes as opt_comment.
 *
 * Link type: every IDB keeps LINUX_SLL2. The SLL2 header is what carries the direction and
 * interface index of each packet; stripping it to Ethernet would lose the destination MAC
 * (SLL2 keeps only the source address) and make the file disagree with what tcpdump -i any
 * wrote. tshark/Wireshark show `frame.interface_name` from the IDB's if_name and
 * `frame.packet_flags_direction` from epb_flags.
 */
import { PcapngWriter } from '../writer.js';
import { TCPDUMP_DEFAULTS } from './tcpdump.js';
import type { LivePacket } from './session.js';

/** epb_flags direction bits (pcapng: 01 inbound, 10 outbound). */
const EPB_INBOUND = 1;
const EPB_OUTBOUND = 2;

/**
 * The pcapng bytes of kept live packets. `comments` maps packet index → comment.
 * With `maskSecrets`, `mask` is run on a copy of each packet's bytes with its link type (the
 * agent masks Authorization/Cookie values); the packets passed in are not changed.
 */
export function livePcapngBytes(
  packets: readonly LivePacket[],
  ifmap: Map<number, string>,
  comments: Map<number, string>,
  options: { maskSecrets: boolean; mask?: (bytes: Uint8Array, linkType: number) => number; comment?: string | null },
): { bytes: Uint8Array; masked: number } {
  const writer = new PcapngWriter({ application: 'flowtrace', comment: options.comment ?? null });
  const sorted = [...packets].sort((a, b) => a.tsSec - b.tsSec || a.tsNsec - b.tsNsec || a.index - b.index);
  const idOf = new Map<string, number>();
  const keyOf = (p: LivePacket): string => (p.ifindex >= 0 ? `i${p.ifindex}` : `l${p.linkType}`);
  let masked = 0;
  for (const p of sorted) {
    const key = keyOf(p);
    let id = idOf.get(key);
    if (id === undefined) {
      const name = p.interfaceName ?? (p.ifindex >= 0 ? ifmap.get(p.ifindex) ?? `ifindex${p.ifindex}` : 'any');
      id = writer.addInterface({ name, linkType: p.linkType, snaplenBytes: TCPDUMP_DEFAULTS.snaplenBytes });
      idOf.set(key, id);
    }
    let data = p.data;
    if (options.maskSecrets && options.mask) {
      data = Uint8Array.from(p.data); // a copy: the kept packet stays as captured
      masked += options.mask(data, p.linkType);
    }
    writer.writePacket({
      interfaceId: id, tsSec: p.tsSec, tsNsec: p.tsNsec, data, originalLength: p.originalLength,
      comment: comments.get(p.index) ?? null,
      epbDirection: p.direction === 'in' ? EPB_INBOUND : p.direction === 'out' ? EPB_OUTBOUND : 0,
    });
  }
  return { bytes: writer.bytes(), masked };
}
