/**
 * Every default of the trace layer, in one place (trippy's `config/constants.rs`).
 */
import type { TraceProtocol } from './types.js';

export const DEFAULT_PROTOCOL: TraceProtocol = 'udp';
/** traceroute's base UDP port; Paris traceroute keeps it constant for the whole trace. */
export const DEFAULT_UDP_PORT = 33434;
/** TCP SYN probes go to the service port; 80 when none is given. */
export const DEFAULT_TCP_PORT = 80;
export const DEFAULT_FIRST_TTL = 1;
/** traceroute's and mtr's default. */
export const DEFAULT_MAX_TTL = 30;
export const MAX_TTL_LIMIT = 64;
/** traceroute's 3 queries per hop. */
export const DEFAULT_ROUNDS = 3;
export const MAX_ROUNDS = 100;
/** Longest wait for a reply: 2 s (traceroute: 5 s; `--timeout` changes it). */
export const DEFAULT_TIMEOUT_MS = 2000;
/**
 * Once a nearer hop has answered, a probe further out is given up after NEAR_FACTOR times
 * that hop's slowest RTT, but never sooner than ADAPTIVE_MIN_WAIT_MS (traceroute's
 * `-w MAX,HERE,NEAR` idea). Silent hops then cost ~0.5 s, not the full timeout.
 */
export const NEAR_FACTOR = 10;
export const ADAPTIVE_MIN_WAIT_MS = 500;
/**
 * The silent horizon (mtr's `--max-unknown`, default 5; trippy's `max_inflight`): after the
 * first round, TTLs more than this many hops past the highest TTL that answered are not
 * probed again. Round 0 still probes every TTL, so a path that goes on is seen at once.
 */
export const SILENT_HORIZON_HOPS = 5;
/**
 * A TTL past the last answering one (but within the silent horizon) is probed again once its
 * previous probe has gone unanswered for NEAR_FACTOR × the slowest RTT below it, at least
 * REPROBE_MIN_INTERVAL_MS — instead of at the next round's start. No router there answers,
 * so there is no ICMP rate limit to spare; the rounds of a black hole overlap instead of
 * queueing one behind the other.
 */
export const REPROBE_MIN_INTERVAL_MS = 50;
/**
 * How many addresses of one name are traced at the same time. Two traces × 3 rounds give a
 * router they share 6 probes, Linux's ICMP burst per peer (XRLIM_BURST_FACTOR); more at once
 * would make shared routers look lossy.
 */
export const MAX_PARALLEL_ADDRESSES = 2;
/** Pause between two probes: all TTLs go out in parallel, paced so no queue overflows. */
export const DEFAULT_PROBE_INTERVAL_MS = 2;
/**
 * Pause between the starts of two rounds. Routers rate-limit ICMP errors (Linux: a burst of
 * ~6, then 1/s per peer); rounds spaced by 200 ms stay inside the burst for a few rounds.
 */
export const DEFAULT_ROUND_INTERVAL_MS = 200;
/** Upper bound of probes in one trace, so 16-bit sequences never wrap within a trace. */
export const MAX_PROBES = MAX_ROUNDS * MAX_TTL_LIMIT;
/** Bytes of payload after the transport header (2 of them adjust the checksum: Paris). */
export const PROBE_PAYLOAD_BYTES = 12;
/** The constant ICMP echo checksum of Paris traceroute (any value: only constancy matters). */
export const PARIS_ICMP_CHECKSUM = 0x5a5a;
/** TCP SYN window advertised by probes. */
export const TCP_PROBE_WINDOW = 64240;
/** Raw socket receive buffer (bytes): replies from many hops arrive in bursts. */
export const RECEIVE_BUFFER_BYTES = 1 << 20;

/**
 * Path MTU (`--mtu`, mtu.ts). Sizes tried per batch when searching a black hole: with the
 * control probe that is 5 ICMP errors, inside Linux's burst of 6 per peer.
 */
export const MTU_SEARCH_SIZES_PER_STEP = 4;
/** Sizes a black-hole search tries first: PPPoE, VXLAN overlays, a common tunnel clamp, IPv6's minimum. */
export const MTU_FIRST_GUESSES: readonly number[] = [1492, 1450, 1400, 1280];
/** Once the control probe (sent last) is answered, larger probes still out are given this long, or NEAR_FACTOR × its RTT. */
export const MTU_GRACE_MIN_MS = 100;
/** After a batch whose control went unanswered, per probe a peer must answer next: Linux refills one ICMP error per second per peer. */
export const MTU_RATE_LIMIT_PAUSE_MS = 1000;
/** Batches in a row whose control goes unanswered before the search gives up (inconclusive). */
export const MTU_MAX_VOID_BATCHES = 3;
/** Upper bound of size probes per address (their sequences follow the trace's). */
export const MTU_MAX_PROBES = 512;

