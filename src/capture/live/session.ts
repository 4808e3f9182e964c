/**
 * A live capture: the engine's pcap stream parsed as it arrives, packets tagged with the
 * interface name and direction of the capture's namespace, limits (count, duration, bytes),
 * a clean stop, tcpdump's kernel counters, and the veth → container attribution.
 *
 * Lifecycle (a discriminated union in `state`):
 *   1. starting  → listening  when the engine says "listening on …"
 *   2. starting  → failed     when the engine exits first (its error is thrown by startCapture)
 *   3. listening → stopping   on stop(), a limit, or the AbortSignal
 *   4. listening → stopping   when the engine exits by itself (interface gone…)
 *   5. stopping  → stopped    when the engine has exited and the parser has seen the end
 */
import { CaptureParser } from '../parser.js';
import { LINKTYPE, type PacketRecord, type ReadSummary } from '../types.js';
import { CaptureError, PrivilegeError } from '../../errors.js';
import { tcpdumpEngine, TCPDUMP_DEFAULTS, type CaptureEngine, type EngineProcess, type KernelStats } from './tcpdump.js';
import { followNatInFilter, parseDnatRules, readNatRules, type PortTranslation } from './nat.js';
import { readLinks, ifmapOf, type LinkInfo } from './interfaces.js';
import { attributeVeths, type NamespaceSource, type VethAttribution } from './attribution.js';
import { requireCaptureTools, systemRunner, type ProcessRunner } from './programs.js';
import { KeptPackets, KEPT_PACKET_OVERHEAD_BYTES } from './kept.js';

/** Defaults and hard caps of a live capture. */
export const LIVE_DEFAULTS = {
  /**
   * Memory budget of the packets kept for -w and the analysis (a ring would lose the start):
   * their bytes plus KEPT_PACKET_OVERHEAD_BYTES each (./kept.ts), so small packets count
   * what they really cost (1 M 60-byte packets: ~300 MiB, not 60 MiB).
   */
  maxKeptBytes: 256 * 1024 * 1024,
  /**
   * On stop, tcpdump is signalled only once no packet arrived for this long: SIGINT ends
   * tcpdump's loop at once, and packets still in the kernel ring would be lost (seen here:
   * "10 received by filter, 0 captured" when stopping right after the traffic).
   */
  stopQuietMs: 150,
  /** …but never wait longer than this for the line to go quiet. */
  stopDrainMaxMs: 1000,
  /** tcpdump's own lifetime cap is the duration bound plus this (see EngineSpec.lifetimeCapSec). */
  lifetimeGraceSec: 15,
} as const;

// LINUX_SLL2 header (https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL2.html).
const SLL2_IFINDEX_OFFSET = 4;
const SLL2_PKTTYPE_OFFSET = 10;
const SLL2_HEADER_LENGTH = 20;

export type LiveDirection = 'in' | 'out' | 'broadcast' | 'multicast' | 'otherhost' | 'unknown';
const PKTTYPE_DIRECTION: LiveDirection[] = ['in', 'broadcast', 'multicast', 'otherhost', 'out'];

/** A packet kept by the capture: its own copy of the bytes, with where it was seen. */
export interface LivePacket {
  /** 1-based, in capture order. */
  index: number;
  tsSec: number;
  tsNsec: number;
  linkType: number;
  originalLength: number;
  data: Uint8Array;
  /** SLL2 interface index, -1 when the link type has none. */
  ifindex: number;
  interfaceName: string | null;
  direction: LiveDirection;
}

export interface LiveCaptureOptions {
  /** Interface names; ['any'] (the default) captures every interface of the namespace. */
  interfaces?: string[];
  /** pcap-filter expression ('' or absent: everything). */
  filter?: string;
  /** Widen `port N` to the ports Docker's DNAT translates N to (default true). */
  followNat?: boolean;
  /** Capture inside this named network namespace (`ip netns exec`); null/absent: here. */
  netns?: string | null;
  /** Stop after this many packets. */
  maxPackets?: number | null;
  /** Stop after this long. */
  maxDurationMs?: number | null;
  /** Stop when this many captured bytes were seen (the agent's size bound). */
  maxCapturedBytes?: number | null;
  /** Keep packets in memory (for -w and the analysis); bounded by `maxKeptBytes`. */
  keepPackets?: boolean;
  /** Budget of kept packets: bytes + KEPT_PACKET_OVERHEAD_BYTES per packet (default LIVE_DEFAULTS). */
  maxKeptBytes?: number;
  /**
   * Deliver each packet as soon as tcpdump sees it (tcpdump -U). Default: true when
   * `onPacket` is given. Without it packets arrive in batches (and all of them on stop),
   * which costs far less under load.
   */
  live?: boolean;
  /** Called for every packet as it arrives (the record is reused: copy what you keep). */
  onPacket?: (record: PacketRecord, where: { ifindex: number; interfaceName: string | null; direction: LiveDirection }) => void;
  /**
   * Called after each chunk of the engine's stream is parsed: a promise returned holds the
   * reading back until it resolves (a slow reader of printed lines, `| less`), so lines do
   * not queue in memory. Packets then wait in the pipe, tcpdump and the kernel ring (and are
   * dropped by the kernel if it fills, which the result's warnings say). Not waited for once
   * the capture is stopping: the stop must not hang on a reader that never reads.
   */
  pace?: () => Promise<void> | void;
  /** Look up containers behind veths (default true). */
  attribute?: boolean;
  /** Where the containers are looked up (default: this machine's /proc and /run/netns; a server's: `commandNamespaceSource`). */
  namespaceSource?: NamespaceSource;
  dockerSocket?: string;
  signal?: AbortSignal;
  snaplenBytes?: number;
  bufferKiB?: number;
  /** Seams for tests: a scripted engine, the links and the nat table text, how programs run. */
  engine?: CaptureEngine;
  runner?: ProcessRunner;
  links?: LinkInfo[];
  natRulesText?: string;
}

export type StopReason = 'stop' | 'count' | 'duration' | 'bytes' | 'signal' | 'engine-exit';

export interface LiveCaptureResult {
  packets: LivePacket[];
  /** Packets and bytes delivered by the engine (also those not kept). */
  packetCount: number;
  capturedBytes: number;
  /** Bytes + per-packet overhead of the packets kept (what `maxKeptBytes` bounds). */
  keptCostBytes: number;
  /** True when packets were not kept any more because of `maxKeptBytes`. */
  keptTruncated: boolean;
  stoppedBy: StopReason;
  /** tcpdump's own counters: captured / received by filter / dropped by kernel. */
  kernel: KernelStats | null;
  summary: ReadSummary | null;
  warnings: string[];
  durationMs: number;
}

export type LiveState =
  | { kind: 'starting' }
  | { kind: 'listening'; sinceMs: number }
  | { kind: 'stopping'; reason: StopReason }
  | { kind: 'stopped'; result: LiveCaptureResult };

export interface LiveCapture {
  readonly pid: number | null;
  readonly argv: readonly string[];
  /** The filter as asked, and as given to tcpdump (NAT followed, interfaces restricted). */
  readonly requestedFilter: string;
  readonly effectiveFilter: string;
  readonly natTranslations: PortTranslation[];
  /** Lines worth telling the user at start ("following NAT: …", problems reading rules). */
  readonly notes: string[];
  readonly links: LinkInfo[];
  readonly ifmap: Map<number, string>;
  readonly veths: VethAttribution[];
  readonly state: LiveState;
  /** Stops (idempotent) and resolves with the result once tcpdump has flushed and exited. */
  stop(): Promise<LiveCaptureResult>;
  /** Resolves when the capture ends for any reason. */
  readonly done: Promise<LiveCaptureResult>;
}

/** The namespace file of where the capture runs (for attribution). */
function namespacePath(netns: string | null): string {
  return netns === null ? '/proc/self/ns/net' : `/run/netns/${netns}`;
}

/** Interface names in an SLL2 filter: only names that exist, as `ifindex N` primitives. */
function interfaceFilter(names: readonly string[], links: readonly LinkInfo[], netns: string | null): string {
  const idx: number[] = [];
  for (const name of names) {
    const l = links.find((x) => x.name === name);
    if (!l) {
      throw new CaptureError('UNKNOWN_INTERFACE', `no interface named ${name}${netns ? ` in namespace ${netns}` : ''}`,
        `interfaces here: any, ${links.map((x) => x.name).join(', ')}`, { interface: name, netns });
    }
    idx.push(l.ifindex);
  }
  return idx.map((i) => `ifindex ${i}`).join(' or ');
}

/**
 * Starts a live capture and resolves once the engine is listening (so traffic sent after
 * this resolves is seen). Throws PrivilegeError, MissingDependencyError, CaptureError
 * (UNKNOWN_INTERFACE, BAD_FILTER, NETNS_NOT_FOUND) before anything is captured.
 */
export async function startCapture(options: LiveCaptureOptions = {}): Promise<LiveCapture> {
  const netns = options.netns ?? null;
  const names = (options.interfaces ?? ['any']).filter((n) => n !== '');
  const wantAll = names.length === 0 || names.includes('any');
  // A missing tcpdump is said before a missing `ip` (which readLinks would hit first).
  if (options.engine === undefined) requireCaptureTools();
  const runner = options.runner ?? systemRunner;
  const links = options.links ?? await readLinks(netns, runner);
  const ifmap = ifmapOf(links);
  const notes: string[] = [];

  // Filter: the user's, NAT-followed, restricted to the asked interfaces (kernel-side, via
  // SLL2's ifindex so every packet keeps its interface and direction).
  const requestedFilter = (options.filter ?? '').trim();
  let filter = requestedFilter;
  let natTranslations: PortTranslation[] = [];
  if (requestedFilter !== '' && options.followNat !== false && /\bport\b/i.test(requestedFilter)) {
    const nat = options.natRulesText !== undefined ? { text: options.natRulesText, problem: null } : await readNatRules(netns, undefined, runner);
    if (nat.problem) notes.push(`not following NAT: ${nat.problem}`);
    const parsed = parseDnatRules(nat.text);
    const followed = followNatInFilter(requestedFilter, parsed.rules);
    filter = followed.filter;
    natTranslations = followed.translations;
    if (followed.message) notes.push(followed.message);
  }
  if (!wantAll) {
    const byIndex = interfaceFilter(names, links, netns);
    filter = filter === '' ? byIndex : `(${byIndex}) and (${filter})`;
  }

  // Attribution is looked up while tcpdump starts (over ssh each is a few round trips); it is
  // awaited before startCapture resolves. It never fails the capture: a failure is a note.
  const attributed: Promise<{ veths: VethAttribution[]; problems: string[] }> = options.attribute === false
    ? Promise.resolve({ veths: [], problems: [] })
    : attributeVeths(links, namespacePath(netns), { dockerSocket: options.dockerSocket, runner, source: options.namespaceSource })
      .catch((err: unknown) => ({ veths: [], problems: [`container attribution: ${(err as Error)?.message ?? String(err)}`] }));

  const engine = options.engine ?? tcpdumpEngine({ knownInterfaces: () => links.map((l) => l.name), runner });
  const proc: EngineProcess = engine.start({
    interface: 'any', filter, netns,
    // Packet-by-packet delivery only when someone looks at packets as they come.
    packetBuffered: options.live ?? options.onPacket !== undefined,
    // With buffered output a count must be enforced by tcpdump too (it flushes when it exits).
    maxPackets: options.maxPackets ?? null,
    lifetimeCapSec: options.maxDurationMs != null ? Math.ceil(options.maxDurationMs / 1000) + LIVE_DEFAULTS.lifetimeGraceSec : null,
    snaplenBytes: options.snaplenBytes ?? TCPDUMP_DEFAULTS.snaplenBytes,
    bufferKiB: options.bufferKiB ?? TCPDUMP_DEFAULTS.bufferKiB,
  });

  const maxKeptBytes = options.maxKeptBytes ?? LIVE_DEFAULTS.maxKeptBytes;
  const keep = options.keepPackets !== false;
  const kept = new KeptPackets(maxKeptBytes);
  const packets = kept.packets;
  const warnings: string[] = [];
  let keptTruncated = false;
  let packetCount = 0;
  let capturedBytes = 0;
  let state: LiveState = { kind: 'starting' };
  const startedMs = performance.now();
  let stopReason: StopReason | null = null;
  let timer: NodeJS.Timeout | undefined;

  const where = { ifindex: -1, interfaceName: null as string | null, direction: 'unknown' as LiveDirection };
  const parser = new CaptureParser({
    onPacket(record: PacketRecord) {
      if (stopReason === 'count' || stopReason === 'bytes') return; // tcpdump may flush a few more after a bound
      packetCount++;
      capturedBytes += record.capturedLength;
      if (record.linkType === LINKTYPE.LINUX_SLL2 && record.data.length >= SLL2_HEADER_LENGTH) {
        const d = record.data;
        where.ifindex = ((d[SLL2_IFINDEX_OFFSET] << 24) | (d[SLL2_IFINDEX_OFFSET + 1] << 16) | (d[SLL2_IFINDEX_OFFSET + 2] << 8) | d[SLL2_IFINDEX_OFFSET + 3]) >>> 0;
        where.direction = PKTTYPE_DIRECTION[d[SLL2_PKTTYPE_OFFSET]] ?? 'unknown';
        where.interfaceName = ifmap.get(where.ifindex) ?? null;
      } else {
        where.ifindex = -1; where.direction = 'unknown'; where.interfaceName = null;
      }
      options.onPacket?.(record, where);
      if (keep && !keptTruncated && !kept.keep(record, packetCount, where)) {
        keptTruncated = true;
        warnings.push(`kept the first ${packets.length} packets in memory (${maxKeptBytes} bytes: ${KEPT_PACKET_OVERHEAD_BYTES} per packet plus its bytes); later packets were counted, not kept`);
      }
      if (options.maxPackets != null && packetCount >= options.maxPackets) requestStop('count');
      else if (options.maxCapturedBytes != null && capturedBytes >= options.maxCapturedBytes) requestStop('bytes');
    },
    onWarning(message: string) { warnings.push(message); },
  });

  let parseError: Error | null = null;
  let pacedBack = false;
  const resumePaced = (): void => {
    if (!pacedBack) return;
    pacedBack = false;
    proc.output.resume();
  };
  proc.output.on('data', (chunk: Buffer) => {
    if (parseError) return;
    try { parser.push(chunk); } catch (err) { parseError = err as Error; requestStop('engine-exit'); }
    const paced = options.pace?.();
    if (paced && stopReason === null) {
      pacedBack = true;
      proc.output.pause();
      paced.then(resumePaced, resumePaced);
    }
  });
  const outputEnded = new Promise<void>((resolve) => {
    proc.output.on('end', resolve);
    proc.output.on('close', resolve);
    proc.output.on('error', () => resolve());
  });

  function requestStop(reason: StopReason): void {
    if (stopReason !== null) return;
    stopReason = reason;
    state = { kind: 'stopping', reason };
    clearTimeout(timer);
    resumePaced();
    if (reason === 'count' || reason === 'bytes' || reason === 'engine-exit') { proc.stop(); return; }
    // Let tcpdump drain the kernel ring first (see LIVE_DEFAULTS.stopQuietMs).
    // (No clock read per packet: the packet count is compared between timer ticks.)
    const askedMs = performance.now();
    let seenCount = packetCount;
    let quietSinceMs = askedMs;
    const drain = (): void => {
      const now = performance.now();
      if (packetCount !== seenCount) { seenCount = packetCount; quietSinceMs = now; }
      if (now - quietSinceMs >= LIVE_DEFAULTS.stopQuietMs || now - askedMs >= LIVE_DEFAULTS.stopDrainMaxMs) proc.stop();
      else setTimeout(drain, 25);
    };
    setTimeout(drain, 25);
  }

  const done: Promise<LiveCaptureResult> = (async () => {
    const exit = await proc.exited;
    await outputEnded;
    if (stopReason === null) { stopReason = 'engine-exit'; }
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
    let summary: ReadSummary | null = null;
    if (!parseError) {
      try { summary = parser.end(); } catch (err) { parseError = err as Error; }
    }
    if (parseError) warnings.push(`capture stream: ${parseError.message}`);
    if (stopReason === 'engine-exit' && exit.stats === null) {
      const line = exit.stderr.split('\n').map((l) => l.trim()).filter((l) => l && !/listening on|data link type/.test(l))[0];
      // Killed (OOM killer, kill -9) or exited without a word: say how, or nothing says why it stopped.
      warnings.push(`tcpdump stopped by itself: ${line ?? (exit.signal !== null ? `killed by ${exit.signal}` : `exit code ${exit.code}`)}`);
    }
    if (exit.stats && exit.stats.droppedByKernel > 0) {
      warnings.push(`${exit.stats.droppedByKernel} packets dropped by kernel (the capture buffer overflowed: try a smaller snaplen or a bigger -B)`);
    }
    const result: LiveCaptureResult = {
      packets, packetCount, capturedBytes, keptCostBytes: kept.costBytes, keptTruncated, stoppedBy: stopReason, kernel: exit.stats,
      summary, warnings, durationMs: performance.now() - startedMs,
    };
    state = { kind: 'stopped', result };
    return result;
  })();

  function onAbort(): void { requestStop('signal'); }

  try {
    await proc.ready;
  } catch (err) {
    await done; // the engine has exited: nothing is left running
    await attributed;
    // Name the interfaces the user asked for: tcpdump was told `-i any` (the ifindex filter
    // restricts it), so its refusal says "any" whatever was asked.
    if (err instanceof PrivilegeError) {
      const asked = `capturing on ${wantAll ? 'any' : names.join(', ')}${netns === null ? '' : ` in namespace ${netns}`}`;
      throw new PrivilegeError(asked, err.hint, { ...err.facts, interfaces: wantAll ? ['any'] : names, engineInterface: 'any', netns });
    }
    // Name the filter the user wrote; the one tcpdump got (NAT, ifindex) is in the facts.
    if (err instanceof CaptureError && err.code === 'BAD_FILTER' && filter !== requestedFilter) {
      const libpcap = String(err.facts.libpcap ?? err.message);
      throw new CaptureError('BAD_FILTER', `bad capture filter '${requestedFilter}': ${libpcap}`, err.hint, { ...err.facts, effectiveFilter: filter });
    }
    throw err;
  }
  const attribution = await attributed;
  notes.push(...attribution.problems);
  state = { kind: 'listening', sinceMs: performance.now() };
  if (options.signal) {
    if (options.signal.aborted) requestStop('signal');
    else options.signal.addEventListener('abort', onAbort, { once: true });
  }
  if (options.maxDurationMs != null) {
    timer = setTimeout(() => requestStop('duration'), options.maxDurationMs);
  }

  return {
    pid: proc.pid,
    argv: proc.argv,
    requestedFilter,
    effectiveFilter: filter,
    natTranslations,
    notes,
    links,
    ifmap,
    veths: attribution.veths,
    get state() { return state; },
    stop() { requestStop('stop'); return done; },
    done,
  };
}
