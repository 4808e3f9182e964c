/**
 * Every table of the flow engine has a bound, and each bound comes from one number: the
 * memory the analysis may use (`FlowOptions.maxMemoryMB`, `analyze --max-memory`). What a
 * bound pushes out is counted (`FlowAnalysis.limits.tables`) and said.
 *
 * How the bounds derive from M megabytes (docs/analyze.md, "Bounds"):
 *   state = (M − BASE_MB) / GC_HEADROOM   — what is left for the engine's live state, once
 *           Node itself, the reader's buffers, the tombstones and the kept summaries (at the
 *           default --max-kept) are paid for, with room for the garbage collector (V8 lets the
 *           heap grow to 1.5× what survived: analyze sets --heap-growing-percent=50);
 *   then each table gets a share of `state`, divided by what one of its items costs
 *   (measured with `node --expose-gc`, heap used per item: test/hostile/bounds.test.ts).
 */

/** The default and the floor of maxMemoryMB. */
export const DEFAULT_MAX_MEMORY_MB = 150;
export const MIN_MAX_MEMORY_MB = 120;
/** Node, the code, the reader's buffers, the tombstones and 2000 kept summaries of each kind. */
const BASE_MB = 75;
const GC_HEADROOM = 1.6;

/** Bytes per item, measured (heap used per item on a warm heap). */
export const ITEM_BYTES = {
  /** An open connection with its trackers, legs and retained SYN; HTTP parts are made on first data. */
  connection: 1600,
  /** A live packet in the stitch window (object, hop list, ring and table slots). */
  stitchPacket: 220,
  /** An exchange held on its connection until summarised: builder, two messages, head strings. */
  heldExchange: 900,
  /** A logged packet (FlowOptions.packetLog). */
  loggedPacket: 120,
} as const;

/** Shares of the state budget (they add up to 1). */
const SHARE = {
  connections: 0.5,
  stitchPackets: 0.1,
  heldExchanges: 0.15,
  heldBackBytes: 0.1,
  headBytes: 0.05,
  loggedPackets: 0.1,
} as const;

export interface FlowBounds {
  /** The memory these bounds were derived from. */
  maxMemoryMB: number;
  /** Connections tracked at once (every state); past it the least recently active one is summarised early (`evicted`). */
  openConnections: number;
  /**
   * Of them, half-open ones (SYN seen, handshake not completed); past it the least recently
   * active half-open one is forgotten: counted, and its SYN goes into the flood finding.
   */
  halfOpenConnections: number;
  /** Packets in the stitch window; past it the oldest leaves the window early (its later copies count as packets of their own). */
  stitchPackets: number;
  /** Exchanges held on their connections until summarised; past it a connection's oldest settled exchange is summarised early. */
  heldExchanges: number;
  /** Out-of-order bytes held back for the HTTP parsers, all connections together; past it a stream gives up waiting for its gap. */
  heldBackBytes: number;
  /** Bytes of HTTP heads spread over several segments, all streams together; past it a stream gives up that head. */
  headBytes: number;
  /** Packets in the packet logs of open connections (FlowOptions.packetLog); past it connections log no more. */
  loggedPackets: number;
}

/** The view of one NAT'ed connection kept at most (a copy with yet another address is not tracked as a leg). */
export const MAX_LEGS_PER_CONNECTION = 8;

/** The bounds for `maxMemoryMB` megabytes (at least MIN_MAX_MEMORY_MB). */
export function flowBounds(maxMemoryMB: number = DEFAULT_MAX_MEMORY_MB): FlowBounds {
  const mb = Math.max(MIN_MAX_MEMORY_MB, maxMemoryMB);
  const state = ((mb - BASE_MB) * 1024 * 1024) / GC_HEADROOM;
  const connections = Math.floor((state * SHARE.connections) / ITEM_BYTES.connection);
  return {
    maxMemoryMB: mb,
    openConnections: connections,
    halfOpenConnections: Math.floor(connections / 2),
    // A power of two: the stitcher's ring and table double up to it.
    stitchPackets: 2 ** Math.floor(Math.log2((state * SHARE.stitchPackets) / ITEM_BYTES.stitchPacket)),
    heldExchanges: Math.floor((state * SHARE.heldExchanges) / ITEM_BYTES.heldExchange),
    heldBackBytes: Math.floor(state * SHARE.heldBackBytes),
    headBytes: Math.floor(state * SHARE.headBytes),
    loggedPackets: Math.floor((state * SHARE.loggedPackets) / ITEM_BYTES.loggedPacket),
  };
}

/** Shared by every connection of one analysis: what the global bounds have in use, and what they pushed out. */
export class SharedBudget {
  heldBackBytes = 0;
  headBytes = 0;
  heldExchanges = 0;
  loggedPackets = 0;
  /** The most each held at once. */
  heldBackPeak = 0;
  headPeak = 0;
  heldExchangesPeak = 0;
  loggedPeak = 0;
  /** Gaps given up because the held-back bytes were at their bound. */
  heldBackGivenUp = 0;
  /** Heads given up because the head bytes were at their bound. */
  headsGivenUp = 0;
  /** Exchanges summarised before their connection ended (its held exchanges were at their bound). */
  exchangesSummarisedEarly = 0;
  /** Packets not logged because the logs were at their bound (beyond FlowOptions.packetLog per connection). */
  packetsNotLogged = 0;
  constructor(readonly bounds: FlowBounds) {}
}
