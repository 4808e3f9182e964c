/**
 * The contract between capture readers/writers and everything that consumes packets.
 *
 * pcap:   https://www.tcpdump.org/manpages/pcap-savefile.5.txt
 * pcapng: https://datatracker.ietf.org/doc/draft-ietf-opsawg-pcapng/
 * link types: https://www.tcpdump.org/linktypes.html
 */

/** LINKTYPE_* values flowtrace understands (https://www.tcpdump.org/linktypes.html). */
export const LINKTYPE = {
  NULL: 0,
  ETHERNET: 1,
  RAW: 101,
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

/** One capture interface: a pcapng Interface Description Block, or the single pcap "interface". */
export interface CaptureInterface {
  /** Index of the interface in its section (pcapng IDB order); 0 for pcap. */
  id: number;
  linkType: number;
  /** `if_name` option, or a name learned elsewhere (SLL2 index + ifmap); null when unknown. */
  name: string | null;
  description: string | null;
  snaplenBytes: number;
  /** Timestamp units per second (pcap: 1e6 or 1e9; pcapng: from if_tsresol, default 1e6). */
  tsUnitsPerSecond: number;
  /** Bytes of FCS at the end of every frame (pcap link-type FCS bits, pcapng if_fcslen); null/absent when not said. */
  fcsLengthBytes?: number | null;
}

/**
 * One captured packet as handed to a consumer.
 *
 * The object and `data` are reused by the reader: they are valid only until the callback
 * that received them returns. Copy what must outlive it.
 */
export interface PacketRecord {
  /** Sequence number of the packet in the input, starting at 1 (tcpdump's `-#`). */
  index: number;
  interfaceId: number;
  linkType: number;
  /** Whole seconds since the Unix epoch. */
  tsSec: number;
  /** Nanoseconds within the second, 0 … 999 999 999. */
  tsNsec: number;
  capturedLength: number;
  originalLength: number;
  /** The captured bytes (a view into the reader's buffer). */
  data: Uint8Array;
  /**
   * Set by the file reader: the captured bytes are `buffer[offset, offset + capturedLength)`.
   * A consumer on the hot path decodes from there (`decoder.decodeAt`), so that no `data`
   * view is made for the packet (the reader makes it only when `data` is read).
   */
  buffer?: Uint8Array;
  offset?: number;
  /** pcapng opt_comment of the packet, if any. */
  comment: string | null;
  /** pcapng epb_flags direction (1 inbound, 2 outbound), 0 when not given. */
  epbDirection: number;
  /**
   * pcap only: the record's sub-second field as written when it is out of range (≥ 10^6 µs
   * or ≥ 10^9 ns, in the unit of the interface's tsUnitsPerSecond), else null/absent. tcpdump
   * prints such a time as `17:16:10.1000000 (invalid us)`; tsSec is then the file's seconds
   * and tsNsec 999 999 999.
   */
  tsInvalidFraction?: number | null;
}

/** pcapng Interface Statistics Block, decoded. */
export interface InterfaceStatistics {
  interfaceId: number;
  tsSec: number;
  tsNsec: number;
  receivedPackets: number | null;
  droppedByInterface: number | null;
  droppedByOs: number | null;
  deliveredToUser: number | null;
}

/** What a reader reports besides packets. */
export interface CaptureEvents {
  onPacket(packet: PacketRecord): void;
  onInterface?(iface: CaptureInterface): void;
  onStatistics?(stats: InterfaceStatistics): void;
  /** A new pcapng section started: interfaces seen so far are forgotten. */
  onSection?(sectionIndex: number, comment: string | null): void;
  /** File-level comments (pcapng shb_comment) and non-fatal oddities. */
  onWarning?(message: string): void;
}

/** What tcpdump text read as a capture gave, and what it could not carry (capture/text/). */
export interface TextCaptureSummary {
  lines: number;
  /** Lines that start a packet (a time, an interface, a protocol). */
  packetLines: number;
  /** TCP packets turned into records. */
  tcpPackets: number;
  /** Packet lines of other protocols, by kind (`arp`, `icmp`, `udp`, …): read, not turned into records. */
  otherPackets: Record<string, number>;
  /** Lines that are no part of tcpdump's output, and the first few of them (line from 1, text). */
  linesNotRead: number;
  notRead: Array<{ line: number; text: string }>;
  /** How the times were written (null: no times, tcpdump -t). */
  timestamps: 'time-of-day' | 'date-time' | 'epoch' | 'none' | null;
  /** How each TCP payload was known: every byte (hex), its text lines (-v, -A), only an HTTP first line, nothing. */
  payload: { exact: number; text: number; firstLine: number; none: number };
  /**
   * `relative`: tcpdump printed them relative and they were made absolute again; `absolute`:
   * printed absolute (-S, or hex); `excerpt`: some connections start mid-text, their numbers
   * are relative to their first packet here.
   */
  sequenceNumbers: 'relative' | 'absolute' | 'excerpt';
  /** tcpdump's own counts at the end of its output, when the text has them. */
  captured: number | null;
  droppedByKernel: number | null;
  /** What the text could not carry, one line each (also given to onWarning). */
  notes: string[];
}

/** What a finished read reports. */
export interface ReadSummary {
  /** `tcpdump-text`: the input was tcpdump's printed output, read as a capture (see `text`). */
  format: 'pcap' | 'pcapng' | 'tcpdump-text';
  packets: number;
  bytes: number;
  /** The interfaces described, at most MAX_DESCRIBED_INTERFACES (4096) per section and in all. */
  interfaces: CaptureInterface[];
  /** pcapng interface blocks past that bound: read (their packets too), not described nor listed. */
  interfacesNotDescribed: number;
  /** Set when the input ended inside a record: the packets before it were delivered. */
  truncated: { atByte: number; message: string } | null;
  /** For tcpdump text: what was read and what it could not carry. */
  text?: TextCaptureSummary;
}
